"""Register-level models of the board's I2C chips, and the simulated battery.

`attach_power_models(bus, board, ...)` puts the fuel gauge, the charger and the
LED driver on a SimI2CBus at the addresses of hardware/board.toml. The deck
steps the bus; the charger model steps the battery. The simulator sets
`models.battery.load_current` (A) from what the player is doing, and
`models.charger.plugged` from the scenario's `[battery] charger`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from capstan.hardware.description import BoardDescription
from capstan.sim.chips.battery import SimBattery
from capstan.sim.chips.bq25895 import BQ25895Model
from capstan.sim.chips.max17048 import MAX17048Model
from capstan.sim.chips.pca9685 import PCA9685Model
from capstan.sim.i2c import SimI2CBus

__all__ = ["BQ25895Model", "MAX17048Model", "PCA9685Model", "PowerModels", "SimBattery",
           "attach_power_models", "player_load"]

# Amperes from the cell (through a ~90 % efficient 5 V boost); estimates for the reference
# build, see docs/power.md. capstan.power.config's typical currents agree with them.
IDLE_CURRENT = 0.20        # Pi Zero 2 W, DAC, ADC, LEDs
MOTOR_CURRENT = 0.26       # at duty 1.0 (playing at duty 0.5: 0.13 A)
RECORD_CURRENT = 0.15      # record amplifier, bias oscillator, capture and DSP
RADIO_CURRENT = 0.10       # Bluetooth A2DP streaming


def player_load(outputs: Mapping[str, float], bluetooth: bool = False) -> float:
    """The current the player draws, from its output pins (as SimDeck.outputs holds them)."""
    load = IDLE_CURRENT + MOTOR_CURRENT * float(outputs.get("motor", 0.0))
    if outputs.get("record_relay"):
        load += RECORD_CURRENT
    if bluetooth:
        load += RADIO_CURRENT
    return load


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
