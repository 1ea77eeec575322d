"""The simulated mechanism against the geometry of a real cassette."""

from __future__ import annotations

import math

import pytest

from capstan.harness.session import SimSession


def expected_edge_rate(session: SimSession, seconds_on_reel: float) -> float:
    """Tach edges per second of a reel holding `seconds_on_reel` of tape, in play."""
    m = session.description.mechanism
    c = session.cassette
    assert c is not None
    r = math.sqrt(m.hub_radius ** 2 + seconds_on_reel * m.nominal_speed
                  * c.spec.thickness / math.pi)
    ppt = session.description.tachometers["take_up"].pulses_per_turn
    return m.nominal_speed / (2 * math.pi * r) * ppt * 2


def measure(session: SimSession, reel: str) -> float:
    return 1.0 / session.player.reels[reel].edge_period()


@pytest.mark.parametrize("where", ["start", "end"])
def test_reel_radius_and_tach_frequency_follow_the_tape_pack(session: SimSession,
                                                             where: str) -> None:
    c = session.make_cassette("C60", position=0.0 if where == "start" else 1780.0)
    assert c.duration == pytest.approx(30 * 60 + 4)
    if where == "start":
        assert c.pack_radius(c.position) == pytest.approx(0.011)
        # a full C60 pack of 18 µm tape: r = sqrt(r0² + L·t/π) ≈ 24.8 mm
        assert c.pack_radius(c.duration) == pytest.approx(0.02478, abs=5e-5)
    session.run_until(0.2)
    session.press("play")
    session.run_for(6.0)
    pos = c.position
    take_up = measure(session, "take_up")
    supply = measure(session, "supply")
    assert take_up == pytest.approx(expected_edge_rate(session, pos), rel=0.03)
    assert supply == pytest.approx(expected_edge_rate(session, c.duration - pos), rel=0.03)
    # at the start the take-up hub is small and turns fast; at the end the reverse
    assert (take_up > supply) == (where == "start")


def test_a_full_fast_wind_of_a_c60_takes_a_realistic_time(session: SimSession) -> None:
    c = session.make_cassette("C60")
    session.run_until(1.0)
    session.press("ff")
    session.run_until(200.0)
    end = next(e for e in session.events if e["type"] == "tape" and e["what"] == "end")
    took = end["t"] - 1.0
    m = session.description.mechanism
    omega = 2 * math.pi * m.wind_spindle_rpm / 60
    r1 = c.pack_radius(c.duration)
    analytic = 2 * math.pi * (r1 - m.hub_radius) / c.spec.thickness / omega
    # the motor's start-up lag adds a fraction of a second to the analytic figure
    assert took == pytest.approx(analytic, rel=0.02)
    # spec sheets give 60-120 s for a C60 (docs/simulator.md)
    assert 60 < took < 120
    assert c.position == pytest.approx(c.duration, abs=0.5)


def test_the_take_up_reel_stops_at_the_end_of_the_tape(session: SimSession) -> None:
    c = session.make_cassette("C46", position=23 * 60 + 4 - 3.0)
    session.run_until(0.5)
    session.press("play")
    session.run_for(8.0)
    ends = [e for e in session.events if e["type"] == "tape" and e["what"] == "end"]
    assert len(ends) == 1
    assert c.position == pytest.approx(c.duration, abs=0.01)
    assert session.deck.motion.take_up.rpm == 0


def test_a_stalled_take_up_reel_spills_tape_while_the_capstan_pulls(session: SimSession) -> None:
    c = session.make_cassette("C60", position=600.0)
    session.run_until(0.5)
    session.press("play")
    session.run_for(2.0)
    session.deck.fault("stall_take_up")
    before = c.position
    session.deck.advance(session.now, session.now + 0.5)  # physics alone, firmware aside
    assert c.position == before
    assert session.deck.motion.spill > 0
