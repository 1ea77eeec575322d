"""Every button in every state, on a fake clock (the table in docs/transport.md)."""

from __future__ import annotations

import pytest

from capstan.deck import transport as tp
from capstan.deck.transport import Deck, Mode, State

S = State
NOW = 100.0

# (state, event) -> (next state, kinds of commands); None = state unchanged, no command.
PRESS = {
    S.NO_CASSETTE: {"play": (S.NO_CASSETTE, ["Refuse"]), "stop": None,
                    "ff": (S.NO_CASSETTE, ["Refuse"]), "rew": (S.NO_CASSETTE, ["Refuse"]),
                    "rec": (S.NO_CASSETTE, ["Refuse"])},
    S.STOPPED: {"play": (S.PLAYING, ["SetMode"]), "stop": None,
                "ff": (S.FAST_FORWARD, ["SetMode"]), "rew": (S.REWIND, ["SetMode"]),
                "rec": None},
    S.PLAYING: {"play": (S.PAUSED, ["SetMode"]), "stop": (S.STOPPED, ["SetMode"]),
                "ff": (S.FAST_FORWARD, ["SetMode"]), "rew": (S.REWIND, ["SetMode"]),
                "rec": None},
    S.PAUSED: {"play": (S.PLAYING, ["SetMode"]), "stop": (S.STOPPED, []),
               "ff": (S.FAST_FORWARD, ["SetMode"]), "rew": (S.REWIND, ["SetMode"]),
               "rec": None},
    S.FAST_FORWARD: {"play": (S.PLAYING, ["SetMode"]), "stop": (S.STOPPED, ["SetMode"]),
                     "ff": None, "rew": (S.REWIND, ["SetMode"]),
                     "rec": None},
    S.REWIND: {"play": (S.PLAYING, ["SetMode"]), "stop": (S.STOPPED, ["SetMode"]),
               "ff": (S.FAST_FORWARD, ["SetMode"]), "rew": None,
               "rec": None},
    S.RECORDING: {"play": (S.RECORD_PAUSED, ["SetMode"]), "stop": (S.STOPPED, ["SetMode"]),
                  "ff": (S.RECORDING, ["Refuse"]), "rew": (S.RECORDING, ["Refuse"]),
                  "rec": (S.RECORD_PAUSED, ["SetMode"])},
    S.RECORD_PAUSED: {"play": (S.RECORDING, ["SetMode"]), "stop": (S.STOPPED, []),
                      "ff": (S.RECORD_PAUSED, ["Refuse"]), "rew": (S.RECORD_PAUSED, ["Refuse"]),
                      "rec": (S.RECORDING, ["SetMode"])},
    S.EJECTING: {"play": (S.EJECTING, ["Refuse"]), "stop": None,
                 "ff": (S.EJECTING, ["Refuse"]), "rew": (S.EJECTING, ["Refuse"]),
                 "rec": (S.EJECTING, ["Refuse"])},
}

CHORD = {S.NO_CASSETTE: (S.NO_CASSETTE, ["Refuse"]), S.STOPPED: (S.RECORDING, ["SetMode"]),
         S.PLAYING: (S.RECORDING, []), S.PAUSED: (S.RECORDING, ["SetMode"]),
         S.FAST_FORWARD: (S.FAST_FORWARD, ["Refuse"]), S.REWIND: (S.REWIND, ["Refuse"]),
         S.RECORDING: None, S.RECORD_PAUSED: None, S.EJECTING: (S.EJECTING, ["Refuse"])}

LONG = {S.STOPPED: {"stop": (S.EJECTING, [])}, S.PAUSED: {"stop": (S.EJECTING, [])},
        S.RECORD_PAUSED: {"stop": (S.EJECTING, [])},
        S.FAST_FORWARD: {"ff": (S.FAST_FORWARD, ["Skip"])},
        S.REWIND: {"rew": (S.REWIND, ["Skip"])}}


def deck(state: State, tab: bool = True) -> Deck:
    return Deck(state=state, since=0.0, tab=tab and state != S.NO_CASSETTE,
                deadline=NOW + 5 if state == S.EJECTING else None)


def kinds(cmds: list) -> list[str]:
    return [type(c).__name__ for c in cmds]


def check(start: Deck, event: tp.Event, expected: tuple | None) -> None:
    new, cmds = tp.step(start, event, NOW)
    if expected is None:
        assert new.state == start.state and cmds == []
        return
    state, ks = expected
    assert new.state == state, f"{start.state} + {event}"
    assert kinds(cmds) == ks, f"{start.state} + {event}: {cmds}"
    if state != start.state:
        assert new.since == NOW


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("button", tp.TRANSPORT_BUTTONS)
def test_every_transport_button_in_every_state(state: State, button: str) -> None:
    check(deck(state), tp.Press(button), PRESS[state][button])


@pytest.mark.parametrize("state", list(State))
def test_rec_play_chord_in_every_state(state: State) -> None:
    check(deck(state), tp.Chord("rec+play"), CHORD[state])


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("button", tp.TRANSPORT_BUTTONS)
def test_long_press_in_every_state(state: State, button: str) -> None:
    expected = LONG.get(state, {}).get(button)
    if state in (S.NO_CASSETTE, S.EJECTING) and button != "stop":
        expected = (state, ["Refuse"])
    check(deck(state), tp.Press(button, "long"), expected)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("button", ["pair", "vol_up", "vol_down"])
