"""The reel watchdog's verdicts, on made-up readings and a fake clock."""

from __future__ import annotations

from capstan.deck.safety import START_GRACE, ReelReading, ReelWatch
from capstan.deck.transport import Fault, Mode, TapeStopped


def turning(now: float, period: float = 0.05, last_ago: float = 0.01) -> ReelReading:
    return ReelReading(40, now - last_ago, period)


def silent_since(t: float, period: float = 0.05) -> ReelReading:
    return ReelReading(40, t, period)


NOW = 50.0


def test_both_reels_turning_is_fine() -> None:
    assert ReelWatch().check(Mode.PLAY, 0.0, NOW, turning(NOW), turning(NOW)) is None


def test_both_reels_stopped_together_is_the_end_or_the_start() -> None:
    w = ReelWatch()
    stopped = silent_since(NOW - 0.3)
    assert w.check(Mode.PLAY, 0.0, NOW, stopped, stopped) == TapeStopped("end")
    assert w.check(Mode.FAST_FORWARD, 0.0, NOW, stopped, stopped) == TapeStopped("end")
    assert w.check(Mode.REWIND, 0.0, NOW, stopped, stopped) == TapeStopped("start")


def test_take_up_stopped_while_the_supply_turns_is_a_tape_being_eaten() -> None:
    v = ReelWatch().check(Mode.PLAY, 0.0, NOW, silent_since(NOW - 0.3), turning(NOW))
    assert isinstance(v, Fault) and v.what == "tape_eaten"


def test_one_reel_stopping_just_before_the_other_is_not_a_fault() -> None:
    # at the end both stop; the faster one is judged silent first
    v = ReelWatch().check(Mode.PLAY, 0.0, NOW, turning(NOW, 0.1, 0.25), silent_since(NOW - 0.25))
    assert v is None


def test_a_slipping_take_up_is_caught_by_the_ratio() -> None:
    w = ReelWatch()
    slow = ReelReading(40, NOW - 0.01, 0.5)  # ten times slower than plausible
    assert w.check(Mode.PLAY, 0.0, NOW, slow, turning(NOW)) is None
    v = w.check(Mode.PLAY, 0.0, NOW + 0.25, ReelReading(40, NOW + 0.24, 0.5),
                turning(NOW + 0.25))
    assert isinstance(v, Fault) and v.what == "tape_eaten"


def test_a_slow_start_is_no_fault_within_the_grace() -> None:
    w = ReelWatch()
    nothing = ReelReading(0, None, None)
    assert w.check(Mode.PLAY, NOW, NOW + START_GRACE - 0.01, nothing, nothing) is None


def test_no_pulses_after_the_grace_is_a_dead_sensor_unless_at_the_end() -> None:
    w = ReelWatch()
    nothing = ReelReading(0, None, None)
    v = w.check(Mode.PLAY, NOW, NOW + START_GRACE, nothing, nothing)
    assert isinstance(v, Fault) and v.what == "no_pulses"
    v = w.check(Mode.PLAY, NOW, NOW + START_GRACE, nothing, nothing, near_end=True)
    assert v == TapeStopped("end")


def test_a_reel_silent_while_the_other_winds_is_a_sensor_fault() -> None:
    v = ReelWatch().check(Mode.FAST_FORWARD, NOW - 5, NOW, turning(NOW, 0.004),
                          ReelReading(0, None, None))
    assert isinstance(v, Fault) and v.what == "reel_sensor"


def test_stop_mode_is_never_judged() -> None:
    nothing = ReelReading(0, None, None)
    assert ReelWatch().check(Mode.STOP, 0.0, NOW, nothing, nothing) is None
