"""The counter from one rotation sensor: the take-up's turns over a minute of play give the
position on the side, from an unknown start (the simulated CRP42602Y's ROTATION_SENS)."""

from __future__ import annotations

import pytest

from capstan.deck.rotation import position_from_turns
from capstan.hardware.description import BoardDescription
from capstan.sim import crp42602y as part
from capstan.sim.crp42602y import Crp42602y, Function

WINDOW = 60.0  # s of play


def play(start: float, speed_error: float = 0.0) -> tuple[float, float, float]:
    """Edges of a minute's play from `start`; returns (turns counted, true mid position)."""
    m = Crp42602y(duration=1804.0, pulses_per_turn=8, position=start, speed_error=speed_error)
    m.motor, m.gear, m.function = True, "function", Function(False, True, True)
    m.advance(1.0)  # the sensor's first edge: the count starts from a known phase
    m.edges.clear()
    t0 = m.now
    m.advance(t0 + WINDOW)
    edges = [t for t in m.edges if t >= t0]
    turns = (len(edges) - 1) / (2 * m.pulses_per_turn)
    seconds = edges[-1] - edges[0]
    return turns, seconds, (start + 1.0 + m.position) / 2


@pytest.mark.parametrize("start", [30.0, 300.0, 900.0, 1500.0, 1700.0])
def test_a_minute_of_play_gives_the_position_within_30_s(board: BoardDescription,
                                                         start: float) -> None:
    turns, seconds, truth = play(start)
    m = board.mechanism
    est = position_from_turns(turns, seconds, m.nominal_speed, m.hub_radius,
                              m.cassettes["C60"].thickness)
    assert est == pytest.approx(truth, abs=30.0)


@pytest.mark.parametrize("error", [-0.015, 0.015])
@pytest.mark.parametrize("start", [300.0, 1500.0])
def test_a_speed_error_shifts_the_position_by_twice_its_share(board: BoardDescription,
                                                              start: float,
                                                              error: float) -> None:
    turns, seconds, truth = play(start, error)
    m = board.mechanism
    est = position_from_turns(turns, seconds, m.nominal_speed, m.hub_radius,
                              m.cassettes["C60"].thickness)
    hub = 3.14159 * m.hub_radius ** 2 / m.cassettes["C60"].thickness / m.nominal_speed
    assert abs(est - truth) == pytest.approx(2 * abs(error) * (truth + hub), rel=0.25, abs=5)


def test_the_wrong_thickness_is_far_off(board: BoardDescription) -> None:
    turns, seconds, truth = play(900.0)
    m = board.mechanism
    est = position_from_turns(turns, seconds, m.nominal_speed, m.hub_radius,
                              m.cassettes["C90"].thickness)  # a C60 taken for a C90
    assert abs(est - truth) > 300.0


def test_the_model_and_the_board_agree_on_the_reference_geometry(board: BoardDescription) -> None:
    m = board.mechanism
    assert (part.HUB_RADIUS, part.THICKNESS, part.NOMINAL) == (
        m.hub_radius, m.cassettes["C60"].thickness, m.nominal_speed)
