"""BQ25895 charger at register level, charging a SimBattery from a simulated USB input.

What it models: the input (`plugged`), power path (the input feeds the
system first, up to its current limit; the cell makes up the rest),
pre-charge / constant current / constant voltage / termination / recharge,
the status and fault registers (REG0C latches and clears on read), the ADC
(continuous once a second, or one-shot), ship mode (BATFET off), and the
I2C watchdog: after the host's first write it must be kicked (WD_RST) within
the watchdog time, or the charge settings return to their defaults, the
WATCHDOG_FAULT bit latches and the chip stays in default mode until the host
writes again. Fault injection: `inject_fault("input"|"thermal"|"safety_timer"|
"battery_overvoltage"|"hot"|"cold")`, `clear_faults()`.
"""

from __future__ import annotations

from capstan.sim.chips.battery import SimBattery
from capstan.sim.i2c import RegisterModel

POR = {0x00: 0x48, 0x01: 0x06, 0x02: 0x3D, 0x03: 0x1A, 0x04: 0x20, 0x05: 0x13, 0x06: 0x5E,
       0x07: 0x9D, 0x08: 0x00, 0x09: 0x44, 0x0A: 0x93, 0x0D: 0x12, 0x14: 0x39}
RESET_ON_WATCHDOG = (0x00, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09)
READ_ONLY = range(0x0B, 0x14)
WATCHDOG_TIMES = (None, 40.0, 80.0, 160.0)
ADC_PERIOD = 1.0            # s per conversion
PHYSICS_PERIOD = 0.1        # s between updates of the charge and the cell (the deck ticks faster)
SHIP_MODE_DELAY = 12.0      # s (10..15 s in the datasheet)
PRECHARGE_BELOW = 3.0       # V (BATLOWV)
EFFICIENCY = 0.9
FAULT_BITS = {"input": 0x10, "thermal": 0x20, "safety_timer": 0x30,
              "battery_overvoltage": 0x08, "hot": 0x06, "cold": 0x05}


