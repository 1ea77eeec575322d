"""Tape intelligence's events on the player's bus (they appear in scenario reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event


@dataclass(frozen=True)
class TrackEvent(Event):
    """Track boundaries and music search.

    `what`: "boundary" (a gap passed while playing; joins the TOC), "search" (a skip began:
    `direction`, `skip`, `by` = "toc" | "listening", `target`), "landed" (the search put
    the head before a track's start and plays: `position`, `number`), "not_found" (no
    boundary before the end of the tape), "cancelled" (a button took over).
    """

    type: ClassVar[str] = "track"
    what: str
    side: str | None = None
    position: float | None = None
    number: int | None = None
    direction: str | None = None
    skip: int | None = None
    by: str | None = None
    target: float | None = None


@dataclass(frozen=True)
class CassetteKnown(Event):
    """The cassette's fingerprint: "candidate" (a first match), "recognized" (confirmed by
    a second; its TOC and speed trim are restored) or "new" (remembered under `id`)."""

    type: ClassVar[str] = "cassette_known"
    what: str
    id: str
    score: float | None = None
    marks: int | None = None
    speed_trim_percent: float | None = None


@dataclass(frozen=True)
class MeterReading(Event):
    """The live speed and wow & flutter meter (a 3150/3000 Hz test tone is playing)."""

    type: ClassVar[str] = "wow_flutter"
    what: str  # started | reading | stopped
    tone_hz: float
    frequency_hz: float | None = None
    speed_error_percent: float | None = None
    weighted_peak_percent: float | None = None
    wrms_percent: float | None = None
    unweighted_rms_percent: float | None = None


@dataclass(frozen=True)
class SpeedTrimmed(Event):
    """A measured speed error became a speed trim of the motor drive."""

    type: ClassVar[str] = "speed_trim"
    measured_error_percent: float
    trim_percent: float


@dataclass(frozen=True)
class Digitized(Event):
    """Digitizing: a track's file is being finished, or a take (its cue sheet) is complete."""

    type: ClassVar[str] = "digitize"
    what: str  # track | take | recovered
    path: str
    number: int | None = None
