"""The cassette's length, once named, holds through jittered edge times and a late loop.

Edges are stamped at their exact physical time plus a random jitter (a GPIO thread
that wakes late; lgpio's kernel timestamps jitter by microseconds, RPi.GPIO's thread
by up to milliseconds on a busy Pi) and the watchdog now and then samples late.
The length is named once, right, and never changes; only a different cassette (one
swapped while the daemon was down) changes it.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from capstan.deck.pack import geometries
from capstan.deck.transport import Mode

LENGTHS = ("C46", "C60", "C90", "C120")


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.sampled_from(LENGTHS), where=st.floats(0.05, 0.7),
       jitter_ms=st.floats(0.0, 3.0), late_every=st.integers(3, 40), seed=st.integers(0, 2**16),
       speed_error=st.floats(-0.015, 0.015))
# a C90 early in its side, where a C120 once led a single fit and was named, then replaced
@example(length="C90", where=0.05078125, jitter_ms=0.0, late_every=3, seed=0, speed_error=0.0)
@example(length="C90", where=0.05, jitter_ms=0.0, late_every=3, seed=1, speed_error=0.0)
def test_the_length_is_named_once_and_never_flips_on_jitter(
        reel_harness, board, length: str, where: float, jitter_ms: float, late_every: int,
        seed: int, speed_error: float) -> None:
    rng = random.Random(seed)
    duration = geometries(board.mechanism)[length].duration
    h = reel_harness(length, where * (duration - 400), speed_error)
    h.jitter = lambda: rng.uniform(0.0, jitter_ms / 1000)
    h.late = lambda: rng.randrange(10) if rng.randrange(late_every) == 0 else 0
    h.set_mode(Mode.PLAY)
    h.run(240.0)
    named = [x for x in h.lengths if x is not None]
    assert named, "never named"
    assert set(named) == {length}, f"named {sorted(set(named))} for a {length}"
    assert h.counter.changes == 0


def test_a_cassette_swapped_while_the_daemon_was_down_is_named_anew(reel_harness, board) -> None:
    h = reel_harness("C60", 600.0)
    # what the daemon saved for the cassette that was in before: a C90, far into the side
    h.counter.restore({"length": "C90", "calibrated": False, "position": 2000.0, "played": 0.0})
    assert h.counter.length == "C90"
    h.set_mode(Mode.PLAY)
    h.run(90.0)
    assert h.counter.length == "C60"
    assert h.counter.changes == 1
    assert abs(h.counter.position - h.truth) < 30.0


def test_the_committed_length_states_its_margin(reel_harness) -> None:
    h = reel_harness("C90", 900.0)
    h.set_mode(Mode.PLAY)
    h.run(60.0)
    assert h.counter.length == "C90"
    assert h.counter.confidence is not None and h.counter.confidence >= 25.0
