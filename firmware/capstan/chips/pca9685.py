"""PCA9685: the 16-channel, 12-bit PWM driver of the LEDs, I2C address 0x40.

Each channel has ON and OFF counts (0..4095) in a 4096-step period; bit 4 of
ON_H is "full on" and bit 4 of OFF_H "full off". The period comes from the
25 MHz oscillator and PRE_SCALE, which can only be written while the chip
sleeps. Datasheet: NXP PCA9685 Rev. 4.

The chip has no identity register: start-up checks that it answers and that
PRE_SCALE reads back what was written into it.
"""

from __future__ import annotations

import logging
import time

from capstan.chips.register import ChipDriver, Register, check_range
from capstan.hardware.protocols import I2CBus

log = logging.getLogger(__name__)

ADDRESS = 0x40
OSCILLATOR = 25_000_000        # Hz, internal
CHANNELS = 16
STEPS = 4096

_MODE1 = 0x00
_MODE2 = 0x01
_LED0 = 0x06                   # LEDn_ON_L at 0x06 + 4n, then ON_H, OFF_L, OFF_H
_PRE_SCALE = 0xFE
_MODE1_RESTART = 0x80
_MODE1_AI = 0x20               # auto-increment: block writes walk through the registers
_MODE1_SLEEP = 0x10
_MODE2_OUTDRV = 0x04           # totem-pole outputs
_FULL = 0x10                   # bit 4 of ON_H / OFF_H


class PCA9685(ChipDriver):
    chip = "PCA9685"
    what = "LED driver"

    _mode1 = Register(_MODE1)
    _mode2 = Register(_MODE2)
    _prescale = Register(_PRE_SCALE)

    def __init__(self, bus: I2CBus, address: int = ADDRESS, frequency: float = 1000.0) -> None:
        super().__init__(bus, address)
        self.identify(_MODE1)
        self.write_register(_MODE1, _MODE1_AI | _MODE1_SLEEP)   # outputs stop while we set up
        self.write_register(_MODE2, _MODE2_OUTDRV)
        self._duty = [0.0] * CHANNELS
        self.frequency = frequency
        if self._prescale != _prescale_for(frequency):
            raise self.not_found("PRE_SCALE does not read back what was written")
        for ch in range(CHANNELS):
            self.set_duty(ch, 0.0)

    @property
    def frequency(self) -> float:
        """PWM frequency in Hz (25 MHz / 4096 / (PRE_SCALE + 1))."""
        return OSCILLATOR / STEPS / (self._prescale + 1)

    @frequency.setter
    def frequency(self, hz: float) -> None:
        check_range("PWM frequency", hz, 24, 1526, "Hz")
        mode1 = self._mode1 & ~_MODE1_RESTART
        self._mode1 = mode1 | _MODE1_SLEEP
        self._prescale = _prescale_for(hz)
        self._mode1 = mode1 & ~_MODE1_SLEEP
        time.sleep(0.0005)  # the oscillator needs 500 us before RESTART
        self._mode1 = (mode1 & ~_MODE1_SLEEP) | _MODE1_RESTART

    def duty(self, channel: int) -> float:
        """The channel's duty cycle 0..1, read back from the chip."""
        self._check_channel(channel)
        on_l, on_h, off_l, off_h = self.bus.read_i2c_block_data(self.address,
                                                                _LED0 + 4 * channel, 4)
        if off_h & _FULL:
            return 0.0
        if on_h & _FULL:
            return 1.0
        on, off = ((on_h & 0xF) << 8) | on_l, ((off_h & 0xF) << 8) | off_l
        return ((off - on) % STEPS) / STEPS

    def set_duty(self, channel: int, duty: float) -> None:
        """Duty cycle 0..1 (12 bits; 0 and 1 use the full-off and full-on bits)."""
        self._check_channel(channel)
        check_range(f"duty of channel {channel}", duty, 0.0, 1.0, "")
        count = round(duty * STEPS)
        if count <= 0:
            data = [0, 0, 0, _FULL]
        elif count >= STEPS:
            data = [0, _FULL, 0, 0]
        else:
            data = [0, 0, count & 0xFF, count >> 8]
        self.bus.write_i2c_block_data(self.address, _LED0 + 4 * channel, data)
        self._duty[channel] = min(1.0, max(0.0, count / STEPS))

    def channel(self, channel: int) -> LedChannel:
        """One channel as a capstan.hardware.protocols.PwmOut."""
        self._check_channel(channel)
        return LedChannel(self, channel)

    def _check_channel(self, channel: int) -> None:
        if not 0 <= channel < CHANNELS:
            raise ValueError(f"PCA9685 channel {channel} does not exist: channels are 0..15")


def _prescale_for(hz: float) -> int:
    return max(3, min(255, round(OSCILLATOR / (STEPS * hz)) - 1))


class LedChannel:
    """A PwmOut on one PCA9685 channel. An LED must not stop the player: a write that the
    bus refuses three times is logged and tried again with the next write."""

    ATTEMPTS = 3

    def __init__(self, driver: PCA9685, channel: int) -> None:
        self.driver, self.number = driver, channel
        self._value = 0.0

    def write(self, duty: float) -> None:
        duty = min(1.0, max(0.0, float(duty)))
        self._value = duty
        for attempt in range(self.ATTEMPTS):
            try:
                self.driver.set_duty(self.number, duty)
                return
            except OSError as exc:
                if attempt == self.ATTEMPTS - 1:
                    log.warning("LED channel %d not set (%s)", self.number, exc)

    @property
    def value(self) -> float:
        return self._value

    def close(self) -> None:
        self.write(0.0)


LedDriver = PCA9685
