"""BQ25895: the 1S Li-ion switch-mode charger with power path, I2C address 0x6A.

Registers are 8 bits (REG00..REG14). Values out are SI units; the LSB and
offset of each field are given next to it. Datasheet: TI SLUSC88.

The I2C watchdog: once the host writes a register, the chip expects a
WD_RST (`kick_watchdog()`) within the watchdog time (40 s by default);
otherwise it returns to its default, safe settings by itself, so a dead
daemon cannot leave a high charge current behind.
"""

from __future__ import annotations

from dataclasses import dataclass

from capstan.chips.register import Bit, Bits, ChipDriver, ChipRangeError, Register, check_range
from capstan.hardware.protocols import I2CBus

ADDRESS = 0x6A
PART_NUMBER = 0b111            # REG14[5:3] of a BQ25895

WATCHDOG_TIMEOUTS = (0.0, 40.0, 80.0, 160.0)   # s; REG07 WATCHDOG[5:4], 0 = disabled
CHARGE_STATES = ("not_charging", "pre_charge", "fast_charge", "done")
INPUT_SOURCES = {0b000: "none", 0b001: "usb_host", 0b010: "adapter", 0b111: "otg"}
CHARGE_FAULTS = ("normal", "input", "thermal", "safety_timer")
NTC_FAULTS = {0b000: "normal", 0b010: "warm", 0b011: "cool", 0b101: "cold", 0b110: "hot"}


@dataclass(frozen=True)
class ChargerFaults:
    """REG0C decoded. `plausible` is False for codes the chip never reports."""

    watchdog: bool = False     # the watchdog expired: settings are back to defaults
    boost: bool = False
    charge: str = "normal"     # normal | input | thermal | safety_timer
    battery: bool = False      # battery over-voltage
    ntc: str = "normal"        # normal | warm | cool | cold | hot | invalid

    @classmethod
    def from_raw(cls, raw: int) -> ChargerFaults:
        return cls(watchdog=bool(raw & 0x80), boost=bool(raw & 0x40),
                   charge=CHARGE_FAULTS[(raw >> 4) & 0x3], battery=bool(raw & 0x08),
                   ntc=NTC_FAULTS.get(raw & 0x7, "invalid"))

    @property
    def plausible(self) -> bool:
        return self.ntc != "invalid"

    @property
    def names(self) -> tuple[str, ...]:
        """The faults that stop or limit charging, by name (the watchdog is not one)."""
        out = []
        if self.charge != "normal":
            out.append(f"charge_{self.charge}")
        if self.battery:
            out.append("battery_overvoltage")
        if self.boost:
            out.append("boost")
        if self.ntc not in ("normal", "invalid"):
            out.append(f"temperature_{self.ntc}")
        return tuple(out)


@dataclass(frozen=True)
class ChargerStatus:
    """REG0B decoded from one read."""

    input_source: str          # none | usb_host | adapter | otg | unknown
    charge_state: str          # not_charging | pre_charge | fast_charge | done
    power_good: bool

    @classmethod
    def from_raw(cls, raw: int) -> ChargerStatus:
        return cls(INPUT_SOURCES.get(raw >> 5, "unknown"), CHARGE_STATES[(raw >> 3) & 0x3],
                   bool(raw & 0x04))

    @property
    def plausible(self) -> bool:
        """False for a combination the chip never reports (a corrupted read)."""
        charging = self.charge_state in ("pre_charge", "fast_charge")
        return self.input_source != "unknown" and not (charging and not self.power_good)


