"""A loop that runs late decides late, never wrongly: the buttons settle on the edges' own
times (the kernel's timestamps on the Pi), whenever the edges reach the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from capstan.devices.buttons import BUTTON_DEBOUNCE, LONG_PRESS, Buttons, Gesture
from capstan.devices.debounce import PATIENCE, DebouncedInput
from capstan.sim.clock import SimulatedTimeLoop


class Line:
    """A button's line whose edges reach the loop only when `deliver` is called, as from a
    GPIO library thread that the busy CPU let run late. Active low, pulled up."""

    def __init__(self, pin: int) -> None:
        self.pin, self.level = pin, True
        self.queued: list[tuple[bool, float]] = []
        self.callback = None

    def read(self) -> bool:
        return self.level

    def watch(self, callback) -> None:  # type: ignore[no-untyped-def]
        self.callback = callback

    def close(self) -> None:
        pass

    def set(self, level: bool, t: float) -> None:
        self.level = level
        self.queued.append((level, t))

    def deliver(self) -> None:
        queued, self.queued = self.queued, []
        for level, t in queued:
            self.callback(level, t)


class LatePanel:
    def __init__(self, names: tuple[str, ...]) -> None:
        self.loop = SimulatedTimeLoop()
        self.lines = {n: Line(k) for k, n in enumerate(names)}
        self.gestures: list[Gesture] = []
        inputs = {n: DebouncedInput(line, True, self.loop, BUTTON_DEBOUNCE, n)
                  for n, line in self.lines.items()}
        self.buttons = Buttons(inputs, self.loop, self.gestures.append)
        self.buttons.start()

    def run_until(self, t: float) -> None:
        if t > self.loop.time():
            self.loop.run_until_complete(asyncio.sleep(t - self.loop.time()))

    def deliver_all(self) -> None:
        for line in self.lines.values():
            line.deliver()

    def seen(self) -> list[tuple[str, str]]:
        return [(g.button, g.action) for g in self.gestures]


@pytest.fixture
def late() -> Iterator[LatePanel]:
    p = LatePanel(("play", "stop", "rec"))
    yield p
    p.loop.close()


def test_a_short_press_learnt_of_after_its_release_is_still_a_press(late) -> None:
    play = late.lines["play"]
    late.run_until(1.0)
    play.set(False, 1.0)
    play.set(True, 1.3)
    late.run_until(2.5)  # the loop was busy for over a second: nothing has reached it
    assert late.seen() == []
    late.deliver_all()
    late.run_until(2.6)
    assert late.seen() == [("play", "press"), ("play", "tap"), ("play", "release")]
    assert late.gestures[0].t == pytest.approx(1.0 + BUTTON_DEBOUNCE)  # when it happened
    assert late.gestures[-1].t == pytest.approx(1.3 + BUTTON_DEBOUNCE)


def test_a_chord_learnt_of_late_is_still_a_chord(late) -> None:
    rec, play = late.lines["rec"], late.lines["play"]
    rec.set(False, 1.0)
    play.set(False, 1.3)
    play.set(True, 1.6)
    rec.set(True, 2.1)
    late.run_until(3.0)
    play.deliver()  # the edges reach the loop in any order between lines
    rec.deliver()
    late.run_until(3.1)
    assert ("rec+play", "chord") in late.seen()
    assert ("play", "press") not in late.seen()
    assert ("rec", "long") not in late.seen()


def test_a_long_hold_learnt_of_after_its_release_is_still_long(late) -> None:
    stop = late.lines["stop"]
    stop.set(False, 1.0)
    stop.set(True, 1.0 + LONG_PRESS + 0.2)
    late.run_until(3.0)
    late.deliver_all()
    late.run_until(3.1)
    assert late.seen() == [("stop", "press"), ("stop", "long"), ("stop", "release")]
    assert late.gestures[1].t == pytest.approx(1.0 + BUTTON_DEBOUNCE + LONG_PRESS)


def test_bounce_whose_last_edge_is_still_on_its_way_is_not_a_press(late) -> None:
    play = late.lines["play"]
    play.set(False, 1.0)
    late.deliver_all()
    play.set(True, 1.004)  # the contact bounced open; its edge is held up in the library
    late.run_until(1.0 + BUTTON_DEBOUNCE + 0.05)
    assert late.seen() == []  # the line's level said an edge was still coming
    late.deliver_all()
    late.run_until(1.5)
    assert late.seen() == []


def test_a_lost_edge_gives_way_to_the_lines_level(late) -> None:
    play = late.lines["play"]
    play.set(False, 1.0)
    late.deliver_all()
    play.level = True  # released, and the library never delivered that edge
    late.run_until(1.0 + BUTTON_DEBOUNCE + PATIENCE + 0.1)
    assert late.seen() == []
    assert not late.buttons.inputs["play"].is_active
