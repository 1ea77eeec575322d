"""The transport state machine: every button in every state (table in docs/transport.md).

Pure: `step(deck, event, now) -> (deck, commands)`. No I/O, no sleeping; the
Player executes the commands and feeds `Tick` for the deadlines kept in the state.
The sequencing of a mode change (mute, head, idler, motor ramp) is the
mechanism's business (devices/mechanism.py); the transport only says which mode
and, on an auto-reverse mechanism, which side faces the head.

The transport is told what the fitted mechanism can do (`Capabilities`): turn the
head to the other side (auto-reverse, continued per `REVERSE_MODES` of
`hardware/capabilities.py`), wind, and whether the user's hand moves the mechanism
(a walkman's keys: `Keys` events from its leaf switches then set the state, the
firmware only runs the motor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from capstan.hardware.capabilities import REFERENCE, Capabilities


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


SIDES = ("A", "B")
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
    tab_other: bool | None = None  # the other side's tab, where the mechanism reads it


@dataclass(frozen=True)
class Keys:
    """The leaf switches of a mechanism moved by hand: the keys down now."""

    down: frozenset[str] = frozenset()  # of "play", "ff", "rew", "rec"


@dataclass(frozen=True)
class CassetteOut:
    pass


@dataclass(frozen=True)
class TabChanged:
    present: bool
    side: str | None = None  # None: the side facing the head


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
    side: str = "A"  # the side facing the head (an auto-reverse mechanism turns the head)


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


Event = (Press | Chord | CassetteIn | CassetteOut | TabChanged | TapeStopped | Fault | Tick
         | Keys)
Command = SetMode | Halt | Refuse | Skip | AtStart

_MODE_OF = {
    State.PLAYING: Mode.PLAY, State.RECORDING: Mode.PLAY, State.FAST_FORWARD: Mode.FAST_FORWARD,
    State.REWIND: Mode.REWIND,
}
RECORD_STATES = (State.RECORDING, State.RECORD_PAUSED)
PROTECTED = "this side is write-protected: cover the tab hole with tape to record"
BY_HAND = "this mechanism is moved by its keys: press the key on the mechanism"
_KEY_STATE = {"play": State.PLAYING, "ff": State.FAST_FORWARD, "rew": State.REWIND}


@dataclass(frozen=True)
class Deck:
    state: State = State.NO_CASSETTE
    since: float = 0.0
    tab: bool = False  # record tab of the side facing the head present
    auto_rewind: bool = False  # at the end of a played side, rewind it
    deadline: float | None = None  # when EJECTING gives up and goes back to STOPPED
    fault: str | None = None  # the last safety stop, until the next button or cassette
    caps: Capabilities = REFERENCE
    reverse: str = "one_way"  # auto-reverse at the end of a played side: REVERSE_MODES
    side: str = "A"  # the side facing the head
    tab_other: bool = False  # the record tab of the other side
    keys: frozenset[str] = frozenset()  # by hand: the keys down
    turns: int = 0  # auto-reverse turns since the last button or cassette
    record_on_b: bool = True  # auto-reverse: a recording at the end of side A goes on, on B

    def mode(self) -> Mode:
        return _MODE_OF.get(self.state, Mode.STOP)

    @property
    def direction(self) -> str:
        """Which way the tape moves past the head: forward, backward or still."""
        return {Mode.PLAY: "forward", Mode.FAST_FORWARD: "forward",
                Mode.REWIND: "backward"}.get(self.mode(), "still")

    def tab_of(self, side: str) -> bool:
        return self.tab if side == self.side else self.tab_other

    @property
    def moving(self) -> bool:
        return self.mode() != Mode.STOP


def _go(deck: Deck, state: State, now: float, **changes: object) -> tuple[Deck, list[Command]]:
    deadline = now + EJECT_WINDOW if state == State.EJECTING else None
    new = replace(deck, state=state, since=now, deadline=deadline, **changes)
    cmds: list[Command] = []
    if new.mode() != deck.mode() or (new.side != deck.side and new.moving):
        cmds.append(SetMode(new.mode(), new.side))
    return new, cmds


def _turned(deck: Deck) -> dict[str, object]:
    """The changes of the head turning to the other side: the tabs swap with it."""
    return {"side": "B" if deck.side == "A" else "A", "tab": deck.tab_other,
            "tab_other": deck.tab}


def _end_of_side(deck: Deck, reason: str, now: float) -> tuple[Deck, list[Command]]:
    """Played to the end of a side on an auto-reverse mechanism: turn or stop, per mode."""
    turn = deck.reverse == "endless" or (deck.reverse == "one_round" and deck.side == "A")
    if turn:
        new, cmds = _go(deck, State.PLAYING, now, turns=deck.turns + 1, **_turned(deck))
        return new, [Halt(reason, f"{reason} of side {deck.side}: turning to side {new.side}"),
                     *cmds]
    new, _ = _go(deck, State.STOPPED, now)
    return new, [Halt(reason, f"{reason} of side {deck.side}")]


def _end_of_recording(deck: Deck, reason: str, now: float) -> tuple[Deck, list[Command]]:
    """Recorded to the end of a side on an auto-reverse mechanism: from side A onto side B
    when `record_on_b` and side B's tab is there, else the recording stops here."""
    if deck.side == "A" and deck.record_on_b and deck.tab_other:
        new, cmds = _go(deck, State.RECORDING, now, turns=deck.turns + 1, **_turned(deck))
        return new, [Halt(reason, f"{reason} of side A: recording on, on side B"), *cmds]
    why = f"{reason} of side {deck.side}"
    if deck.side == "A" and deck.record_on_b:
        why += ": side B is write-protected, the recording stops here"
    new, _ = _go(deck, State.STOPPED, now)
    return new, [Halt(reason, why)]


