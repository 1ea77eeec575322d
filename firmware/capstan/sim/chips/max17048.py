"""MAX17048 fuel gauge at register level, reading a SimBattery.

16-bit registers, MSB at the even address. The gauge samples the cell every
250 ms when active and every 45 s when hibernating; VCELL, SOC and CRATE
change only then. Alerts (STATUS and CONFIG.ALRT) are set as the datasheet
describes and cleared only by the host. Hibernation is simplified: HIBRT
0xFFFF forces it, 0x0000 forbids it, otherwise the gauge hibernates after
6 minutes with |CRATE| below HibThr and wakes as soon as it is above.
"""

from __future__ import annotations

from capstan.sim.chips.battery import SimBattery
from capstan.sim.i2c import RegisterModel

VCELL, SOC, MODE, VERSION, HIBRT, CONFIG, VALRT, CRATE, VRESET_ID, STATUS, CMD = (
    0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x14, 0x16, 0x18, 0x1A, 0xFE)
READ_ONLY = {VCELL, SOC, VERSION, CRATE}
POR = {MODE: 0x0000, VERSION: 0x0012, HIBRT: 0x8030, CONFIG: 0x971C, VALRT: 0x00FF,
       VRESET_ID: 0x9600, STATUS: 0x0100, CMD: 0xFFFF}

ACTIVE_PERIOD = 0.25      # s between samples, awake
HIBERNATE_PERIOD = 45.0   # s between samples, hibernating
HIBERNATE_AFTER = 360.0   # s of low |CRATE| before it hibernates

_RI, _VH, _VL, _HD, _SC = 0x01, 0x02, 0x04, 0x10, 0x20   # STATUS high-byte bits


class MAX17048Model(RegisterModel):
    name = "max17048"

    def __init__(self, battery: SimBattery, chip_id: int = 0x4B) -> None:
        super().__init__()
        self.battery = battery
        self.soc_error = 0.0      # % the ModelGauge estimate is off from the truth
        self.words: dict[int, int] = {}
        self._chip_id = chip_id
        self._since_sample = 0.0
        self._quiet = 0.0
        self._hibernating = False
        self._last_soc_whole: int | None = None
        self.reset()

    def reset(self) -> None:
        self.words = dict(POR)
        self.words[VRESET_ID] = (POR[VRESET_ID] & 0xFF00) | (self._chip_id & 0xFF)
        self._hibernating = False
        self._quiet = 0.0
        self._last_soc_whole = None
        self.sample()

    # register access -----------------------------------------------------------
    def read_register(self, register: int) -> int:
        word = self.words.get(register & 0xFE, 0)
        if register == MODE:
            word = (word & ~0x1000) | (0x1000 if self._hibernating else 0)
            return word >> 8
        return (word >> 8) & 0xFF if register % 2 == 0 else word & 0xFF

    def write_register(self, register: int, value: int) -> None:
        base = register & 0xFE
        if base in READ_ONLY or (register == VRESET_ID + 1):
            return
        word = self.words.get(base, 0)
        if register % 2 == 0:
            word = (word & 0x00FF) | ((value & 0xFF) << 8)
        else:
            word = (word & 0xFF00) | (value & 0xFF)
        self.words[base] = word
        if base == CMD and word == 0x5400:
            self.reset()
        elif base == MODE and word & 0x4000:       # quick-start: re-estimate from the voltage
            self.words[MODE] = word & ~0x4000
            self.sample()

    # behaviour -----------------------------------------------------------------
    @property
    def hibernating(self) -> bool:
        return self._hibernating

    def step(self, dt: float) -> None:
        self._update_hibernation(dt)
        self._since_sample += dt
        period = HIBERNATE_PERIOD if self._hibernating else ACTIVE_PERIOD
        if self._since_sample >= period:
            self._since_sample = 0.0
            self.sample()

    def charge_rate(self) -> float:
        """%/h, from the cell's current."""
        return self.battery.current * 1000.0 / self.battery.capacity_mah * 100.0

    def _update_hibernation(self, dt: float) -> None:
        hibrt = self.words[HIBRT]
        if hibrt in (0xFFFF, 0x0000):
            self._hibernating = hibrt == 0xFFFF
            return
        threshold = (hibrt & 0xFF) * 0.208
        if abs(self.charge_rate()) < threshold:
            self._quiet += dt
            self._hibernating = self._quiet >= HIBERNATE_AFTER
        else:
            self._quiet, self._hibernating = 0.0, False

    def sample(self) -> None:
        b = self.battery
        soc = min(255.99, max(0.0, b.percent + self.soc_error))
        self.words[VCELL] = min(0xFFFF, max(0, round(b.voltage / 78.125e-6)))
        self.words[SOC] = round(soc * 256)
        self.words[CRATE] = round(self.charge_rate() / 0.208) & 0xFFFF
        self._alerts(b.voltage, soc)

    def _alerts(self, volts: float, soc: float) -> None:
        flags = 0
        valrt, config = self.words[VALRT], self.words[CONFIG]
        if volts < (valrt >> 8) * 0.020:
            flags |= _VL
        if volts > (valrt & 0xFF) * 0.020:
            flags |= _VH
        if soc < 32 - (config & 0x1F):
            flags |= _HD
        whole = int(soc)
        if config & 0x40 and self._last_soc_whole is not None and whole != self._last_soc_whole:
            flags |= _SC
        self._last_soc_whole = whole
        if flags:
            self.words[STATUS] |= flags << 8
        if self.words[STATUS] & 0x3F00:
            self.words[CONFIG] |= 0x0020
