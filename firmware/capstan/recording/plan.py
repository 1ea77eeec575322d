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

import logging
import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from capstan.errors import CapstanError
from capstan.recording.feed import BlockSource
from capstan.recording.level import TARGET_PEAK_DBFS

log = logging.getLogger(__name__)

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
    """One side's tracks, block by block: silence until `running`, then lead-in, tracks, gaps.

    The files are decoded by a thread of the source's own (`TrackReader`), up to
    READ_AHEAD seconds ahead, so the loop never reads or decodes a file. Should the
    reader fall behind (a disk that stalls for longer than READ_AHEAD), what it has not
    delivered in time is left out and counted in `late_frames`: every track still starts
    at its planned place, so the marks stay right.
    """

    def __init__(self, tracks: list[PlannedTrack], rate: int, gap: float,
                 channels: int = 2) -> None:
        self.tracks, self.rate, self.gap, self.channels = list(tracks), rate, gap, channels
        self.running = False
        self.frame = 0  # frames played since running
        self.late_frames = 0  # track frames the reader had not delivered in time
        self._starts = [round(t.start * rate) for t in self.tracks]
        self._reader = TrackReader(self.tracks, rate, channels)
        self._now = 0  # the track playing or next to play
        self._held = np.zeros((0, channels), np.float32)  # its samples not yet played
        self._got = 0  # its samples the reader delivered (the last of them are _held)
        self._ended = False  # the reader delivered all of it
        self.end = round((tracks[-1].start + tracks[-1].seconds) * rate) if tracks else 0

    @property
    def done(self) -> bool:
        return self.running and self.frame >= self.end + round(0.5 * self.rate)

    def read(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, self.channels), np.float32)
        if not self.running:
            return out
        lo, hi = self.frame, self.frame + frames
        self.frame = hi
        while self._now < len(self.tracks) and self._starts[self._now] < hi:
            start = self._starts[self._now]
            if not self._fill(lo - start, hi - start, out[max(start, lo) - lo:]):
                return out  # the track goes on in the next block
            self._next_track()
        return out

    def _fill(self, a: int, b: int, into: np.ndarray) -> bool:
        """Samples [max(a, 0), b) of the current track into `into` (whose first row is
        sample max(a, 0)); True when the track ended within them."""
        a = max(a, 0)
        while not self._ended and self._got <= b:  # a chunk ahead, to see the track's end
            chunk = self._reader.take(self._now)
            if chunk is None:  # the reader has nothing ready: it is behind
                break
            if chunk is END:
                self._ended = True
            else:
                self._held = np.concatenate([self._held, chunk]) if len(self._held) else chunk
                self._got += len(chunk)
        first = self._got - len(self._held)  # the track index of _held[0]
        if first < a:  # what came too late for its place on the tape
            self._held = self._held[min(a - first, len(self._held)):]
            first = self._got - len(self._held)
        last = min(self._got, b)
        if last > first:
            into[first - a:last - a] = self._held[:last - first]
            self._held = self._held[last - first:]
        if not self._ended and self._got < b:
            self.late_frames += b - max(self._got, a)
        return self._ended and self._got <= b

    def _next_track(self) -> None:
        self._now += 1
        self._held = np.zeros((0, self.channels), np.float32)
        self._got, self._ended = 0, False

    def close(self) -> None:
        """Stop the reader (the recording ended or was replaced)."""
        self._reader.close()


END = np.zeros((0, 0), np.float32)  # the reader's word that a track has no more samples
READ_AHEAD = 5.0  # s of audio the reader decodes ahead of the tape
CHUNK = 0.5  # s per chunk the reader hands over


class TrackReader:
    """Decodes the tracks in order on a thread, CHUNK at a time, at most READ_AHEAD ahead."""

    def __init__(self, tracks: list[PlannedTrack], rate: int, channels: int) -> None:
        self.tracks, self.rate, self.channels = tracks, rate, channels
        self._queue: queue.Queue[tuple[int, np.ndarray]] = queue.Queue(
            maxsize=max(1, round(READ_AHEAD / CHUNK)))
        self._waiting: tuple[int, np.ndarray] | None = None  # taken, for a later track
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="playlist reader", daemon=True)
        self._thread.start()

    def take(self, track: int) -> np.ndarray | None:
        """The next chunk of `track` (or END), or None if the reader has none ready."""
        if self._waiting is None:
            try:
                self._waiting = self._queue.get_nowait()
            except queue.Empty:
                return None
        index, chunk = self._waiting
        if index < track:  # a track left behind: drop what was read of it
            self._waiting = None
            return self.take(track)
        if index > track:
            return END  # the reader has moved on: this track has no more
        self._waiting = None
        return chunk

    def close(self) -> None:
        self._closed.set()

    def _put(self, item: tuple[int, np.ndarray]) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.25)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        for index, track in enumerate(self.tracks):
            try:
                for chunk in _chunks(track, self.rate, self.channels):
                    if not self._put((index, chunk)):
                        return
            except Exception as exc:  # a file that went bad since the pre-scan: silence
                log.warning("playlist: %s cannot be read (%s): silence in its place",
                            track.path, exc)
            if not self._put((index, END)):
                return


def _chunks(track: PlannedTrack, rate: int, channels: int) -> Iterator[np.ndarray]:
    """The track at `rate`, channels and gain, CHUNK seconds at a time."""
    import soundfile

    from capstan.wavfile import resample

    gain = np.float32(10 ** (track.gain_db / 20))
    step = round(CHUNK * rate)
    with soundfile.SoundFile(str(track.path)) as f:
        if f.samplerate != rate:  # resampled whole (linear), on this thread
            data = resample(_channels(f.read(dtype="float32", always_2d=True), channels),
                            f.samplerate, rate) * gain
            for i in range(0, len(data), step):
                yield data[i:i + step]
            return
        while True:
            data = f.read(step, dtype="float32", always_2d=True)
            if not len(data):
                return
            yield _channels(data, channels) * gain


def _channels(data: np.ndarray, channels: int) -> np.ndarray:
    if data.shape[1] == channels:
        return data
    return np.repeat(data[:, :1], channels, axis=1) if data.shape[1] == 1 else \
        data[:, :channels]
