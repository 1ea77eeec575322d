"""A mixtape planned from audio files: fit per side with gaps, levels pre-scanned.

`plan_mixtape` reads each file's length and peak (the pre-scan), gives every
track the gain that puts its peak on the tape type's target (within ±MAX_TRIM_DB),
and fills side A, then side B, in the playlist's order with `gap` seconds of
silence between tracks (each gap becomes a track mark on the tape). Whatever fits
on neither side is the overflow: reported before the tape moves, and the plan is
refused (`MixtapeOverflow`) unless the caller chose to leave it off.

`PlaylistSource` plays one side's tracks out block by block, at their gains, with
the gaps in between: the recorder puts it in place of line-in (recording/feed.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from capstan.errors import CapstanError
from capstan.recording.feed import BlockSource
from capstan.recording.level import TARGET_PEAK_DBFS

LEAD_IN = 1.0  # s of silence before the first track of a side (the tape comes to speed)
MAX_TRIM_DB = 12.0


class MixtapeError(CapstanError):
    """A playlist that cannot be read or planned."""


class MixtapeOverflow(MixtapeError):
    """The playlist does not fit on the cassette."""


@dataclass(frozen=True)
class PlannedTrack:
    path: Path
    seconds: float
    peak_dbfs: float
    gain_db: float
    side: str = "A"
    start: float = 0.0  # s from the start of the recording on its side

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "seconds": round(self.seconds, 3),
                "peak_dbfs": round(self.peak_dbfs, 2), "gain_db": round(self.gain_db, 2),
                "side": self.side, "start": round(self.start, 3)}


@dataclass
class MixtapePlan:
    length: str
    tape_type: str
    gap: float
    side_seconds: float
    tracks: list[PlannedTrack] = field(default_factory=list)
    overflow: list[PlannedTrack] = field(default_factory=list)

    def side(self, side: str) -> list[PlannedTrack]:
        return [t for t in self.tracks if t.side == side]

    def used(self, side: str) -> float:
        tracks = self.side(side)
        return tracks[-1].start + tracks[-1].seconds if tracks else 0.0

    def describe(self) -> str:
        lines = [f"mixtape on a {self.length} (Type {self.tape_type}), {self.gap:g} s gaps, "
                 f"{_mmss(self.side_seconds)} per side"]
        for side in ("A", "B"):
            tracks = self.side(side)
            lines.append(f"side {side}: {len(tracks)} tracks, {_mmss(self.used(side))}")
            for i, t in enumerate(tracks, 1):
                lines.append(f"  {i:2d}. {_mmss(t.start)}  {t.path.name}  {_mmss(t.seconds)}  "
                             f"peak {t.peak_dbfs:.1f} dBFS, {t.gain_db:+.1f} dB")
        if self.overflow:
            over = sum(t.seconds + self.gap for t in self.overflow)
            lines.append(f"does not fit ({_mmss(over)} too long): "
                         + ", ".join(t.path.name for t in self.overflow))
        return "\n".join(lines)


def _mmss(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def scan(path: Path) -> tuple[float, float]:
    """(seconds, peak dBFS) of an audio file, read block by block."""
    import soundfile

    try:
        with soundfile.SoundFile(str(path)) as f:
            peak = 0.0
            for block in f.blocks(blocksize=65536, dtype="float32", always_2d=True):
                peak = max(peak, float(np.abs(block).max(initial=0.0)))
            seconds = f.frames / f.samplerate
    except (OSError, RuntimeError) as exc:
        raise MixtapeError(f"{path}: cannot read it as audio ({exc}): "
                           "use WAV or FLAC files") from None
    return seconds, 20 * math.log10(peak) if peak > 0 else -120.0


def plan_mixtape(paths: list[Path], side_seconds: float, length: str = "C60",
                 tape_type: str = "I", gap: float = 3.0) -> MixtapePlan:
    """Fit `paths` in order on side A, then B (each side holds `side_seconds` of oxide)."""
    if not paths:
        raise MixtapeError("the playlist is empty: name at least one audio file")
    target = TARGET_PEAK_DBFS.get(tape_type, TARGET_PEAK_DBFS["I"])
    plan = MixtapePlan(length, tape_type, gap, side_seconds)
    side, at = "A", LEAD_IN
    for path in paths:
        seconds, peak = scan(Path(path))
        gain = max(-MAX_TRIM_DB, min(MAX_TRIM_DB, target - peak))
        if side == "A" and at + seconds > side_seconds:
            side, at = "B", LEAD_IN
        if at + seconds > side_seconds or (side == "B" and plan.overflow):
            plan.overflow.append(PlannedTrack(Path(path), seconds, peak, gain, "-", 0.0))
            continue
        plan.tracks.append(PlannedTrack(Path(path), seconds, peak, gain, side, at))
        at += seconds + gap
    return plan


class PlaylistSource(BlockSource):
    """One side's tracks, block by block: silence until `running`, then lead-in, tracks, gaps."""

    def __init__(self, tracks: list[PlannedTrack], rate: int, gap: float,
                 channels: int = 2) -> None:
        self.tracks, self.rate, self.gap, self.channels = list(tracks), rate, gap, channels
        self.running = False
        self.frame = 0  # frames played since running
        self._queue: list[tuple[int, PlannedTrack]] = [
            (round(t.start * rate), t) for t in tracks]
        self._audio: np.ndarray | None = None
        self._audio_at = 0
        self.end = round((tracks[-1].start + tracks[-1].seconds) * rate) if tracks else 0

    @property
    def done(self) -> bool:
        return self.running and self.frame >= self.end + round(0.5 * self.rate)

    def read(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, self.channels), np.float32)
        if not self.running:
            return out
        lo, hi = self.frame, self.frame + frames
        if self._audio is None and self._queue and self._queue[0][0] < hi:
            at, track = self._queue.pop(0)
            self._audio, self._audio_at = _load(track, self.rate, self.channels), at
        if self._audio is not None:
            a0, a1 = max(lo, self._audio_at), min(hi, self._audio_at + len(self._audio))
            if a1 > a0:
                out[a0 - lo:a1 - lo] = self._audio[a0 - self._audio_at:a1 - self._audio_at]
            if a1 >= self._audio_at + len(self._audio):
                self._audio = None
        self.frame = hi
        return out


def _load(track: PlannedTrack, rate: int, channels: int) -> np.ndarray:
    """The track at `rate` and its planned gain (a linear resample if its rate differs)."""
    import soundfile

    data, file_rate = soundfile.read(str(track.path), dtype="float32", always_2d=True)
    if data.shape[1] != channels:
        data = np.repeat(data[:, :1], channels, axis=1) if data.shape[1] == 1 else \
            data[:, :channels]
    if file_rate != rate:
        n = round(len(data) * rate / file_rate)
        x = np.arange(n) * (file_rate / rate)
        data = np.stack([np.interp(x, np.arange(len(data)), data[:, c])
                         for c in range(channels)], axis=1).astype(np.float32)
    return data * np.float32(10 ** (track.gain_db / 20))
