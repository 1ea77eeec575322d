"""What a headphone button does to the transport, state by state (pure)."""

from __future__ import annotations

import pytest

from capstan.bluetooth.remote import NOT_WHILE_RECORDING, REMOTE_BUTTONS, remote_actions
from capstan.deck import transport as tp

S = tp.State


def _presses(actions: list) -> list[tuple[str, str]]:
    assert all(isinstance(a, tp.Press) for a in actions), actions
    return [(a.button, a.gesture) for a in actions]


def test_play_plays_unless_playing_and_pause_pauses_only_what_moves() -> None:
    for state in (S.STOPPED, S.PAUSED, S.FAST_FORWARD, S.REWIND):
        assert _presses(remote_actions(state, "play")) == [("play", "press")]
    assert remote_actions(S.PLAYING, "play") == []  # PLAY would pause: play means play
    assert _presses(remote_actions(S.PLAYING, "pause")) == [("play", "press")]
    for state in (S.STOPPED, S.PAUSED):
        assert remote_actions(state, "pause") == []  # already still
    for state in (S.FAST_FORWARD, S.REWIND):
        assert _presses(remote_actions(state, "pause")) == [("stop", "press")]  # no wind pause


def test_stop_is_stop_and_next_previous_are_the_long_ff_rew_press() -> None:
    for state in S:
        if state not in tp.RECORD_STATES:
            assert _presses(remote_actions(state, "stop")) == [("stop", "press")]
    assert _presses(remote_actions(S.PLAYING, "next")) == [("ff", "press"), ("ff", "long")]
    assert _presses(remote_actions(S.STOPPED, "previous")) == [("rew", "press"),
                                                              ("rew", "long")]


def test_while_a_search_runs_next_adds_a_track() -> None:
    assert remote_actions(S.FAST_FORWARD, "next", searching=True) == [tp.Skip("next")]
    assert remote_actions(S.PLAYING, "previous", searching=True) == [tp.Skip("previous")]


def test_without_a_cassette_the_press_goes_to_the_transport_which_refuses_it() -> None:
    deck = tp.Deck()  # no cassette
    for button in ("play", "pause", "next", "previous"):
        refusals = []
        for press in remote_actions(deck.state, button):
            _, commands = tp.step(deck, press, 0.0)
            refusals += [c for c in commands if isinstance(c, tp.Refuse)]
        assert refusals and refusals[0].reason == "no cassette: insert one", button


def test_a_recording_is_never_touched_from_the_headphones() -> None:
    for state in (S.RECORDING, S.RECORD_PAUSED, S.STOPPED):
        for button in REMOTE_BUTTONS:
            assert remote_actions(state, button, recording=True) == [
                tp.Refuse(button, NOT_WHILE_RECORDING)]


def test_an_unknown_button_is_an_error() -> None:
    with pytest.raises(ValueError, match="fast_forward"):
        remote_actions(S.PLAYING, "fast_forward")
