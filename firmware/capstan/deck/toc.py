"""The track list (table of contents) of a cassette: pure data, no I/O.

Marks are tape positions (seconds of play from the start of the side, as the
counter reads them) where one track ends and the next begins. They come from
recording (a gap on line-in, REC MUTE), from listening (silence detected on
playback) or from the user. Marks closer than MERGE seconds are one mark: the
first source to make it keeps it, a recorded mark wins over a detected one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MERGE = 1.0  # s: marks this close are the same boundary
SOURCES = ("recorded", "detected", "manual")
_RANK = {"recorded": 0, "manual": 1, "detected": 2}


@dataclass(frozen=True)
class Mark:
    position: float
    source: str = "detected"


@dataclass(frozen=True)
class Track:
    side: str
    number: int  # 1-based
    start: float
    end: float | None  # None: runs to the end of what is known


@dataclass
class TrackList:
    marks: dict[str, list[Mark]] = field(default_factory=lambda: {"A": [], "B": []})
    starts: dict[str, float | None] = field(default_factory=lambda: {"A": None, "B": None})
    ends: dict[str, float | None] = field(default_factory=lambda: {"A": None, "B": None})

    def add_mark(self, side: str, position: float, source: str = "detected") -> bool:
        """Add a boundary; False if one is already there (within MERGE)."""
        if source not in SOURCES:
            raise ValueError(f"mark source must be one of {', '.join(SOURCES)}")
        marks = self.marks[side]
        for i, m in enumerate(marks):
            if abs(m.position - position) < MERGE:
                if _RANK[source] < _RANK[m.source]:
                    marks[i] = Mark(position, source)
                    return True
                return False
        marks.append(Mark(position, source))
        marks.sort(key=lambda m: m.position)
        return True

    def set_span(self, side: str, start: float | None = None, end: float | None = None) -> None:
        """Where the music on a side starts and ends (the first and last sound)."""
        if start is not None:
            self.starts[side] = start
        if end is not None:
            self.ends[side] = end

    def tracks(self, side: str) -> list[Track]:
        bounds = [m.position for m in self.marks[side]]
        start = self.starts[side]
        if start is None and not bounds:
            return []
        edges = [start if start is not None else 0.0, *bounds]
        out = []
        for i, s in enumerate(edges):
            e = edges[i + 1] if i + 1 < len(edges) else self.ends[side]
            out.append(Track(side, i + 1, s, e))
        return out

    def next_boundary(self, side: str, position: float, skip: int = 1) -> float | None:
        """The start of the `skip`-th track after `position` (None: not known)."""
        later = [m.position for m in self.marks[side] if m.position > position + 0.5]
        return later[skip - 1] if len(later) >= skip else None

    def previous_boundary(self, side: str, position: float, skip: int = 1,
                          grace: float = 3.0) -> float | None:
        """The start of the current track (or an earlier one); a track just begun counts as
        the previous one's start, as on the classic decks' AMS."""
        starts = [s for s in ([self.starts[side] or 0.0] + [m.position for m in self.marks[side]])
                  if s < position - grace]
        return starts[-skip] if len(starts) >= skip else None

    def to_dict(self) -> dict[str, Any]:
        return {side: {"marks": [[round(m.position, 3), m.source] for m in self.marks[side]],
                       "start": self.starts[side], "end": self.ends[side]}
                for side in ("A", "B")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackList:
        toc = cls()
        for side in ("A", "B"):
            entry = data.get(side) or {}
            for position, source in entry.get("marks", []):
                toc.add_mark(side, float(position), str(source))
            toc.starts[side] = entry.get("start")
            toc.ends[side] = entry.get("end")
        return toc
