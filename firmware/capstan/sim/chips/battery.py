"""A simple 1S Li-ion cell: capacity, open-circuit voltage curve, internal resistance.

The simulator sets `load_current` (what the player draws); the charger model
sets `charger_current` (what the charger delivers to the system node while it
has input power, load included). The net difference flows into the cell.
`step(dt)` advances it; the charger model calls it (see
capstan.sim.chips.attach_power_models), so the deck only steps the bus.
"""

from __future__ import annotations

from bisect import bisect_right

# (state of charge %, open-circuit volts): a typical NMC 18650 at room temperature
OCV_CURVE = (
    (0.0, 3.00), (2.0, 3.30), (5.0, 3.45), (10.0, 3.60), (15.0, 3.65), (20.0, 3.69),
    (30.0, 3.74), (40.0, 3.78), (50.0, 3.82), (60.0, 3.87), (70.0, 3.93), (80.0, 4.00),
    (90.0, 4.08), (100.0, 4.20),
)
_SOCS = [s for s, _ in OCV_CURVE]


class SimBattery:
    def __init__(self, capacity_mah: float = 2500.0, percent: float = 80.0,
                 internal_resistance: float = 0.12) -> None:
        if capacity_mah <= 0:
            raise ValueError("battery capacity must be positive (mAh)")
        if not 0 <= percent <= 100:
            raise ValueError(f"battery percent must be 0..100, got {percent}")
        self.capacity_mah = float(capacity_mah)
        self.internal_resistance = float(internal_resistance)
        self.charge_mah = self.capacity_mah * percent / 100
        self.load_current = 0.0       # A, set by the simulator
        self.charger_current = 0.0    # A, set by the charger model
        self.connected = True         # False once the charger's BATFET cut the cell off

    @property
    def percent(self) -> float:
        """True state of charge, 0..100."""
        return 100.0 * self.charge_mah / self.capacity_mah

    @percent.setter
    def percent(self, value: float) -> None:
        self.charge_mah = self.capacity_mah * min(100.0, max(0.0, value)) / 100

    @property
    def current(self) -> float:
        """Net current into the cell in A (negative while it discharges)."""
        if not self.connected:
            return 0.0
        if self.charge_mah <= 0 and self.charger_current < self.load_current:
            return 0.0  # empty: the system browns out rather than the cell going below 0 %
        return self.charger_current - self.load_current

    @property
    def open_circuit_voltage(self) -> float:
        soc = self.percent
        i = min(max(bisect_right(_SOCS, soc), 1), len(OCV_CURVE) - 1)
        (s0, v0), (s1, v1) = OCV_CURVE[i - 1], OCV_CURVE[i]
        return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)

    @property
    def voltage(self) -> float:
        """Terminal voltage: OCV plus the drop (or rise) across the internal resistance."""
        return self.open_circuit_voltage + self.current * self.internal_resistance

    def step(self, dt: float) -> None:
        self.charge_mah += self.current * 1000.0 * dt / 3600.0
        self.charge_mah = min(self.capacity_mah, max(0.0, self.charge_mah))