class BQ25895(ChipDriver):
    chip = "BQ25895"
    what = "charger"

    _hiz = Bit(0x00, 7)
    _iinlim = Bits(0x00, 0, 6)             # 50 mA per LSB, offset 100 mA
    _conv_start = Bit(0x02, 7)             # one ADC conversion; clears when done
    _conv_rate = Bit(0x02, 6)              # 1: convert continuously, once a second
    _wd_rst = Bit(0x03, 6)                 # write 1 to reset the watchdog; reads 0
    _chg_config = Bit(0x03, 4)
    _sys_min = Bits(0x03, 1, 3)            # 100 mV per LSB, offset 3.0 V
    _ichg = Bits(0x04, 0, 7)               # 64 mA per LSB
    _iterm = Bits(0x05, 0, 4)              # 64 mA per LSB, offset 64 mA
    _vreg = Bits(0x06, 2, 6)               # 16 mV per LSB, offset 3.840 V
    _watchdog = Bits(0x07, 4, 2)
    _batfet_dis = Bit(0x09, 5)
    _batfet_dly = Bit(0x09, 3)
    _status = Register(0x0B, read_only=True)
    _faults = Register(0x0C, read_only=True)   # latched faults; reading clears them
    _batv = Bits(0x0E, 0, 7, read_only=True)   # 20 mV per LSB, offset 2.304 V
    _sysv = Bits(0x0F, 0, 7, read_only=True)   # 20 mV per LSB, offset 2.304 V
    _vbus_good = Bit(0x11, 7, read_only=True)
    _vbusv = Bits(0x11, 0, 7, read_only=True)  # 100 mV per LSB, offset 2.6 V
    _ichgr = Bits(0x12, 0, 7, read_only=True)  # 50 mA per LSB
    _reg_rst = Bit(0x14, 7)
    _part_number = Bits(0x14, 3, 3, read_only=True)

    def __init__(self, bus: I2CBus, address: int = ADDRESS) -> None:
        super().__init__(bus, address)
        reg14 = self.identify(0x14)
        if (reg14 >> 3) & 0x7 != PART_NUMBER:
            raise self.not_found(f"REG14 reads 0x{reg14:02x}, a BQ25895 has part number 111")

    # limits --------------------------------------------------------------------
    @property
    def input_current_limit(self) -> float:
        """Most current drawn from the input (USB), in amperes."""
        return 0.100 + self._iinlim * 0.050

    @input_current_limit.setter
    def input_current_limit(self, amps: float) -> None:
        check_range("input current limit", amps, 0.1, 3.25, "A", "50 mA")
        self._iinlim = round((amps - 0.100) / 0.050)

    @property
    def charge_current_limit(self) -> float:
        """Fast-charge current into the cell, in amperes."""
        return self._ichg * 0.064

    @charge_current_limit.setter
    def charge_current_limit(self, amps: float) -> None:
        check_range("charge current limit", amps, 0.0, 5.056, "A", "64 mA")
        self._ichg = round(amps / 0.064)

    @property
    def charge_voltage_limit(self) -> float:
        """Cell voltage at which charging turns from constant current to constant voltage."""
        return 3.840 + self._vreg * 0.016

    @charge_voltage_limit.setter
    def charge_voltage_limit(self, volts: float) -> None:
        check_range("charge voltage limit", volts, 3.840, 4.608, "V", "16 mV")
        self._vreg = round((volts - 3.840) / 0.016)

    @property
    def termination_current(self) -> float:
        """Charging is done when the current in constant voltage falls below this (A)."""
        return 0.064 + self._iterm * 0.064

    @termination_current.setter
    def termination_current(self, amps: float) -> None:
        check_range("termination current", amps, 0.064, 1.024, "A", "64 mA")
        self._iterm = round((amps - 0.064) / 0.064)

    @property
    def minimum_system_voltage(self) -> float:
        return 3.0 + self._sys_min * 0.1

    @minimum_system_voltage.setter
    def minimum_system_voltage(self, volts: float) -> None:
        check_range("minimum system voltage", volts, 3.0, 3.7, "V", "100 mV")
        self._sys_min = round((volts - 3.0) / 0.1)

    @property
    def charging_enabled(self) -> bool:
        return self._chg_config

    @charging_enabled.setter
    def charging_enabled(self, on: bool) -> None:
        self._chg_config = on

    @property
    def high_impedance(self) -> bool:
        """Input disconnected on purpose (HIZ): the system runs from the cell."""
        return self._hiz

    @high_impedance.setter
    def high_impedance(self, on: bool) -> None:
        self._hiz = on

    # the I2C watchdog -----------------------------------------------------------
    @property
    def watchdog_timeout(self) -> float:
        """Seconds without a kick before the chip returns to defaults; 0 = disabled."""
        return WATCHDOG_TIMEOUTS[self._watchdog]

    @watchdog_timeout.setter
    def watchdog_timeout(self, seconds: float) -> None:
        if seconds not in WATCHDOG_TIMEOUTS:
            raise ChipRangeError(f"watchdog timeout {seconds:g} s is not one the BQ25895 has: "
                                 "choose 0 (disabled), 40, 80 or 160 s")
        self._watchdog = WATCHDOG_TIMEOUTS.index(seconds)

    def kick_watchdog(self) -> None:
        """Reset the I2C watchdog timer (WD_RST)."""
        self._wd_rst = True

    # ADC -----------------------------------------------------------------------
    @property
    def adc_continuous(self) -> bool:
        return self._conv_rate

    @adc_continuous.setter
    def adc_continuous(self, on: bool) -> None:
        self._conv_rate = on

    def start_adc(self) -> None:
        """One conversion of every ADC channel; `adc_busy` until it is done (about 1 s)."""
        self._conv_start = True

    @property
    def adc_busy(self) -> bool:
        return self._conv_start

    @property
    def battery_voltage(self) -> float:
        """BATV (V) from the ADC."""
        return 2.304 + self._batv * 0.020

    @property
    def system_voltage(self) -> float:
        """SYSV (V) from the ADC."""
        return 2.304 + self._sysv * 0.020

    @property
    def vbus_voltage(self) -> float:
        """VBUS (V) from the ADC."""
        return 2.6 + self._vbusv * 0.1

    @property
    def charge_current(self) -> float:
        """ICHGR (A) from the ADC: current into the cell."""
        return self._ichgr * 0.050

    # status ----------------------------------------------------------------------
    @property
    def input_present(self) -> bool:
        """A good input voltage is attached (VBUS_GD)."""
        return self._vbus_good

    def read_status(self) -> ChargerStatus:
        """Input source, charge state and power good from one read of REG0B."""
        return ChargerStatus.from_raw(self._status)

    @property
    def power_good(self) -> bool:
        return self.read_status().power_good

    @property
    def input_source(self) -> str:
        """none | usb_host | adapter | otg (VBUS_STAT); `unknown` for codes it never reports."""
        return self.read_status().input_source

    @property
    def charge_state(self) -> str:
        """not_charging | pre_charge | fast_charge | done (CHRG_STAT)."""
        return self.read_status().charge_state

    def read_faults(self) -> ChargerFaults:
        """Read REG0C. The chip clears latched faults on the read: a second read is current."""
        return ChargerFaults.from_raw(self._faults)

    # power -----------------------------------------------------------------------
    def ship_mode(self, delay: bool = True) -> None:
        """Disconnect the cell (BATFET off), after 10..15 s if `delay`: the last act of a
        power-off, so a halted Pi does not drain the cell. Input power undoes it."""
        self._batfet_dly = delay
        self._batfet_dis = True

    def reset(self) -> None:
        """Every register back to its default (REG_RST)."""
        self._reg_rst = True
