"""Each mechanism profile end to end in simulated time: the transport, the profile's
device, the rotation auto-stop and the record relay over the simulated part's signals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capstan.deck.transport import Chord, State
from capstan.hardware.description import BoardDescription
from capstan.harness.profile_deck import ProfileDeck, Walkman
from capstan.sim.crp42602y import Crp42602y

SIDE = 60.0  # s of tape per side: short, so that a test plays whole sides


@pytest.fixture
def make(board: BoardDescription) -> Iterator:
    made: list[ProfileDeck] = []

    def build(profile: str, reverse: str = "one_way", **part: object) -> ProfileDeck:
        model = (Crp42602y if profile == "crp42602y" else Walkman)(duration=SIDE, **part)
        d = ProfileDeck(profile, board.mechanism.tables[profile], model, reverse)
        d.insert()
        made.append(d)
        return d

    yield build
    for d in made:
        d.close()


def transports(d: ProfileDeck) -> list[tuple[str, str, str]]:
    return [(e["state"], e["side"], e["direction"]) for e in d.events if e["type"] == "transport"]


def test_crp_one_round_plays_a_then_b_and_stops_at_the_end_of_b(make) -> None:
    d = make("crp42602y", "one_round")
    d.press("play")
    d.run_until(SIDE + 5)
    assert d.deck.side == "B" and d.deck.state == State.PLAYING
    assert d.model.function.head_b and d.model.function.head_on
    end_a = d.model.stopped_at
    d.run_until(2 * SIDE + 15)
    assert d.deck.state == State.STOPPED and d.deck.side == "B"
    assert d.model.position == 0.0 and not d.model.motor  # side B played to its end
    assert 0 < d.motor_off_at - d.model.stopped_at <= 1.0
    assert end_a < d.model.stopped_at
    assert transports(d) == [("stopped", "A", "still"), ("playing", "A", "forward"),
                             ("playing", "B", "forward"), ("stopped", "B", "still")]


def test_crp_one_way_stops_the_motor_at_the_end_within_a_second(make) -> None:
    d = make("crp42602y", "one_way")
    d.press("play")
    d.run_until(SIDE + 5)
    assert d.deck.state == State.STOPPED and d.deck.side == "A" and not d.model.motor
    assert 0 < d.motor_off_at - d.model.stopped_at <= 1.0


def test_crp_a_stall_stops_the_motor_within_half_a_second(make) -> None:
    d = make("crp42602y")
    d.press("play")
    d.run_until(10.0)
    d.model.stalled = True
    d.run_until(12.0)
    assert not d.model.motor and d.deck.state == State.STOPPED
    assert 0 < d.motor_off_at - d.model.stopped_at <= 0.5


def test_crp_a_jammed_gear_stops_safely_with_a_fault(make) -> None:
    d = make("crp42602y", jammed=True)
    d.press("play")
    d.run_until(3.0)
    assert d.deck.state == State.STOPPED and d.deck.fault == "gear"
    assert not d.model.motor and not d.relay
    assert any(e["type"] == "safety" and e["what"] == "gear" for e in d.events)


def test_crp_the_protected_side_never_records(make) -> None:
    d = make("crp42602y", "one_round", tab_b=False)
    d.dispatch(Chord())
    d.run_until(20.0)
    assert d.relay and d.deck.state == State.RECORDING
    d.press("stop")
    d.press("play")
    d.press("play", "long")  # PLAY held: side B
    d.run_until(23.0)
    assert d.deck.side == "B" and d.deck.state == State.PLAYING
    d.dispatch(Chord())
    d.run_until(27.0)
    assert d.deck.state == State.PLAYING and not d.relay
    assert {side for _, side, _ in d.relay_log} == {"A"}
    assert all(tab for _, _, tab in d.relay_log)


def test_mechanical_a_key_starts_the_motor_and_the_end_stops_it(make) -> None:
    d = make("mechanical")
    d.press("play")  # a button: the keys move this mechanism
    assert d.events[-1]["type"] == "refused" and not d.model.motor
    d.press_keys("play")
    d.run_until(1.0)
    assert d.model.motor and d.deck.state == State.PLAYING and d.model.position > 0.5
    d.run_until(SIDE + 3)
    assert not d.model.motor and d.deck.state == State.STOPPED
    assert 0 < d.motor_off_at - d.model.stopped_at <= 1.0
    d.run_until(SIDE + 10)
    assert not d.model.motor  # still held down after the auto-stop: the motor stays off
    d.press_keys()
    d.press_keys("rew")
    d.run_until(SIDE + 12)
    assert d.model.motor and d.deck.state == State.REWIND


def test_mechanical_a_stall_stops_the_motor_within_half_a_second(make) -> None:
    d = make("mechanical")
    d.press_keys("play")
    d.run_until(10.0)
    d.model.stalled = True
    d.run_until(12.0)
    assert not d.model.motor
    assert 0 < d.motor_off_at - d.model.stopped_at <= 0.5


@pytest.mark.parametrize("tab", [True, False])
def test_mechanical_records_only_when_the_rec_key_and_the_tab_agree(make, tab: bool) -> None:
    d = make("mechanical", tab_a=tab)
    d.press_keys("play", "rec")
    d.run_until(2.0)
    assert d.relay is tab
    assert d.deck.state == (State.RECORDING if tab else State.PLAYING)
    assert d.model.motor  # a protected cassette still plays
