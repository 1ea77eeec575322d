"""MAX17048: the 1S Li-ion fuel gauge (ModelGauge), I2C address 0x36.

Registers are 16 bits, MSB first. Values out are SI units (V, %, %/h);
the LSB of each register is given next to it. Datasheet: Maxim MAX17048/9,
19-6171 Rev 4.
"""

from __future__ import annotations

from capstan.chips.register import Bit, Bits, ChipDriver, Register, check_range
from capstan.hardware.protocols import I2CBus

ADDRESS = 0x36

_VCELL = 0x02
_SOC = 0x04
_MODE = 0x06
_VERSION = 0x08
_HIBRT = 0x0A
_CONFIG = 0x0C
_VALRT = 0x14
_CRATE = 0x16
_STATUS = 0x1A

VCELL_LSB = 78.125e-6      # V per LSB
SOC_LSB = 1 / 256          # % per LSB
CRATE_LSB = 0.208          # %/h per LSB
HIBTHR_LSB = 0.208         # %/h per LSB
ACTTHR_LSB = 1.25e-3       # V per LSB
VALRT_LSB = 0.020          # V per LSB

# STATUS high byte: why the ALRT pin fired
ALERT_FLAGS = {
    "reset": 0,            # RI: powered up or reset, not configured yet
    "voltage_high": 1,     # VH: VCELL above VALRT.MAX
    "voltage_low": 2,      # VL: VCELL below VALRT.MIN
    "voltage_reset": 3,    # VR: VCELL fell below VRESET
    "soc_low": 4,          # HD: SOC below the empty-alert threshold
    "soc_change": 5,       # SC: SOC changed by 1 %
}


class MAX17048(ChipDriver):
    chip = "MAX17048"
    what = "fuel gauge"

    _vcell = Register(_VCELL, 2, read_only=True)
    _soc = Register(_SOC, 2, read_only=True)
    _version = Register(_VERSION, 2, read_only=True)
    _crate = Register(_CRATE, 2, signed=True, read_only=True)
    _quick_start = Bit(_MODE, 14, width=2)
    _hibernating = Bit(_MODE, 12, width=2, read_only=True)
    _hibrt = Register(_HIBRT, 2)
    _act_thr = Bits(_HIBRT, 8, 8, width=2)
    _hib_thr = Bits(_HIBRT, 0, 8, width=2)
    _alert = Bit(_CONFIG, 5, width=2)
    _soc_change_alert = Bit(_CONFIG, 6, width=2)
    _athd = Bits(_CONFIG, 0, 5, width=2)        # empty alert at (32 - ATHD) %
    _valrt_min = Bits(_VALRT, 8, 8, width=2)
    _valrt_max = Bits(_VALRT, 0, 8, width=2)
    _status = Bits(_STATUS, 8, 6, width=2)       # RI..SC; EnVr (bit 14) is left alone

    def __init__(self, bus: I2CBus, address: int = ADDRESS) -> None:
        super().__init__(bus, address)
        version = self.identify(_VERSION, 2)
        if version & 0xFFF0 != 0x0010:
            raise self.not_found(f"VERSION reads 0x{version:04x}, a MAX17048 reads 0x001x")

    # measurements -----------------------------------------------------------
    @property
    def cell_voltage(self) -> float:
        """Cell voltage in volts."""
        return self._vcell * VCELL_LSB

    @property
    def state_of_charge(self) -> float:
        """State of charge in percent (ModelGauge; may read a little above 100)."""
        return self._soc * SOC_LSB

    @property
    def charge_rate(self) -> float:
        """Rate of change of the state of charge in %/h (negative while discharging)."""
        return self._crate * CRATE_LSB

    @property
    def version(self) -> int:
        return self._version

    # hibernation --------------------------------------------------------------
    @property
    def hibernation_threshold(self) -> float:
        """Below this |charge rate| (%/h) for 6 minutes, the gauge hibernates."""
        return self._hib_thr * HIBTHR_LSB

    @hibernation_threshold.setter
    def hibernation_threshold(self, rate: float) -> None:
        check_range("hibernation threshold", rate, 0, 255 * HIBTHR_LSB, "%/h", "0.208 %/h")
        self._hib_thr = round(rate / HIBTHR_LSB)

    @property
    def activity_threshold(self) -> float:
        """A cell-voltage change above this (V) wakes the gauge from hibernation."""
        return self._act_thr * ACTTHR_LSB

    @activity_threshold.setter
    def activity_threshold(self, volts: float) -> None:
        check_range("activity threshold", volts, 0, 255 * ACTTHR_LSB, "V", "1.25 mV")
        self._act_thr = round(volts / ACTTHR_LSB)

    def hibernate(self) -> None:
        """Hibernate now and stay (HIBRT = 0xFFFF): samples every 45 s instead of 250 ms."""
        self._hibrt = 0xFFFF

    def wake(self) -> None:
        """Never hibernate (HIBRT = 0x0000)."""
        self._hibrt = 0x0000

    @property
    def hibernating(self) -> bool:
        return self._hibernating

    def quick_start(self) -> None:
        """Restart the fuel-gauge estimate from the cell voltage now."""
        self._quick_start = True

    # alerts -----------------------------------------------------------------
    @property
    def voltage_alert_min(self) -> float:
        """Alert when the cell voltage falls below this (V)."""
        return self._valrt_min * VALRT_LSB

    @voltage_alert_min.setter
    def voltage_alert_min(self, volts: float) -> None:
        check_range("low-voltage alert", volts, 0, 255 * VALRT_LSB, "V", "20 mV")
        self._valrt_min = round(volts / VALRT_LSB)

    @property
    def voltage_alert_max(self) -> float:
        """Alert when the cell voltage rises above this (V)."""
        return self._valrt_max * VALRT_LSB

    @voltage_alert_max.setter
    def voltage_alert_max(self, volts: float) -> None:
        check_range("high-voltage alert", volts, 0, 255 * VALRT_LSB, "V", "20 mV")
        self._valrt_max = round(volts / VALRT_LSB)

    @property
    def empty_alert_threshold(self) -> int:
        """Alert when the state of charge falls below this (whole %, 1..32)."""
        return 32 - self._athd

    @empty_alert_threshold.setter
    def empty_alert_threshold(self, percent: int) -> None:
        check_range("empty alert threshold", percent, 1, 32, "%", "1 %")
        self._athd = 32 - int(percent)

    @property
    def soc_change_alert(self) -> bool:
        """Alert on every 1 % change of the state of charge."""
        return self._soc_change_alert

    @soc_change_alert.setter
    def soc_change_alert(self, on: bool) -> None:
        self._soc_change_alert = on

    @property
    def alert(self) -> bool:
        """The ALRT flag (the pin is low while it is set)."""
        return self._alert

    @property
    def alert_reasons(self) -> set[str]:
        status = self._status
        return {name for name, bit in ALERT_FLAGS.items() if status & (1 << bit)}

    def clear_alert(self) -> None:
        """Clear every reason and the ALRT flag (the pin goes high)."""
        self._status = 0
        self._alert = False
