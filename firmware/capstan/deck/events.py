"""The transport's events on the player's bus (they appear in scenario reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event


@dataclass(frozen=True)
class TransportChanged(Event):
    type: ClassVar[str] = "transport"
    state: str
    side: str = "A"  # the side facing the head
    direction: str = "still"  # forward | backward | still: the tape past the head


@dataclass(frozen=True)
class ButtonEvent(Event):
    type: ClassVar[str] = "button"
    button: str
    action: str  # press | release | tap | long | repeat | chord | hold | stuck


@dataclass(frozen=True)
class KeysChanged(Event):
    """A key of a mechanism moved by hand went down or up (its leaf switch)."""

    type: ClassVar[str] = "keys"
    down: tuple[str, ...]  # the keys down now
    key: str = ""
    action: str = ""  # down | up


@dataclass(frozen=True)
class SafetyStop(Event):
    """The transport stopped by itself: end of tape, tape eaten, cassette out, dead sensor."""

    type: ClassVar[str] = "safety"
    what: str  # end | start | tape_eaten | no_pulses | reel_sensor | cassette_out
    reason: str = ""


@dataclass(frozen=True)
class TapeTypeDetected(Event):
    """The notch switches say which tape is in: "I", "II" or "IV" (the audio EQ follows)."""

    type: ClassVar[str] = "tape_type"
    tape_type: str


@dataclass(frozen=True)
class CassetteIdentified(Event):
    """The counter recognized the cassette's length from its reels."""

    type: ClassVar[str] = "cassette_length"
    length: str


@dataclass(frozen=True)
class CounterCalibrated(Event):
    """The tape was rewound to its start: the counter is at 0 and calibrated."""

    type: ClassVar[str] = "counter"
    what: str = "calibrated"


@dataclass(frozen=True)
class SkipRequested(Event):
    """A long FF/REW: the music search (another subsystem) finds the next/previous track."""

    type: ClassVar[str] = "skip"
    direction: str
