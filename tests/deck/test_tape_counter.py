"""Counter accuracy on the simulator's physics with a capstan speed error of ±1.5 %."""

from __future__ import annotations

import random

import pytest

from capstan.deck.pack import geometries
from capstan.deck.transport import Mode

LENGTHS = ("C46", "C60", "C90", "C120")


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("speed_error", [-0.015, 0.015])
def test_length_identified_and_position_within_30_s_after_70_s_of_play(
        reel_harness, board, length: str, speed_error: float) -> None:
    rng = random.Random(f"{length}{speed_error}")
    duration = geometries(board.mechanism)[length].duration
    h = reel_harness(length, rng.uniform(30, duration - 120), speed_error)
    h.set_mode(Mode.PLAY)
    h.run(70.0)  # 40-65 s here; the first minutes of a side take longest (docs/timing.md)
    c = h.counter
    assert c.length == length
    assert c.position is not None and abs(c.position - h.truth) <= 30.0
    assert abs(c.reading() - h.truth) <= 30.0
    assert c.remaining == pytest.approx(duration - board.mechanism.leader - c.position)


def test_unknown_until_the_reels_have_turned_enough(reel_harness) -> None:
    h = reel_harness("C90", 900.0)
    assert h.counter.position is None and h.counter.length is None
    h.set_mode(Mode.PLAY)
    h.run(3.0)
    assert h.counter.position is None  # a few turns are not enough to tell
    assert h.counter.reading() == pytest.approx(2.35, abs=0.2)  # seconds played meanwhile


def test_identified_in_fast_forward_too(reel_harness) -> None:
    h = reel_harness("C120", 200.0)
    h.set_mode(Mode.FAST_FORWARD)
    h.run(15.0)
    assert h.counter.length == "C120"
    assert abs(h.counter.position - h.truth) < 5.0


def test_within_5_s_across_a_whole_side_after_a_calibrated_start(reel_harness, board) -> None:
    h = reel_harness("C60", 400.0, speed_error=0.015)
    h.set_mode(Mode.REWIND)
    h.run(120.0, until=lambda: h.motion.speed == 0 and h.t > 1.0)
    assert h.truth == 0.0
    h.counter.at_start()
    assert h.counter.calibrated
    h.set_mode(Mode.PLAY)
    worst = 0.0
    duration = geometries(board.mechanism)["C60"].duration
    while h.truth < duration - 1.0:
        h.run(60.0)
        if h.counter.position is not None:
            worst = max(worst, abs(h.counter.position - h.truth))
        assert h.t < 2000
    assert h.counter.length == "C60"
    assert h.t > 1790  # the whole side was played
    assert worst <= 5.0, worst


def test_snapshot_and_restore_carry_the_position_over_a_restart(reel_harness) -> None:
    h = reel_harness("C90", 1200.0)
    h.set_mode(Mode.PLAY)
    h.run(60.0)
    saved = h.counter.snapshot()
    from capstan.deck.counter import TapeCounter

    again = TapeCounter(h.mech)
    again.restore(saved)
    assert again.length == "C90"
    assert again.position == pytest.approx(saved["position"], abs=0.01)


def test_a_forgotten_position_is_unknown_again(reel_harness) -> None:
    h = reel_harness("C60", 600.0)
    h.set_mode(Mode.PLAY)
    h.run(60.0)
    h.counter.forget_position()
    assert h.counter.position is None and not h.counter.calibrated
    h.run(60.0)
    assert abs(h.counter.position - h.truth) < 30.0
