"""The CRP42602Y device over the simulated part's signals, on simulated time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from capstan.deck.transport import Mode
from capstan.devices.crp42602y import Crp42602yMechanism, function_pulls, gear_for
from capstan.hardware.description import BoardDescription
from capstan.hardware.profiles import ProfileTable
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.crp42602y import Crp42602y, Function


class Rig:
    def __init__(self, table: ProfileTable) -> None:
        self.loop = SimulatedTimeLoop()
        self.part = Crp42602y()
        self.pulls: list[tuple[float, bool]] = []
        self.errors: list[str] = []
        self.relay_released = 0
        now = self.loop.time

        def solenoid(level: bool) -> None:
            self.pulls.append((round(now(), 4), level))
            self.part.solenoid(level, now())

        def release() -> None:
            self.relay_released += 1

        self.mech = Crp42602yMechanism(solenoid, lambda on: self.part.set_motor(on, now()),
                                       lambda: self.part.gear_status(now()), table, self.loop,
                                       release_relay=release, on_error=self.errors.append)

    def run(self, seconds: float) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))
        self.part.advance(self.loop.time())


@pytest.fixture
def table(board: BoardDescription) -> ProfileTable:
    return board.mechanism.tables["crp42602y"]


@pytest.fixture
def rig(table: ProfileTable) -> Iterator[Rig]:
    r = Rig(table)
    yield r
    r.loop.close()


CASES = [(Mode.PLAY, "A", Function(False, True, True)),
         (Mode.PLAY, "B", Function(True, True, False)),
         (Mode.FAST_FORWARD, "A", Function(False, False, True)),
         (Mode.REWIND, "A", Function(False, False, False)),
         (Mode.FAST_FORWARD, "B", Function(True, False, False)),
         (Mode.REWIND, "B", Function(True, False, True))]


@pytest.mark.parametrize("mode,side,function", CASES)
def test_each_mode_lands_the_gear_in_its_function(rig: Rig, mode: Mode, side: str,
                                                  function: Function) -> None:
    rig.mech.set_mode(mode, side)
    rig.run(1.0)
    assert rig.part.function == function and rig.part.gear_status(rig.loop.time())
    assert rig.mech.mode == mode and rig.mech.side == side and rig.mech.settled
    assert rig.part.motor and not rig.errors
    assert not function.stressed


def test_play_a_pulls_at_the_documented_times(rig: Rig, table: ProfileTable) -> None:
    rig.mech.set_mode(Mode.PLAY, "A")
    rig.run(1.0)
    t0 = rig.pulls[0][0]
    got = [(round(t - t0, 4), lv) for t, lv in rig.pulls]
    assert got == [(0.0, True), (0.02, False), (0.1, False), (0.15, True), (0.3, True),
                   (0.4, False)]
    assert got == [(round(a, 4), b) for a, b in function_pulls(table, gear_for(Mode.PLAY, "A"))]


@pytest.mark.parametrize("first,then", [((Mode.PLAY, "A"), (Mode.REWIND, "B")),
                                        ((Mode.FAST_FORWARD, "A"), (Mode.PLAY, "B")),
                                        ((Mode.PLAY, "B"), (Mode.STOP, "B"))])
def test_a_change_returns_the_gear_first(rig: Rig, first: tuple[Mode, str],
                                         then: tuple[Mode, str]) -> None:
    rig.mech.set_mode(*first)
    rig.run(1.0)
    rig.mech.set_mode(*then)
    rig.run(1.5)
    want, was = gear_for(*then), gear_for(*first)

    def landed(g: object) -> Function | None:
        return None if g is None else Function(g.head_b, g.head_on, g.reel_fwd)
    expected = [None, landed(want)] if want else [landed(was), None]
    assert rig.part.landed[-2:] == expected
    assert rig.mech.mode == then[0]
    assert rig.part.motor is (want is not None)


def test_a_change_asked_for_during_a_sequence_follows_it(rig: Rig) -> None:
    rig.mech.set_mode(Mode.PLAY, "A")
    rig.run(0.35)
    rig.mech.set_mode(Mode.FAST_FORWARD, "A")
    rig.run(2.0)
    assert rig.part.function == Function(False, False, True) and rig.mech.mode == Mode.FAST_FORWARD


def test_a_pull_at_the_wrong_moment_lands_in_the_wrong_function(table: ProfileTable) -> None:
    late = ProfileTable(table.profile, table.signals,
                        {**table.constants, "lift_start": 0.24, "lift_end": 0.36})
    r = Rig(late)  # the lift pull comes after the cam read it: head kept off
    try:
        r.mech.set_mode(Mode.PLAY, "A")
        r.run(1.0)
        assert r.part.function == Function(False, False, True)  # a wind, not play
    finally:
        r.loop.close()


def rises(pulls: list[tuple[float, bool]]) -> list[float]:
    return [t for i, (t, lv) in enumerate(pulls) if lv and (i == 0 or not pulls[i - 1][1])]


def test_a_jammed_gear_is_retried_once_then_stopped_safely(rig: Rig) -> None:
    rig.part.jammed = True
    rig.mech.set_mode(Mode.PLAY, "A")
    rig.run(3.0)
    t0 = rig.pulls[0][0]
    # the unhook and the lift pull of the sequence, then of its one retry (0.4 s + 20 ms later)
    assert [round(t - t0, 4) for t in rises(rig.pulls)] == [0.0, 0.15, 0.42, 0.57]
    assert rig.errors == ["the function gear did not reach play on side A"]
    assert not rig.part.motor and rig.pulls[-1][1] is False
    assert rig.relay_released == 1 and rig.mech.mode == Mode.STOP


def test_a_gear_that_does_not_return_is_stopped_safely(rig: Rig) -> None:
    rig.mech.set_mode(Mode.PLAY, "A")
    rig.run(1.0)
    rig.part.jammed = True
    rig.mech.set_mode(Mode.STOP)
    rig.run(2.0)
    assert rig.errors == ["the function gear did not return to stop"]
    assert not rig.part.motor and not rig.pulls[-1][1]


def test_after_a_safety_stop_the_same_mode_runs_the_motor_again(rig: Rig) -> None:
    rig.mech.set_mode(Mode.PLAY, "B")
    rig.run(1.0)
    rig.mech.off()  # the end of the side: the motor is cut, the gear stays in play B
    assert not rig.part.motor and rig.part.function == Function(True, True, False)
    pulls = len(rig.pulls)
    rig.mech.set_mode(Mode.PLAY, "B")
    rig.run(0.5)
    assert rig.part.motor and rig.mech.mode == Mode.PLAY
    assert len(rig.pulls) == pulls  # no sequence needed: the gear is there
