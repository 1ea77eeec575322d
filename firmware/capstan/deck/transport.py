"""The transport state machine: every button in every state (table in docs/transport.md).

Pure: `step(deck, event, now) -> (deck, commands)`. No I/O, no sleeping; the
Player executes the commands and feeds `Tick` for the deadlines kept in the state.
The sequencing of a mode change (mute, head, idler, motor ramp) is the
mechanism's business (devices/mechanism.py); the transport only says which mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    NO_CASSETTE = "no_cassette"
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"
    FAST_FORWARD = "fast_forward"
    REWIND = "rewind"
    RECORDING = "recording"
    RECORD_PAUSED = "record_paused"
    EJECTING = "ejecting"


class Mode(StrEnum):
    """What the mechanism is asked to do."""

    STOP = "stop"
    PLAY = "play"
    FAST_FORWARD = "fast_forward"
    REWIND = "rewind"


EJECT_WINDOW = 10.0  # s the deck waits, stopped, for the cassette to be taken out
TRANSPORT_BUTTONS = ("play", "stop", "ff", "rew", "rec")


# events ---------------------------------------------------------------------
@dataclass(frozen=True)
class Press:
    """A debounced button gesture: "press" (the moment it went down) or "long" (held)."""

    button: str
    gesture: str = "press"


@dataclass(frozen=True)
class Chord:
    """Two buttons down together; the only chord of the transport is REC+PLAY."""

    buttons: str = "rec+play"


@dataclass(frozen=True)
class CassetteIn:
    tab: bool = True  # the record tab of the side facing the head is present


@dataclass(frozen=True)
class CassetteOut:
    pass


@dataclass(frozen=True)
class TabChanged:
    present: bool


@dataclass(frozen=True)
class TapeStopped:
    """The reels stopped while driven: the end (or, rewinding, the start) of the tape."""

    reason: str = "end"


@dataclass(frozen=True)
class Fault:
    """The safety watchdog saw something wrong: stop at once. `what` is machine-readable."""

    what: str
    reason: str = ""


@dataclass(frozen=True)
class Tick:
    """Time passed: deadlines kept in the state are checked."""


# commands -------------------------------------------------------------------
@dataclass(frozen=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True)
class Halt:
    """Stop everything now, without ramps (a safety stop)."""

    what: str
    reason: str = ""


@dataclass(frozen=True)
class Refuse:
    action: str
    reason: str


@dataclass(frozen=True)
class Skip:
    """A long FF/REW: ask the music search for the next/previous track."""

    direction: str  # "next" | "previous"


@dataclass(frozen=True)
class AtStart:
    """The tape is known to be at the start of the side: the counter calibrates."""


Event = Press | Chord | CassetteIn | CassetteOut | TabChanged | TapeStopped | Fault | Tick
Command = SetMode | Halt | Refuse | Skip | AtStart

_MODE_OF = {
    State.PLAYING: Mode.PLAY, State.RECORDING: Mode.PLAY, State.FAST_FORWARD: Mode.FAST_FORWARD,
    State.REWIND: Mode.REWIND,
}
RECORD_STATES = (State.RECORDING, State.RECORD_PAUSED)
PROTECTED = "this side is write-protected: cover the tab hole with tape to record"


@dataclass(frozen=True)
class Deck:
    state: State = State.NO_CASSETTE
    since: float = 0.0
    tab: bool = False  # record tab of the side facing the head present
    auto_rewind: bool = False  # at the end of a played side, rewind it
    deadline: float | None = None  # when EJECTING gives up and goes back to STOPPED
    fault: str | None = None  # the last safety stop, until the next button or cassette

    def mode(self) -> Mode:
        return _MODE_OF.get(self.state, Mode.STOP)

    @property
    def moving(self) -> bool:
        return self.mode() != Mode.STOP


def _go(deck: Deck, state: State, now: float, **changes: object) -> tuple[Deck, list[Command]]:
    deadline = now + EJECT_WINDOW if state == State.EJECTING else None
    new = replace(deck, state=state, since=now, deadline=deadline, **changes)
    cmds: list[Command] = []
    if new.mode() != deck.mode():
        cmds.append(SetMode(new.mode()))
    return new, cmds


def _refuse(deck: Deck, action: str, reason: str) -> tuple[Deck, list[Command]]:
    return deck, [Refuse(action, reason)]


def _record(deck: Deck, now: float) -> tuple[Deck, list[Command]]:
    s = deck.state
    if s in (State.FAST_FORWARD, State.REWIND):
        return _refuse(deck, "record", "the tape is winding: stop it first")
    if s in RECORD_STATES:
        return deck, []
    if not deck.tab:
        return _refuse(deck, "record", PROTECTED)
    return _go(deck, State.RECORDING, now)


_ACTION = {"play": "play", "ff": "fast_forward", "rew": "rewind", "rec": "record",
           "stop": "stop"}


def _press(deck: Deck, button: str, gesture: str, now: float) -> tuple[Deck, list[Command]]:
    s = deck.state
    if button not in TRANSPORT_BUTTONS or gesture not in ("press", "long"):
        return deck, []
    deck = replace(deck, fault=None)
    action = _ACTION[button]
    if s == State.NO_CASSETTE:
        if button == "stop":
            return deck, []
        return _refuse(deck, action, "no cassette: insert one")
    if s == State.EJECTING:
        if button == "stop":
            return deck, []
        return _refuse(deck, action, "the cassette is being ejected: take it out")
    if gesture == "long":
        if button == "stop":  # the press already stopped the tape
            return _go(deck, State.EJECTING, now) if not deck.moving else (deck, [])
        if (button, s) in (("ff", State.FAST_FORWARD), ("rew", State.REWIND)):
            return deck, [Skip("next" if button == "ff" else "previous")]
        return deck, []
    if button == "stop":
        return _go(deck, State.STOPPED, now) if s != State.STOPPED else (deck, [])
    if s in RECORD_STATES:
        if button in ("play", "rec"):
            other = State.RECORD_PAUSED if s == State.RECORDING else State.RECORDING
            if other == State.RECORDING and not deck.tab:
                return _refuse(deck, "record", PROTECTED)
            return _go(deck, other, now)
        return _refuse(deck, action, "recording: press STOP first")
    if button == "rec":  # alone it only begins the REC+PLAY chord (arming: the recording's)
        return deck, []
    if button == "play":
        if s == State.PLAYING:
            return _go(deck, State.PAUSED, now)
        return _go(deck, State.PLAYING, now)
    target = State.FAST_FORWARD if button == "ff" else State.REWIND
    return _go(deck, target, now) if s != target else (deck, [])


def step(deck: Deck, event: Event, now: float) -> tuple[Deck, list[Command]]:
    s = deck.state
    if isinstance(event, Press):
        return _press(deck, event.button, event.gesture, now)
    if isinstance(event, Chord):
        if event.buttons != "rec+play":
            return deck, []
        if s == State.NO_CASSETTE:
            return _refuse(deck, "record", "no cassette: insert one")
        if s == State.EJECTING:
            return _refuse(deck, "record", "the cassette is being ejected: take it out")
        return _record(replace(deck, fault=None), now)
    if isinstance(event, CassetteOut):
        if s == State.NO_CASSETTE:
            return deck, []
        new, cmds = _go(deck, State.NO_CASSETTE, now, tab=False, fault=None)
        if deck.moving:
            cmds = [Halt("cassette_out", "the cassette was removed while the tape moved")]
        return new, cmds
    if isinstance(event, CassetteIn):
        if s == State.NO_CASSETTE:
            return _go(deck, State.STOPPED, now, tab=event.tab)
        return replace(deck, tab=event.tab), []
    if isinstance(event, TabChanged):
        deck = replace(deck, tab=event.present)
        if not event.present and s in RECORD_STATES:
            new, cmds = _go(deck, State.STOPPED, now)
            return new, [*cmds, Refuse("record", PROTECTED)]
        return deck, []
    if isinstance(event, TapeStopped):
        if not deck.moving:
            return deck, []
        if event.reason == "start" and s == State.REWIND:
            new, _ = _go(deck, State.STOPPED, now)
            return new, [Halt("start", "start of tape"), AtStart()]
        if s == State.PLAYING and deck.auto_rewind:
            new, cmds = _go(deck, State.REWIND, now)
            return new, [Halt("end", "end of tape"), *cmds]
        new, _ = _go(deck, State.STOPPED, now)
        return new, [Halt(event.reason, f"{event.reason} of tape")]
    if isinstance(event, Fault):
        if not deck.moving and s not in RECORD_STATES:
            return deck, []
        new, _ = _go(deck, State.STOPPED, now, fault=event.what)
        return new, [Halt(event.what, event.reason)]
    if isinstance(event, Tick):
        if s == State.EJECTING and deck.deadline is not None and now >= deck.deadline:
            return _go(deck, State.STOPPED, now)
    return deck, []
