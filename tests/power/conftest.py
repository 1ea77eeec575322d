"""PowerService on simulated time against the register models of the board's chips."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from capstan.chips.pca9685 import LedDriver
from capstan.events import EventBus
from capstan.hardware.description import BoardDescription, load_board
from capstan.power.config import PowerConfig
from capstan.power.service import PowerService
from capstan.sim.chips import PowerModels, attach_power_models
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.i2c import SimI2CBus

STEP = 0.05  # s between model steps


@dataclass
class Rig:
    loop: SimulatedTimeLoop
    board: BoardDescription
    bus: SimI2CBus
    models: PowerModels
    events: EventBus
    log: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    detached: dict[int, Any] = field(default_factory=dict)

    def service(self, config: PowerConfig | None = None, **kw: Any) -> PowerService:
        led = LedDriver(self.bus, self.board.i2c["led_driver"].address)
        return PowerService(self.bus, self.events, config=config,
                            led=led.channel(self.board.leds["charge"].channel),
                            gauge_address=self.board.i2c["fuel_gauge"].address,
                            charger_address=self.board.i2c["charger"].address, **kw)

    def whats(self) -> list[str]:
        return [e["what"] for _, e in self.log if e["type"] == "power"]

    def power(self, what: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in self.log if e.get("what") == what]

    def at(self, t: float, action: Callable[[], Any]) -> None:
        self.loop.call_at(t, action)

    def detach(self, address: int) -> None:
        """The chip stops answering; it keeps running (its models still step)."""
        self.detached[address] = self.bus.devices.pop(address)

    def reattach(self, address: int) -> None:
        self.bus.attach(address, self.detached.pop(address))

    def run(self, body: Callable[[], Awaitable[Any]]) -> None:
        self.loop.run_until_complete(body())


@pytest.fixture
def rig_factory() -> Iterator[Callable[..., Rig]]:
    loops: list[SimulatedTimeLoop] = []

    def make(percent: float = 50.0, charger: bool = False, load: float = 0.3) -> Rig:
        loop = SimulatedTimeLoop()
        loops.append(loop)
        board = load_board()
        bus = SimI2CBus(seed=7)
        models = attach_power_models(bus, board, percent=percent, charger=charger)
        models.battery.load_current = load
        events = EventBus(loop.time)
        rig = Rig(loop, board, bus, models, events)
        events.subscribe(lambda t, e: rig.log.append((t, e.to_dict())))

        def tick() -> None:
            bus.step(STEP)
            for model in rig.detached.values():
                model.step(STEP)
            loop.call_later(STEP, tick)

        loop.call_soon(tick)
        return rig

    yield make
    for loop in loops:
        loop.close()