def _keys(deck: Deck, down: frozenset[str], now: float) -> tuple[Deck, list[Command]]:
    """A mechanism moved by hand: its keys set the state; the firmware runs the motor."""
    old = deck.keys
    deck = replace(deck, keys=down)
    if deck.state in (State.NO_CASSETTE, State.EJECTING):
        return deck, []
    moving = next((_KEY_STATE[k] for k in ("play", "ff", "rew") if k in down), None)
    if moving is None:
        if deck.state == State.STOPPED:
            return replace(deck, fault=None), []
        return _go(deck, State.STOPPED, now, fault=None)
    if moving == State.PLAYING and "rec" in down:
        if not deck.tab:  # REC key and tab disagree: play only, never record
            target, cmds = (State.PLAYING, [Refuse("record", PROTECTED)])
        else:
            target, cmds = State.RECORDING, []
    else:
        target, cmds = moving, []
    if deck.state == State.STOPPED and deck.fault and old and down >= old - {"rec"}:
        return deck, []  # still held after an auto-stop: the motor stays off until released
    if target == deck.state:
        return deck, cmds
    new, more = _go(deck, target, now, fault=None)
    return new, [*more, *cmds]


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
    if deck.caps.by_hand:
        if s == State.NO_CASSETTE or button == "stop":
            return deck, []
        return _refuse(deck, _ACTION[button], BY_HAND)
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
        if button == "play" and deck.caps.auto_reverse and s not in RECORD_STATES:
            return _go(deck, State.PLAYING, now, **_turned(deck))  # PLAY held: other side
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
    if not deck.caps.cueing:
        return _refuse(deck, action, "this mechanism does not wind")
    target = State.FAST_FORWARD if button == "ff" else State.REWIND
    return _go(deck, target, now) if s != target else (deck, [])


def step(deck: Deck, event: Event, now: float) -> tuple[Deck, list[Command]]:
    s = deck.state
    if isinstance(event, Press):
        if event.gesture == "press" and event.button in TRANSPORT_BUTTONS:
            deck = replace(deck, turns=0)
        return _press(deck, event.button, event.gesture, now)
    if isinstance(event, Keys):
        return _keys(deck, frozenset(event.down), now) if deck.caps.by_hand else (deck, [])
    if isinstance(event, Chord):
        if deck.caps.by_hand:
            return (deck, []) if s == State.NO_CASSETTE else _refuse(deck, "record", BY_HAND)
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
        new, cmds = _go(deck, State.NO_CASSETTE, now, tab=False, tab_other=False, fault=None,
                        side="A", turns=0)
        if deck.moving:
            cmds = [Halt("cassette_out", "the cassette was removed while the tape moved")]
        return new, cmds
    if isinstance(event, CassetteIn):
        other = event.tab if event.tab_other is None else event.tab_other
        if s == State.NO_CASSETTE:
            new, cmds = _go(deck, State.STOPPED, now, tab=event.tab, tab_other=other, side="A")
            if deck.caps.by_hand and deck.keys:  # a key already down: its state at once
                return _keys(new, deck.keys, now)
            return new, cmds
        return replace(deck, tab=event.tab, tab_other=other), []
    if isinstance(event, TabChanged):
        if event.side is not None and event.side != deck.side:
            return replace(deck, tab_other=event.present), []
        deck = replace(deck, tab=event.present)
        if not event.present and s in RECORD_STATES:
            new, cmds = _go(deck, State.STOPPED, now)
            return new, [*cmds, Refuse("record", PROTECTED)]
        return deck, []
    if isinstance(event, TapeStopped):
        if not deck.moving:
            return deck, []
        if event.reason == "start" and s == State.REWIND:
            new, _ = _go(deck, State.STOPPED, now, fault="start" if deck.caps.by_hand else None)
            return new, [Halt("start", "start of tape"), AtStart()]
        if s == State.PLAYING and deck.caps.auto_reverse and event.reason == "end":
            return _end_of_side(deck, event.reason, now)
        if s == State.RECORDING and deck.caps.auto_reverse and event.reason == "end":
            return _end_of_recording(deck, event.reason, now)
        if s == State.PLAYING and deck.auto_rewind and not deck.caps.by_hand:
            new, cmds = _go(deck, State.REWIND, now)
            return new, [Halt("end", "end of tape"), *cmds]
        new, _ = _go(deck, State.STOPPED, now, fault=event.reason if deck.caps.by_hand else None)
        return new, [Halt(event.reason, f"{event.reason} of tape")]
    if isinstance(event, Fault):
        if not deck.moving and s not in RECORD_STATES:
            return deck, []
        new, _ = _go(deck, State.STOPPED, now, fault=event.what, turns=0)
        return new, [Halt(event.what, event.reason)]
    if isinstance(event, Tick):
        if s == State.EJECTING and deck.deadline is not None and now >= deck.deadline:
            return _go(deck, State.STOPPED, now)
    return deck, []
