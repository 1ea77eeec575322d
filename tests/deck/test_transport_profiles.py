"""The pure transport told what the fitted mechanism can do: auto-reverse, keys moved by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from capstan.deck import transport as tp
from capstan.deck.transport import Deck, Keys, Mode, Press, State, TapeStopped
from capstan.hardware.capabilities import REVERSE_MODES
from capstan.hardware.profiles import CAPABILITIES

CRP = CAPABILITIES["crp42602y"]
HAND = CAPABILITIES["mechanical"]
STATES = [s for s in State]
BUTTONS = [(b, g) for b in tp.TRANSPORT_BUTTONS for g in ("press", "long")]


def run(deck: Deck, *events: tp.Event) -> tuple[Deck, list[tp.Command]]:
    cmds: list[tp.Command] = []
    for i, e in enumerate(events):
        deck, c = tp.step(deck, e, float(i))
        cmds += c
    return deck, cmds


def crp(reverse: str, tab_a: bool = True, tab_b: bool = True) -> Deck:
    deck, _ = run(Deck(caps=CRP, reverse=reverse), tp.CassetteIn(tab=tab_a, tab_other=tab_b))
    return deck


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("button,gesture", BUTTONS)
def test_crp_buttons_do_what_the_reference_buttons_do(state: State, button: str,
                                                       gesture: str) -> None:
    ref = Deck(state=state, tab=True)
    ours = replace(ref, caps=CRP, tab_other=True)
    a, ca = tp.step(ref, Press(button, gesture), 1.0)
    b, cb = tp.step(ours, Press(button, gesture), 1.0)
    if (button, gesture) == ("play", "long") and state not in (
            *tp.RECORD_STATES, State.NO_CASSETTE, State.EJECTING):
        assert b.state == State.PLAYING and b.side == "B"
        assert tp.SetMode(Mode.PLAY, "B") in cb
        return
    assert b.state == a.state and b.side == "A"
    assert [type(c) for c in cb] == [type(c) for c in ca]


def test_one_round_plays_a_then_b_and_stops_at_the_end_of_b() -> None:
    deck, cmds = run(crp("one_round"), Press("play"))
    assert cmds == [tp.SetMode(Mode.PLAY, "A")]
    deck, cmds = run(deck, TapeStopped("end"))
    assert (deck.state, deck.side, deck.direction) == (State.PLAYING, "B", "forward")
    assert tp.SetMode(Mode.PLAY, "B") in cmds
    deck, cmds = run(deck, TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "B")
    assert [type(c) for c in cmds] == [tp.Halt]


def test_one_way_stops_at_the_end_of_a_and_endless_keeps_turning() -> None:
    deck, _ = run(crp("one_way"), Press("play"), TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "A")
    deck = crp("endless")
    deck, _ = run(deck, Press("play"))
    for side in ("B", "A", "B", "A"):
        deck, _ = run(deck, TapeStopped("end"))
        assert (deck.state, deck.side) == (State.PLAYING, side)


def test_the_reference_never_turns_the_side() -> None:
    deck, _ = run(Deck(reverse="endless"), tp.CassetteIn(), Press("play"), TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "A")


@pytest.mark.parametrize("tab_a,tab_b", [(True, False), (False, True), (False, False)])
def test_a_protected_side_never_records(tab_a: bool, tab_b: bool) -> None:
    for side, tab in (("A", tab_a), ("B", tab_b)):
        deck = crp("one_way", tab_a, tab_b)
        if side == "B":
            deck, _ = run(deck, Press("play"), Press("play", "long"), Press("stop"))
            assert deck.side == "B"
        deck, cmds = run(deck, tp.Chord())
        assert (deck.state == State.RECORDING) is tab
        if not tab:
            assert tp.Refuse("record", tp.PROTECTED) in cmds


def test_a_tab_change_on_the_other_side_does_not_stop_the_recording() -> None:
    deck, _ = run(crp("one_way"), tp.Chord(), tp.TabChanged(False, side="B"))
    assert deck.state == State.RECORDING and deck.tab_other is False
    deck, _ = run(deck, tp.TabChanged(False, side="A"))
    assert deck.state == State.STOPPED


@pytest.mark.parametrize("reverse", REVERSE_MODES)
def test_a_recording_at_the_end_of_side_a_goes_on_on_side_b(reverse: str) -> None:
    deck, cmds = run(crp(reverse), tp.Chord(), TapeStopped("end"))
    assert (deck.state, deck.side, deck.tab, deck.direction) == (
        State.RECORDING, "B", True, "forward")
    assert [type(c) for c in cmds[-2:]] == [tp.Halt, tp.SetMode]
    assert cmds[-1] == tp.SetMode(Mode.PLAY, "B")
    deck, cmds = run(deck, TapeStopped("end"))  # the end of side B: never back onto A
    assert (deck.state, deck.side) == (State.STOPPED, "B") and [type(c) for c in cmds] == [
        tp.Halt]


def test_a_recording_stops_at_the_end_of_a_when_b_is_protected_or_not_wanted() -> None:
    deck, cmds = run(crp("one_round", tab_b=False), tp.Chord(), TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "A")
    assert cmds[-1] == tp.Halt("end", "end of side A: side B is write-protected, the "
                                      "recording stops here")
    deck, cmds = run(replace(crp("one_round"), record_on_b=False), tp.Chord(),
                     TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "A") and cmds[-1] == tp.Halt(
        "end", "end of side A")


def test_the_reference_recording_stops_at_the_end() -> None:
    deck, _ = run(Deck(reverse="endless"), tp.CassetteIn(), tp.Chord(), TapeStopped("end"))
    assert (deck.state, deck.side) == (State.STOPPED, "A")


# a mechanism moved by hand ---------------------------------------------------
def hand(tab: bool = True) -> Deck:
    deck, _ = run(Deck(caps=HAND), tp.CassetteIn(tab=tab))
    return deck


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("button,gesture", BUTTONS)
def test_buttons_never_move_a_mechanism_moved_by_hand(state: State, button: str,
                                                      gesture: str) -> None:
    deck = Deck(state=state, caps=HAND, tab=True)
    new, cmds = tp.step(deck, Press(button, gesture), 1.0)
    assert new.state == state
    assert not any(isinstance(c, tp.SetMode) for c in cmds)
    if state != State.NO_CASSETTE and button != "stop":
        assert cmds == [tp.Refuse(tp._ACTION[button], tp.BY_HAND)]


@pytest.mark.parametrize("keys,state,mode", [
    ({"play"}, State.PLAYING, Mode.PLAY), ({"ff"}, State.FAST_FORWARD, Mode.FAST_FORWARD),
    ({"rew"}, State.REWIND, Mode.REWIND), ({"play", "rec"}, State.RECORDING, Mode.PLAY),
    (set(), State.STOPPED, None)])
def test_keys_set_the_state_and_the_motor_follows(keys: set[str], state: State,
                                                  mode: Mode | None) -> None:
    deck, cmds = run(hand(), Keys(frozenset(keys)))
    assert deck.state == state
    assert cmds == ([tp.SetMode(mode, "A")] if mode else [])


def test_rec_key_without_the_tab_plays_and_never_records() -> None:
    deck, cmds = run(hand(tab=False), Keys(frozenset({"play", "rec"})))
    assert deck.state == State.PLAYING
    assert tp.Refuse("record", tp.PROTECTED) in cmds


def test_the_end_stops_the_motor_until_the_key_is_released() -> None:
    deck, cmds = run(hand(), Keys(frozenset({"play"})), TapeStopped("end"))
    assert deck.state == State.STOPPED and isinstance(cmds[-1], tp.Halt)
    deck, cmds = run(deck, Keys(frozenset({"play"})))
    assert deck.state == State.STOPPED and cmds == []
    deck, cmds = run(deck, Keys(frozenset({"rew"})))  # REW pressed: PLAY pops up
    assert deck.state == State.REWIND and cmds == [tp.SetMode(Mode.REWIND, "A")]
    deck, cmds = run(deck, Keys(frozenset()))
    assert deck.state == State.STOPPED and cmds == [tp.SetMode(Mode.STOP, "A")]


def test_a_key_down_when_the_cassette_goes_in_starts_at_once() -> None:
    deck, _ = run(Deck(caps=HAND), Keys(frozenset({"play"})))
    assert deck.state == State.NO_CASSETTE
    deck, cmds = run(deck, tp.CassetteIn())
    assert deck.state == State.PLAYING and tp.SetMode(Mode.PLAY, "A") in cmds


KEY_SETS = [frozenset(k) for k in ((), ("play",), ("ff",), ("rew",), ("rec",), ("play", "rec"),
                                   ("ff", "rec"))]
EXPECT = {(): State.STOPPED, ("play",): State.PLAYING, ("ff",): State.FAST_FORWARD,
          ("rew",): State.REWIND, ("rec",): State.STOPPED, ("play", "rec"): State.RECORDING,
          ("ff", "rec"): State.FAST_FORWARD}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("keys", KEY_SETS, ids=lambda k: "+".join(sorted(k)) or "none")
@pytest.mark.parametrize("tab", [True, False])
def test_every_key_in_every_state(state: State, keys: frozenset[str], tab: bool) -> None:
    deck = Deck(state=state, caps=HAND, tab=tab)
    new, cmds = tp.step(deck, Keys(keys), 1.0)
    if state in (State.NO_CASSETTE, State.EJECTING):
        assert new.state == state and cmds == []
        return
    want = EXPECT[tuple(sorted(keys))]
    if want == State.RECORDING and not tab:
        want = State.PLAYING
        assert tp.Refuse("record", tp.PROTECTED) in cmds
    assert new.state == want
    if new.mode() != deck.mode():
        assert tp.SetMode(new.mode(), "A") in cmds


def test_keys_do_nothing_on_a_mechanism_the_firmware_moves() -> None:
    deck, _ = run(Deck(caps=CRP), tp.CassetteIn())
    assert tp.step(deck, Keys(frozenset({"play"})), 1.0) == (deck, [])
