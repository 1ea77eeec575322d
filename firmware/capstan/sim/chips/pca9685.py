"""PCA9685 LED driver at register level.

Honours what a driver can get wrong: block transfers walk through the
registers only with MODE1.AI set (otherwise every byte lands on the first
register), PRE_SCALE is written only while MODE1.SLEEP is set, the outputs
are off while the oscillator sleeps, full-on/full-off bits win over the
counts, ALL_LED (0xFA..0xFD) writes every channel. `on_change(channel, duty)`
is called whenever what a channel puts out changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from capstan.sim.i2c import RegisterModel

MODE1, MODE2, LED0, ALL_LED, PRE_SCALE = 0x00, 0x01, 0x06, 0xFA, 0xFE
CHANNELS = 16
_AI, _SLEEP, _RESTART, _FULL = 0x20, 0x10, 0x80, 0x10


class PCA9685Model(RegisterModel):
    name = "pca9685"

    def __init__(self, on_change: Callable[[int, float], None] | None = None) -> None:
        super().__init__()
        self.on_change = on_change
        self.registers = {MODE1: 0x11, MODE2: 0x04, PRE_SCALE: 0x1E}
        for ch in range(CHANNELS):
            self.registers[LED0 + 4 * ch + 3] = _FULL        # LEDn_OFF_H: full off
        self._out = [0.0] * CHANNELS

    @property
    def frequency(self) -> float:
        return 25_000_000 / 4096 / (self.registers[PRE_SCALE] + 1)

    def duty(self, channel: int) -> float:
        """What the channel puts out now, 0..1."""
        return self._out[channel]

    def read(self, register: int, length: int) -> list[int]:
        if self.registers[MODE1] & _AI:
            return super().read(register, length)
        return [self.read_register(register)] * length

    def write(self, register: int, data: Sequence[int]) -> None:
        ai = self.registers[MODE1] & _AI
        for i, value in enumerate(data):
            self.write_register((register + i) & 0xFF if ai else register, value)
        self._refresh()

    def write_register(self, register: int, value: int) -> None:
        value &= 0xFF
        if register == PRE_SCALE:
            if self.registers[MODE1] & _SLEEP:
                self.registers[PRE_SCALE] = max(3, value)
            return
        if register == MODE1:
            value &= ~_RESTART          # writing RESTART clears it
        if ALL_LED <= register < ALL_LED + 4:
            for ch in range(CHANNELS):
                self.registers[LED0 + 4 * ch + register - ALL_LED] = value
            return
        self.registers[register] = value

    def _refresh(self) -> None:
        sleeping = self.registers[MODE1] & _SLEEP
        for ch in range(CHANNELS):
            duty = 0.0 if sleeping else self._channel_duty(ch)
            if duty != self._out[ch]:
                self._out[ch] = duty
                if self.on_change:
                    self.on_change(ch, duty)

    def _channel_duty(self, ch: int) -> float:
        r = self.registers
        base = LED0 + 4 * ch
        on_l, on_h, off_l, off_h = (r.get(base + i, 0) for i in range(4))
        if off_h & _FULL:
            return 0.0
        if on_h & _FULL:
            return 1.0
        on, off = ((on_h & 0xF) << 8) | on_l, ((off_h & 0xF) << 8) | off_l
        return ((off - on) % 4096) / 4096
