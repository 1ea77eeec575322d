"""Buttons over simulated pins on a simulated-time loop: no deck, no audio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capstan.board.gpio import GpioInput
from capstan.devices.buttons import BUTTON_DEBOUNCE, Buttons, Gesture
from capstan.devices.debounce import DebouncedInput
from capstan.hardware.description import BoardDescription
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.pins import SimFactory


class Panel:
    def __init__(self, board: BoardDescription, held_at_start: tuple[str, ...] = ()) -> None:
        self.loop = SimulatedTimeLoop()
        self.factory = SimFactory(self.loop.time)
        self.board = board
        self.gestures: list[Gesture] = []
        inputs = {}
        for role, p in board.buttons.items():
            pin = GpioInput(self.factory, p.pin, self.loop, pull="up")
            self.set(role, role in held_at_start)
            inputs[role] = DebouncedInput(pin, p.active_low, self.loop, BUTTON_DEBOUNCE, role)
        self.buttons = Buttons(inputs, self.loop, self.gestures.append)
        self.buttons.start()

    def set(self, role: str, down: bool) -> None:
        p = self.board.buttons[role]
        self.factory.gpio(p.pin).drive(down != p.active_low)

    def at(self, t: float, role: str, down: bool) -> None:
        self.loop.call_at(t, self.set, role, down)

    def run_until(self, t: float) -> None:
        import asyncio

        if t > self.loop.time():
            self.loop.run_until_complete(asyncio.sleep(t - self.loop.time()))

    def actions(self, button: str | None = None) -> list[str]:
        return [g.action for g in self.gestures if button is None or g.button == button]


@pytest.fixture
def panel(board: BoardDescription) -> Iterator[Panel]:
    p = Panel(board)
    yield p
    p.loop.close()


@pytest.fixture
def make_panel(board: BoardDescription) -> Iterator:
    made: list[Panel] = []

    def make(held_at_start: tuple[str, ...] = ()) -> Panel:
        made.append(Panel(board, held_at_start))
        return made[-1]

    yield make
    for p in made:
        p.loop.close()
