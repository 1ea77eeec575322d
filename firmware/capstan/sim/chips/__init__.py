"""Register-level models of the board's I2C chips, and the simulated battery.

`attach_power_models(bus, board, ...)` puts the fuel gauge, the charger and the
LED driver on a SimI2CBus at the addresses of hardware/board.toml. The deck
steps the bus; the charger model steps the battery. The simulator sets
`models.battery.load_current` (A) from what the player is doing, and
`models.charger.plugged` from the scenario's `[battery] charger`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from capstan.board.description import BoardDescription
from capstan.sim.chips.battery import SimBattery
from capstan.sim.chips.bq25895 import BQ25895Model
from capstan.sim.chips.max17048 import MAX17048Model
from capstan.sim.chips.pca9685 import PCA9685Model
from capstan.sim.i2c import SimI2CBus

__all__ = ["BQ25895Model", "MAX17048Model", "PCA9685Model", "PowerModels", "SimBattery",
           "attach_power_models"]


@dataclass
class PowerModels:
    battery: SimBattery
    gauge: MAX17048Model
    charger: BQ25895Model
    leds: PCA9685Model


def attach_power_models(bus: SimI2CBus, board: BoardDescription, percent: float = 80.0,
                        charger: bool = False, capacity_mah: float = 2500.0,
                        on_led: Callable[[str, float], None] | None = None) -> PowerModels:
    """Gauge, charger and LED driver on `bus`; `on_led(role, duty)` when an LED changes."""
    battery = SimBattery(capacity_mah, percent)
    gauge = MAX17048Model(battery)
    charger_model = BQ25895Model(battery, plugged=charger)
    roles = {led.channel: role for role, led in board.leds.items()}

    def led_changed(channel: int, duty: float) -> None:
        if on_led and channel in roles:
            on_led(roles[channel], duty)

    leds = PCA9685Model(led_changed)
    for role, model in (("fuel_gauge", gauge), ("charger", charger_model)):
        bus.attach(board.i2c[role].address, model)
    bus.attach(board.i2c[board.led_driver].address, leds)
    return PowerModels(battery, gauge, charger_model, leds)
