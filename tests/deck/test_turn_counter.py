"""The one-sensor counter (deck/turn_counter.py): play by time, winds by the spiral, turns."""

from __future__ import annotations

import math

import pytest

from capstan.deck.pack import geometries
from capstan.deck.turn_counter import PLAY_WINDOW, TurnCounter
from capstan.hardware.description import BoardDescription

PPT = 8


def counter(board: BoardDescription, length: str | None = "C60") -> TurnCounter:
    c = TurnCounter(board.mechanism, PPT)
    c.length = length
    return c


def test_play_moves_a_second_per_second_and_a_turn_at_the_end_starts_the_other_side(
        board: BoardDescription) -> None:
    c = counter(board)
    c.at_start()
    c.observe(0, True, True, 100.0)
    assert c.position == 100.0 and c.calibrated
    c.at_start()  # the head turned at the end of the side: the other side at its start
    assert c.position == 0.0


def test_a_turn_mid_side_reads_the_same_tape_from_the_other_end(board: BoardDescription) -> None:
    g = geometries(board.mechanism)["C60"]
    c = counter(board)
    c.at_start()
    c.observe(0, True, True, 600.0)
    c.turned()
    assert c.position == pytest.approx(g.duration - 600.0)
    blind = counter(board, None)  # without the length there is no other end to count from
    blind.at_start()
    blind.observe(0, True, True, 600.0)
    blind.turned()
    assert blind.position is None and not blind.calibrated and blind.reading() == 600.0


@pytest.mark.parametrize("forward", [True, False])
def test_a_wind_counts_the_sensed_reels_turns_on_the_spiral(board: BoardDescription,
                                                            forward: bool) -> None:
    g = geometries(board.mechanism)["C60"]
    c = counter(board)
    c.restore({"length": "C60", "position": 900.0, "calibrated": True})
    # the sensed reel (the take-up forward, the supply back) holds `on_reel` seconds of tape
    on_reel = 900.0 if forward else g.duration - 900.0
    turns = 10
    c.observe(turns * 2 * PPT, forward, False, 0.0)
    moved = turns * 2 * math.pi * g.radius(on_reel) / g.speed
    assert c.position == pytest.approx(900.0 + (moved if forward else -moved), rel=0.01)


def test_from_an_unknown_position_a_minute_of_play_tells_it(board: BoardDescription) -> None:
    g = geometries(board.mechanism)["C60"]
    c = counter(board)
    start = 700.0
    # the take-up's turns over the window at the known speed (the spiral's arithmetic)
    r0, r1 = g.radius(start), g.radius(start + PLAY_WINDOW)
    turns = PLAY_WINDOW * g.speed / (2 * math.pi * (r0 + r1) / 2)
    edges = turns * 2 * PPT
    for i in range(60):  # one sample a second, whole edges
        assert c.position is None
        c.observe(round(edges * (i + 1) / 60) - round(edges * i / 60), True, True,
                  PLAY_WINDOW / 60)
    assert c.position == pytest.approx(start + PLAY_WINDOW, abs=30.0)
    assert c.remaining == pytest.approx(g.duration - board.mechanism.leader - c.position)


def test_its_snapshot_comes_back(board: BoardDescription) -> None:
    c = counter(board)
    c.at_start()
    c.observe(0, True, True, 42.0)
    again = counter(board, None)
    again.restore(c.snapshot())
    assert (again.length, again.position, again.calibrated) == ("C60", 42.0, True)
