"""Events of the recording subsystem on the player's bus (they appear in scenario reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event


@dataclass(frozen=True)
class RecordChanged(Event):
    """What the recorder did: armed, disarmed, sync_armed, sync_start, started, rec_mute,
    end_warning, end_closed, continued_on_b, playlist_done; `side` and `counter` where known."""

    type: ClassVar[str] = "record"
    what: str
    side: str | None = None
    counter: float | None = None
    message: str | None = None


@dataclass(frozen=True)
class TrackMarked(Event):
    """A track boundary went into the cassette's TOC (already durable when this is published)."""

    type: ClassVar[str] = "track_mark"
    side: str
    position: float  # counter seconds
    source: str = "recorded"
    what: str = "mark"  # mark | start | end


@dataclass(frozen=True)
class RecordLevelReport(Event):
    """The record level: mode, gain and the clipping counted, at every change and at the end."""

    type: ClassVar[str] = "record_level"
    mode: str  # auto | manual | playlist
    gain_db: float
    target_dbfs: float
    clips: int = 0
