"""Every driver runs against its register model on a SimI2CBus."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from capstan.sim.chips import SimBattery
from capstan.sim.chips.bq25895 import BQ25895Model
from capstan.sim.chips.max17048 import MAX17048Model
from capstan.sim.chips.pca9685 import PCA9685Model
from capstan.sim.i2c import SimI2CBus


@pytest.fixture
def bus() -> SimI2CBus:
    return SimI2CBus(seed=1)


@pytest.fixture
def battery() -> SimBattery:
    return SimBattery(capacity_mah=2000, percent=50)


@pytest.fixture
def gauge_model(bus: SimI2CBus, battery: SimBattery) -> MAX17048Model:
    return bus.attach(0x36, MAX17048Model(battery))  # type: ignore[return-value]


@pytest.fixture
def charger_model(bus: SimI2CBus, battery: SimBattery) -> BQ25895Model:
    return bus.attach(0x6A, BQ25895Model(battery))  # type: ignore[return-value]


@pytest.fixture
def led_model(bus: SimI2CBus) -> PCA9685Model:
    return bus.attach(0x40, PCA9685Model())  # type: ignore[return-value]


@pytest.fixture
def run() -> Callable[[SimI2CBus, float], None]:
    """Advance every model on the bus by `seconds` of simulated time."""
    def advance(bus: SimI2CBus, seconds: float, dt: float = 0.05) -> None:
        for _ in range(round(seconds / dt)):
            bus.step(dt)

    return advance