class BQ25895Model(RegisterModel):
    name = "bq25895"

    def __init__(self, battery: SimBattery, plugged: bool = False,
                 input_voltage: float = 5.0) -> None:
        super().__init__()
        self.battery = battery
        self.plugged = plugged
        self.input_voltage = input_voltage
        self.time = 0.0
        self.kicks: list[float] = []          # model time of every WD_RST
        self.watchdog_expiries = 0
        self.faults: set[str] = set()
        self._latched = 0
        self._host_mode = False
        self._watchdog_left: float | None = None
        self._adc_left = ADC_PERIOD
        self._ship_left: float | None = None
        self._done = False
        self._phase = "not_charging"
        self._ichg = 0.0
        self._pending = 0.0
        self.registers = dict(POR)
        self._update_status()
        self._convert()

    # register access ----------------------------------------------------------
    def read_register(self, register: int) -> int:
        if register == 0x0C:
            value = self._latched | self._fault_now()
            self._latched = 0
            return value
        return self.registers.get(register, 0)

    def write_register(self, register: int, value: int) -> None:
        value &= 0xFF
        if register in READ_ONLY or register > 0x14:
            return
        if register == 0x14:
            if value & 0x80:
                self.registers.update(POR)
                self._host_mode, self._watchdog_left = False, None
            return
        timeout = WATCHDOG_TIMES[(value if register == 0x07 else self.registers[0x07]) >> 4 & 3]
        if register == 0x03 and value & 0x40:
            self.kicks.append(self.time)
            self._watchdog_left = timeout
            value &= ~0x40
        if register == 0x02 and value & 0x80:
            self._adc_left = ADC_PERIOD
        if register == 0x09 and value & 0x20 and self._ship_left is None:
            self._ship_left = SHIP_MODE_DELAY if value & 0x08 else 0.0
        self.registers[register] = value
        if not self._host_mode or register == 0x07:   # the first write starts the watchdog
            self._host_mode, self._watchdog_left = True, timeout

    # fault injection -------------------------------------------------------------
    def inject_fault(self, name: str) -> None:
        if name not in FAULT_BITS:
            raise ValueError(f"unknown charger fault {name!r} (known: {', '.join(FAULT_BITS)})")
        self.faults.add(name)

    def clear_faults(self) -> None:
        self.faults.clear()

    def _fault_now(self) -> int:
        bits = 0
        for name in self.faults:
            bits |= FAULT_BITS[name]
        if self.plugged and self.input_voltage < 3.9:
            bits |= FAULT_BITS["input"]
        return bits

    # behaviour ---------------------------------------------------------------------
    @property
    def input_ok(self) -> bool:
        return self.plugged and self.input_voltage >= 3.9 and not self.registers[0x00] & 0x80

    @property
    def ship_mode(self) -> bool:
        return not self.battery.connected

    @property
    def system_powered(self) -> bool:
        """Is anything still powering the Pi: the input or the cell through the BATFET."""
        return self.input_ok or (self.battery.connected and self.battery.charge_mah > 0)

    @property
    def charge_state(self) -> str:
        return self._phase

    def step(self, dt: float) -> None:
        self.time += dt
        self._run_watchdog(dt)
        self._pending += dt
        if self._pending < PHYSICS_PERIOD - 1e-9:
            return
        dt, self._pending = self._pending, 0.0
        self._run_ship_mode(dt)
        self._charge()
        self.battery.step(dt)
        self._update_status()
        self._adc_left -= dt
        if self._adc_left <= 0:
            self._adc_left += ADC_PERIOD
            if self.registers[0x02] & 0xC0:
                self._convert()
                self.registers[0x02] &= ~0x80

    def _run_watchdog(self, dt: float) -> None:
        if self._watchdog_left is None:
            return
        self._watchdog_left -= dt
        if self._watchdog_left <= 0:
            for reg in RESET_ON_WATCHDOG:
                self.registers[reg] = POR[reg]
            self._latched |= 0x80
            self.watchdog_expiries += 1
            self._host_mode, self._watchdog_left = False, None

    def _run_ship_mode(self, dt: float) -> None:
        if self._ship_left is None:
            return
        if self.plugged:                 # plugging in the adapter leaves ship mode
            self._ship_left = None
            self.battery.connected = True
            self.registers[0x09] &= ~0x20
            return
        self._ship_left -= dt
        if self._ship_left <= 0:
            self.battery.connected = False

    def _charge(self) -> None:
        b, regs = self.battery, self.registers
        if not self.input_ok:
            b.charger_current = 0.0
            self._done, self._phase, self._ichg = False, "not_charging", 0.0
            return
        ocv = b.open_circuit_voltage
        vreg = 3.840 + (regs[0x06] >> 2) * 0.016
        if self._done and ocv < vreg - 0.100:      # VRECHG: start again
            self._done = False
        available = (0.100 + (regs[0x00] & 0x3F) * 0.050) * self.input_voltage * EFFICIENCY
        available /= max(b.voltage, 3.0)
        enabled = regs[0x03] & 0x10 and not self._fault_now() & 0x30 and b.connected
        target, phase = 0.0, "not_charging"
        if enabled and not self._done:
            if ocv < PRECHARGE_BELOW:
                target, phase = 0.064 * ((regs[0x05] >> 4) + 1), "pre_charge"
            else:
                target, phase = (regs[0x04] & 0x7F) * 0.064, "fast_charge"
                cv_limit = max(0.0, (vreg - ocv) / b.internal_resistance)
                if cv_limit < target:
                    target = cv_limit
                    if target < 0.064 * ((regs[0x05] & 0x0F) + 1) and regs[0x07] & 0x80:
                        self._done, target, phase = True, 0.0, "done"
        elif self._done:
            phase = "done"
        ichg = min(target, available - b.load_current)   # negative: the cell helps the input
        b.charger_current = b.load_current + ichg
        self._phase, self._ichg = phase, max(0.0, ichg)

    def _update_status(self) -> None:
        vbus = 0b010 if self.plugged else 0b000
        chrg = ("not_charging", "pre_charge", "fast_charge", "done").index(self._phase)
        pg = 0x04 if self.input_ok else 0
        vsys = 0x01 if self.battery.voltage < 3.0 + ((self.registers[0x03] >> 1) & 7) * 0.1 else 0
        self.registers[0x0B] = (vbus << 5) | (chrg << 3) | pg | vsys
        good = 0x80 if self.plugged and self.input_voltage >= 3.9 else 0
        self.registers[0x11] = good | (self.registers.get(0x11, 0) & 0x7F)

    def _convert(self) -> None:
        def code(volts: float, offset: float, lsb: float) -> int:
            return min(0x7F, max(0, round((volts - offset) / lsb)))

        b = self.battery
        vsys = max(b.voltage, 3.0 + ((self.registers[0x03] >> 1) & 7) * 0.1) if self.input_ok \
            else b.voltage
        self.registers[0x0E] = code(b.voltage, 2.304, 0.020)
        self.registers[0x0F] = code(vsys, 2.304, 0.020)
        self.registers[0x10] = 0x40                           # TS at a comfortable 50 %
        vbus = code(self.input_voltage, 2.6, 0.1) if self.plugged else 0
        self.registers[0x11] = (self.registers.get(0x11, 0) & 0x80) | vbus
        self.registers[0x12] = code(self._ichg, 0.0, 0.050)