def test_non_transport_buttons_do_nothing_to_the_transport(state: State, button: str) -> None:
    for gesture in ("press", "long"):
        check(deck(state), tp.Press(button, gesture), None)


@pytest.mark.parametrize("state", [S.STOPPED, S.PLAYING, S.PAUSED])
def test_a_protected_side_refuses_recording_with_a_reason(state: State) -> None:
    new, cmds = tp.step(deck(state, tab=False), tp.Chord("rec+play"), NOW)
    assert new.state == state
    assert isinstance(cmds[0], tp.Refuse) and "write-protected" in cmds[0].reason


def test_refusals_say_what_to_do() -> None:
    for state, button in [(S.NO_CASSETTE, "play"), (S.RECORDING, "ff"),
                          (S.EJECTING, "play")]:
        _, cmds = tp.step(deck(state), tp.Press(button), NOW)
        assert ":" in cmds[0].reason  # "what is wrong: what to do"


def test_modes_follow_states() -> None:
    assert deck(S.PLAYING).mode() == Mode.PLAY
    assert deck(S.RECORDING).mode() == Mode.PLAY
    assert deck(S.RECORD_PAUSED).mode() == Mode.STOP
    assert deck(S.PAUSED).mode() == Mode.STOP
    new, cmds = tp.step(deck(S.RECORD_PAUSED, tab=False), tp.Press("rec"), NOW)
    assert new.state == S.RECORD_PAUSED and "write-protected" in cmds[0].reason
    assert deck(S.FAST_FORWARD).mode() == Mode.FAST_FORWARD
    assert deck(S.REWIND).mode() == Mode.REWIND


@pytest.mark.parametrize("state", [S.PLAYING, S.FAST_FORWARD, S.REWIND, S.RECORDING])
def test_cassette_out_while_moving_halts_at_once(state: State) -> None:
    new, cmds = tp.step(deck(state), tp.CassetteOut(), NOW)
    assert new.state == S.NO_CASSETTE and not new.tab
    assert kinds(cmds) == ["Halt"] and cmds[0].what == "cassette_out"


def test_cassette_in_reads_the_tab() -> None:
    new, _ = tp.step(Deck(), tp.CassetteIn(tab=False), NOW)
    assert new.state == S.STOPPED and not new.tab


def test_end_of_tape_stops_or_rewinds() -> None:
    new, cmds = tp.step(deck(S.PLAYING), tp.TapeStopped("end"), NOW)
    assert new.state == S.STOPPED and kinds(cmds) == ["Halt"]
    auto = Deck(S.PLAYING, tab=True, auto_rewind=True)
    new, cmds = tp.step(auto, tp.TapeStopped("end"), NOW)
    assert new.state == S.REWIND and kinds(cmds) == ["Halt", "SetMode"]
    new, cmds = tp.step(deck(S.RECORDING), tp.TapeStopped("end"), NOW)
    assert new.state == S.STOPPED  # never auto-rewind a recording


def test_rewound_to_the_start_calibrates_the_counter() -> None:
    new, cmds = tp.step(deck(S.REWIND), tp.TapeStopped("start"), NOW)
    assert new.state == S.STOPPED and kinds(cmds) == ["Halt", "AtStart"]


def test_tape_stopped_is_ignored_when_not_moving() -> None:
    check(deck(S.STOPPED), tp.TapeStopped("end"), None)


def test_a_fault_stops_and_is_remembered_until_the_next_button() -> None:
    new, cmds = tp.step(deck(S.PLAYING), tp.Fault("tape_eaten", "eaten"), NOW)
    assert new.state == S.STOPPED and new.fault == "tape_eaten"
    assert kinds(cmds) == ["Halt"]
    new, _ = tp.step(new, tp.Press("stop"), NOW + 1)
    assert new.fault is None


def test_removing_the_tab_while_recording_stops() -> None:
    new, cmds = tp.step(deck(S.RECORDING), tp.TabChanged(False), NOW)
    assert new.state == S.STOPPED and "Refuse" in kinds(cmds)


def test_ejecting_gives_up_after_its_window() -> None:
    d, _ = tp.step(deck(S.STOPPED), tp.Press("stop", "long"), NOW)
    assert d.state == S.EJECTING and d.deadline == NOW + tp.EJECT_WINDOW
    same, _ = tp.step(d, tp.Tick(), NOW + tp.EJECT_WINDOW - 0.1)
    assert same.state == S.EJECTING
    back, _ = tp.step(d, tp.Tick(), NOW + tp.EJECT_WINDOW)
    assert back.state == S.STOPPED
    out, _ = tp.step(d, tp.CassetteOut(), NOW + 1)
    assert out.state == S.NO_CASSETTE


def test_stop_long_press_while_moving_only_stops() -> None:
    # the press already stopped the tape; a long press in a moving state changes nothing
    check(deck(S.PLAYING), tp.Press("stop", "long"), None)
