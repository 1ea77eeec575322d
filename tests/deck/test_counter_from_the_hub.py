"""After a full rewind the counter counts from the hub at once, before it knows the length."""

import pytest

from capstan.deck.counter import TapeCounter
from capstan.deck.pack import geometries
from capstan.hardware.description import load_board


@pytest.mark.parametrize("length", ["C46", "C60", "C90", "C120"])
def test_the_first_minutes_after_a_rewind_are_counted_right_for_any_length(length: str) -> None:
    mech = load_board().mechanism
    truth = geometries(mech)[length]
    counter = TapeCounter(mech)
    counter.observe(-10.0, -5.0, 0.0, False)
    counter.at_start()
    assert counter.position == 0.0 and counter.length is None
    for turns in (0.5, 2.0, 5.0):  # under MIN_TURNS: no length yet
        counter.observe(-10.0 + turns, -5.0, 0.0, False)
        exact = truth.seconds(truth.hub + turns * truth.thickness)
        assert counter.length is None
        assert counter.reading() == pytest.approx(exact, abs=0.05)


def test_without_a_rewind_it_still_counts_play_time() -> None:
    counter = TapeCounter(load_board().mechanism)
    counter.observe(3.0, -2.0, 4.0, True)
    assert counter.position is None and counter.reading() == 4.0
