"""The record relay's interlock, the mechanism's sequencing, LED patterns."""

from __future__ import annotations

import asyncio

import pytest

from capstan.deck.transport import Mode
from capstan.devices import leds as lp
from capstan.devices.actuators import Led, Motor, Solenoid
from capstan.devices.mechanism import REFERENCE, TapeMechanism, plan
from capstan.devices.relay import Interlock, RecordRelay, RelayRefused
from capstan.sim.clock import SimulatedTimeLoop


class Out:
    """A digital or PWM output that remembers what was written, and when."""

    def __init__(self, clock=lambda: 0.0) -> None:
        self.value = 0.0
        self.clock = clock
        self.writes: list[tuple[float, float]] = []

    def write(self, v) -> None:
        self.value = float(v)
        self.writes.append((self.clock(), float(v)))

    def close(self) -> None:
        pass


def test_the_relay_refuses_unless_every_condition_holds() -> None:
    cond = {"recording": True, "tab": True, "speed": True}
    out = Out()
    relay = RecordRelay(out, Interlock(lambda: cond["recording"], lambda: cond["tab"],
                                       lambda: cond["speed"]))
    relay.engage()
    assert relay.is_engaged
    for key, words in (("recording", "not recording"), ("tab", "write-protected"),
                       ("speed", "not at speed")):
        cond[key] = False
        relay.enforce()
        assert not relay.is_engaged
        with pytest.raises(RelayRefused, match=words):
            relay.engage()
        assert not relay.try_engage() and not relay.is_engaged
        cond[key] = True
    assert relay.try_engage()


@pytest.fixture
def loop():
    lo = SimulatedTimeLoop()
    yield lo
    lo.close()


def mechanism(board, loop) -> tuple[TapeMechanism, dict[str, Out]]:
    outs = {k: Out(loop.time) for k in ("pwm", "rev", "head", "idler")}
    mech = TapeMechanism(Motor(outs["pwm"], outs["rev"]), Solenoid(outs["head"]),
                         Solenoid(outs["idler"]), board.mechanism, loop)
    return mech, outs


def run(loop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def test_play_closes_the_head_then_ramps_the_motor(board, loop) -> None:
    mech, outs = mechanism(board, loop)
    mech.set_mode(Mode.PLAY)
    assert outs["head"].value == 1.0 and outs["pwm"].value == 0.0
    assert not mech.settled
    run(loop, 1.0)
    p = REFERENCE
    duties = [v for _, v in outs["pwm"].writes if v > 0]
    assert duties == sorted(duties) and len(duties) >= 3  # a soft start in steps
    assert duties[-1] == pytest.approx(board.mechanism.play_duty)
    assert outs["pwm"].writes[1][0] >= p.head_settle - 1e-9  # not before the head settled
    assert mech.settled


def test_play_to_rewind_stops_the_motor_before_moving_anything(board, loop) -> None:
    mech, outs = mechanism(board, loop)
    mech.set_mode(Mode.PLAY)
    run(loop, 1.0)
    t0 = loop.time()
    mech.set_mode(Mode.REWIND)
    run(loop, 1.0)
    head_off = next(t for t, v in outs["head"].writes if t >= t0 and v == 0)
    idler_on = next(t for t, v in outs["idler"].writes if t >= t0 and v == 1)
    motor_zero = next(t for t, v in outs["pwm"].writes if t >= t0 and v == 0)
    reverse_on = next(t for t, v in outs["rev"].writes if t >= t0 and v == 1)
    assert motor_zero <= head_off and motor_zero <= idler_on <= reverse_on
    assert outs["rev"].value == 1.0 and outs["pwm"].value == board.mechanism.wind_duty


def test_a_new_mode_cancels_the_rest_of_the_last_sequence(board, loop) -> None:
    mech, outs = mechanism(board, loop)
    mech.set_mode(Mode.FAST_FORWARD)
    run(loop, 0.05)
    mech.set_mode(Mode.STOP)
    run(loop, 1.0)
    assert outs["pwm"].value == 0.0 and outs["idler"].value == 0.0 and mech.settled


def test_off_is_everything_at_once(board, loop) -> None:
    mech, outs = mechanism(board, loop)
    mech.set_mode(Mode.PLAY)
    run(loop, 1.0)
    t = loop.time()
    mech.off()
    assert outs["pwm"].value == 0 and outs["head"].value == 0 and mech.settled
    assert outs["pwm"].writes[-1][0] == t


def test_the_plan_never_moves_the_head_under_a_turning_motor(board) -> None:
    p = REFERENCE
    for mode in Mode:
        for head, idler, duty, rev in [(True, False, 0.5, False), (False, True, 1.0, True),
                                       (False, True, 1.0, False), (False, False, 0.0, False)]:
            steps = plan(p, board.mechanism, mode, head, idler, duty, rev)
            stop_at = next((s.at + s.ramp for s in steps
                            if s.action == "motor" and s.value == 0), 0.0)
            for s in steps:
                if s.action in ("head", "idler") and duty > 0:
                    assert s.at >= stop_at


def test_led_patterns(loop) -> None:
    assert lp.blink(1.0).level(0.2) == 1.0 and lp.blink(1.0).level(0.7) == 0.0
    b = lp.breathe(2.0)
    assert b.level(0.0) == 0.0 and b.level(1.0) == 1.0 and 0 < b.level(0.5) < 1
    out = Out(loop.time)
    player = lp.LedPlayer(Led(out), loop)
    player.play(lp.blink(0.5))
    run(loop, 2.0)
    assert [v for _, v in out.writes[:4]] == [1.0, 0.0, 1.0, 0.0]
    player.play(lp.ON)
    player.flash(lp.blink(0.1), 0.3)
    run(loop, 0.25)
    assert player.pattern == lp.blink(0.1)
    run(loop, 0.2)
    assert player.pattern == lp.ON and out.value == 1.0
    player.close()
    assert out.value == 0.0
