"""The transport state machine (foundation version: play, stop, wind, eject).

Pure: `step(deck, event, now) -> (deck, commands)`. The player executes the
commands; timeouts are deadlines in the state.
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


class Mode(StrEnum):
    """What the mechanism is asked to do."""

    STOP = "stop"
    PLAY = "play"
    FAST_FORWARD = "fast_forward"
    REWIND = "rewind"


# events ---------------------------------------------------------------------
@dataclass(frozen=True)
class Press:
    button: str


@dataclass(frozen=True)
class CassetteIn:
    pass


@dataclass(frozen=True)
class CassetteOut:
    pass


@dataclass(frozen=True)
class TapeStopped:
    """The reels stopped while driven: the end (or the start) of the tape."""

    reason: str = "end"


# commands -------------------------------------------------------------------
@dataclass(frozen=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True)
class Refuse:
    action: str
    reason: str


Event = Press | CassetteIn | CassetteOut | TapeStopped
Command = SetMode | Refuse

_MODE_OF = {
    State.PLAYING: Mode.PLAY, State.RECORDING: Mode.PLAY, State.FAST_FORWARD: Mode.FAST_FORWARD,
    State.REWIND: Mode.REWIND,
}


@dataclass(frozen=True)
class Deck:
    state: State = State.NO_CASSETTE
    since: float = 0.0

    def mode(self) -> Mode:
        return _MODE_OF.get(self.state, Mode.STOP)


def _go(deck: Deck, state: State, now: float) -> tuple[Deck, list[Command]]:
    new = replace(deck, state=state, since=now)
    cmds: list[Command] = []
    if new.mode() != deck.mode():
        cmds.append(SetMode(new.mode()))
    return new, cmds


def step(deck: Deck, event: Event, now: float) -> tuple[Deck, list[Command]]:
    s = deck.state
    if isinstance(event, CassetteOut):
        return _go(deck, State.NO_CASSETTE, now)
    if isinstance(event, CassetteIn):
        return _go(deck, State.STOPPED, now) if s == State.NO_CASSETTE else (deck, [])
    if isinstance(event, TapeStopped):
        return _go(deck, State.STOPPED, now) if deck.mode() != Mode.STOP else (deck, [])
    if isinstance(event, Press):
        b = event.button
        if s == State.NO_CASSETTE:
            if b in ("play", "ff", "rew", "rec"):
                return deck, [Refuse(b, "no cassette")]
            return deck, []
        target = {"play": State.PLAYING, "stop": State.STOPPED, "ff": State.FAST_FORWARD,
                  "rew": State.REWIND}.get(b)
        if target is None or target == s:
            return deck, []
        return _go(deck, target, now)
    return deck, []
