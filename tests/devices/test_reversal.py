"""A reversal: the mechanism lets the motor spin down first, and the reels' edges count in
the direction they came in (the tachometers do not see it)."""

from __future__ import annotations

import asyncio
import math
from itertools import pairwise

import pytest

from capstan.deck.transport import Mode
from capstan.devices.actuators import Motor, Solenoid
from capstan.devices.mechanism import STILL, TapeMechanism
from capstan.devices.reels import Reels
from capstan.devices.tachometer import ReelTachometer
from capstan.sim.clock import SimulatedTimeLoop


class Pin:
    def __init__(self) -> None:
        self.callback = None

    def watch(self, callback) -> None:
        self.callback = callback

    def edges(self, times) -> None:
        for t in times:
            self.callback(True, t)


class Counter:
    def observe(self, take_up: float, supply: float, played: float, at_speed: bool) -> None:
        self.turns = (take_up, supply)


def test_edges_before_the_flip_count_in_the_old_direction() -> None:
    pins = Pin(), Pin()
    reels = Reels(ReelTachometer(pins[0], 16), ReelTachometer(pins[1], 16))  # 32 edges a turn
    counter = Counter()
    pins[0].edges([0.01])
    pins[1].edges([0.015])
    reels.sample(counter, False, False)  # the reference: take-up at its edge at 0.01
    pins[0].edges([0.01 + 0.01 * k for k in range(1, 101)])  # 100 marks forward, to 1.01
    pins[1].edges([0.015 + 0.02 * k for k in range(1, 51)])  # 50 marks forward, to 1.015
    # the motor spun down, then the direction flipped at 1.3; the sample comes after it, with
    # the new direction: the forward edges must not be counted backwards
    pins[0].edges([1.4 + 0.01 * k for k in range(10)])  # the first re-crosses the last mark
    pins[1].edges([1.405 + 0.02 * k for k in range(5)])
    reels.sample(counter, True, False, reversed_at=1.3)
    take, sup = counter.turns
    assert take * 32 == pytest.approx(100 - 9, abs=0.51)  # back at the 91st mark
    assert sup * 32 == pytest.approx(51 - 4, abs=0.51)  # its first edge came after 0.01
    # signed by the direction at the sample (as before the fix) it would read 100 marks back
    assert take > 0 and sup > 0


def test_a_flip_after_the_last_edge_leaves_those_edges_forward() -> None:
    pins = Pin(), Pin()
    reels = Reels(ReelTachometer(pins[0], 16), ReelTachometer(pins[1], 16))
    counter = Counter()
    pins[0].edges([0.0])
    pins[1].edges([0.005])
    reels.sample(counter, False, False)
    pins[0].edges([0.01 * k for k in range(1, 33)])
    pins[1].edges([0.005 + 0.02 * k for k in range(1, 16)])
    reels.sample(counter, True, False, reversed_at=0.5)  # flipped after the take-up's edges
    assert counter.turns[0] == pytest.approx(1.0)
    assert counter.turns[1] > 0


class Out:
    def __init__(self, clock) -> None:
        self.value, self.clock, self.writes = 0.0, clock, []

    def write(self, v) -> None:
        self.value = float(v)
        self.writes.append((self.clock(), float(v)))


def motor_speed(pwm: Out, rev: Out, t: float, tau: float) -> float:
    """The motor's speed at t from what it was driven with (the same lag as the simulator)."""
    drives = sorted([(w, "pwm", v) for w, v in pwm.writes] + [(w, "rev", v) for w, v in rev.writes],
                    key=lambda x: x[0])
    speed, duty, reverse, at = 0.0, 0.0, False, 0.0
    for w, what, v in drives:
        if w > t:
            break
        drive = -duty if reverse else duty
        speed = drive + (speed - drive) * math.exp(-(w - at) / tau)
        at = w
        if what == "pwm":
            duty = v
        else:
            reverse = bool(v)
    drive = -duty if reverse else duty
    return drive + (speed - drive) * math.exp(-(t - at) / tau)


@pytest.mark.parametrize("first,then", [(Mode.FAST_FORWARD, Mode.REWIND),
                                        (Mode.REWIND, Mode.PLAY), (Mode.PLAY, Mode.FAST_FORWARD),
                                        (Mode.REWIND, Mode.FAST_FORWARD)])
def test_nothing_engages_or_reverses_under_a_coasting_motor(board, first, then) -> None:
    loop = SimulatedTimeLoop()
    try:
        outs = {k: Out(loop.time) for k in ("pwm", "rev", "head", "idler")}
        mech = TapeMechanism(Motor(outs["pwm"], outs["rev"]), Solenoid(outs["head"]),
                             Solenoid(outs["idler"]), board.mechanism, loop)
        mech.set_mode(first)
        loop.run_until_complete(asyncio.sleep(2.0))
        t0 = loop.time()
        mech.set_mode(then)
        loop.run_until_complete(asyncio.sleep(2.0))
        tau = board.mechanism.motor_time_constant
        moves = [(t, name) for name in ("rev", "head", "idler")
                 for (_, was), (t, v) in pairwise([(0.0, 0.0), *outs[name].writes])
                 if t >= t0 and v != was and (name == "rev" or v)]
        assert moves, "nothing changed"
        for t, name in moves:
            assert abs(motor_speed(outs["pwm"], outs["rev"], t, tau)) <= STILL * 1.01, (t, name)
        assert mech.settled and mech.at_speed(loop.time()) == (then == Mode.PLAY)
        assert mech.drive_since > t0 + 0.3  # the reels turn for the new mode only from here
    finally:
        loop.close()
