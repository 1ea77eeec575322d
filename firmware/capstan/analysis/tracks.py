"""Track detection: the gaps of hiss between the songs on a cassette.

Levels are measured in 5 ms frames (boundaries fall within a frame) and
judged 100 ms at a time, so the thresholds follow the tape:

- the hiss floor is the quietest 100 ms of the last 20 s (minimum statistics),
  and once a gap has been heard, never more than 3 dB above the hiss measured
  in it, so a long quiet song cannot lift the floor up to itself;
- a frame is silent below floor + 8 dB and 15 dB below the programme (the
  loudest 100 ms of sound in the last 10 s), so hiss that differs per
  cassette, from -75 to -45 dBFS, needs no setting;
- a silent run becomes a gap once it has lasted `min_gap_s` (1.8 s, so every
  2 s gap is found with room to spare); clicks shorter than 15 ms do not
  break it. When the sound comes back the gap yields a `TrackMark`.

A 1.5 s quiet passage is never a gap: it is too short, and at -42 dBFS it is
18 dB above a -60 dBFS hiss, well over the 8 dB margin.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

FRAME_S = 0.005
FRAMES_PER_TICK = 20        # 100 ms
FLOOR_MEMORY_S = 20
PROGRAMME_MEMORY_S = 10
MARGIN_DB = 8.0
DEPTH_DB = 15.0
HISS_HEADROOM_DB = 3.0
BREAK_FRAMES = 3            # 15 ms of sound ends a silent run
# Below this a frame is digital silence (a muted DAC, a WAV's zeros), not tape: the quietest
# tape hiss is near -80 dBFS and 16-bit dither is -101 dBFS. It is silent, but it never
# sets the hiss floor, or a gap of real hiss would sound loud next to it.
DIGITAL_SILENCE_DBFS = -100.0


@dataclass(frozen=True)
class TrackMark:
    """A gap between two tracks, in seconds of stream time."""

    gap_start: float   # the previous track ends here
    gap_end: float     # the next track starts here
    hiss_dbfs: float   # the hiss level measured in the gap

    def to_dict(self) -> dict[str, float]:
        return {"gap_start": round(self.gap_start, 3), "gap_end": round(self.gap_end, 3),
                "hiss_dbfs": round(self.hiss_dbfs, 1)}


@dataclass(frozen=True)
class Track:
    number: int
    start: float
    end: float

    def to_dict(self) -> dict[str, float]:
        return {"number": self.number, "start": round(self.start, 3), "end": round(self.end, 3)}


class TrackDetector:
    """Feed blocks (frames, channels) with the stream time of their first frame.

    `hiss_dbfs` seeds the floor with a cassette's known hiss (from its TOC).
    A jump in the timestamps (a wind, a seek) drops the partial frame and the
    silent run in progress but keeps what was learned about the hiss.
    """

    def __init__(self, sample_rate: float = 48000.0, min_gap_s: float = 1.8,
                 hiss_dbfs: float | None = None) -> None:
        self.sample_rate = sample_rate
        self.min_gap_s = min_gap_s
        self._frame = max(1, round(FRAME_S * sample_rate))
        self._frame_s = self._frame / sample_rate
        self._pending = np.zeros(0)
        self._pending_t = 0.0
        self._next_t: float | None = None
        self._floor_bins: deque[float] = deque(maxlen=FLOOR_MEMORY_S)
        self._prog_bins: deque[float] = deque(maxlen=PROGRAMME_MEMORY_S)
        self._bin_floor = math.inf
        self._bin_prog = -math.inf
        self._ticks = 0
        self._hiss = hiss_dbfs
        self._run_start: float | None = None
        self._run_levels: list[float] = []
        self._loud = 0
        self._loud_at = 0.0
        self.in_gap = False
        self.first_sound: float | None = None
        self.last_sound: float | None = None
        self.floor_dbfs: float | None = hiss_dbfs

    def feed(self, block: np.ndarray, t: float) -> list[TrackMark]:
        block = np.asarray(block)
        channels = block.shape[1] if block.ndim == 2 else 1
        width = self._frame * channels  # interleaved values per frame
        if self._next_t is not None and abs(t - self._next_t) > self._frame_s:
            self._pending = np.zeros(0)
            self._run_start, self.in_gap, self._loud = None, False, 0
        self._next_t = t + len(block) / self.sample_rate
        if not len(self._pending):
            self._pending_t = t
        power = np.square(block.ravel(), dtype=np.float64)
        data = np.concatenate([self._pending, power]) if len(self._pending) else power
        group = width * FRAMES_PER_TICK
        whole = len(data) // group * group
        marks: list[TrackMark] = []
        if whole:
            frames = data[:whole].reshape(-1, FRAMES_PER_TICK, width).sum(axis=2)
            levels = 10 * np.log10(frames * (1 / width) + 1e-20)
            ticks = 10 * np.log10(frames.sum(axis=1) * (1 / group) + 1e-20)
            step = self._frame_s * FRAMES_PER_TICK
            for k in range(len(frames)):
                self._judge_tick(levels[k], float(ticks[k]), self._pending_t + k * step, marks)
        self._pending = data[whole:]
        self._pending_t += whole / (self.sample_rate * channels)
        return marks

    def _judge_tick(self, levels: np.ndarray, tick: float, t0: float,
                    marks: list[TrackMark]) -> None:
        if not (levels < DIGITAL_SILENCE_DBFS).any():  # the floor is the tape's, never zeros
            self._bin_floor = min(self._bin_floor, tick)
        floor = min([self._bin_floor, *self._floor_bins])
        if self._hiss is not None:
            floor = min(floor, self._hiss + HISS_HEADROOM_DB)
        self.floor_dbfs = floor if floor < math.inf else None
        threshold = floor + MARGIN_DB
        programme = max([self._bin_prog, *self._prog_bins])
        if programme > -math.inf:
            threshold = min(threshold, programme - DEPTH_DB)
        silent = levels < threshold
        if not silent.any() and self._run_start is None:  # sound goes on: the common case
            self.first_sound = t0 if self.first_sound is None else self.first_sound
            self.last_sound = t0 + len(levels) * self._frame_s
        elif silent.all() and self._run_start is not None and self.in_gap:  # the gap goes on
            self._loud = 0
            self._run_levels.extend(levels.tolist())
        else:
            for i, quiet in enumerate(silent.tolist()):
                self._judge_frame(quiet, float(levels[i]), t0 + i * self._frame_s, marks)
        if not silent.any():
            self._bin_prog = max(self._bin_prog, tick)
        self._ticks += 1
        if self._ticks % 10 == 0:  # a new second
            self._floor_bins.append(self._bin_floor)
            if self._bin_prog > -math.inf:
                self._prog_bins.append(self._bin_prog)
            self._bin_floor, self._bin_prog = math.inf, -math.inf

    def _judge_frame(self, quiet: bool, level: float, tf: float, marks: list[TrackMark]) -> None:
        if quiet:
            if self._run_start is None:
                self._run_start, self._run_levels = tf, []
            self._loud = 0
            self._run_levels.append(level)
            if not self.in_gap and tf + self._frame_s - self._run_start >= self.min_gap_s:
                self.in_gap = True
                tape = [x for x in self._run_levels if x >= DIGITAL_SILENCE_DBFS]
                if tape:  # a gap of digital silence tells nothing about the hiss
                    self._hiss = float(np.median(tape))
            return
        if self._run_start is None:
            if self.first_sound is None:
                self.first_sound = tf
            self.last_sound = tf + self._frame_s
            return
        self._loud += 1
        if self._loud == 1:
            self._loud_at = tf
        if self._loud < BREAK_FRAMES:
            return
        if self.first_sound is None:
            self.first_sound = self._loud_at
        elif self.in_gap:
            hiss = self._hiss if self._hiss is not None else level
            marks.append(TrackMark(self._run_start, self._loud_at, hiss))
        self._run_start, self.in_gap, self._loud = None, False, 0
        self.last_sound = tf + self._frame_s


def track_list(marks: list[TrackMark], first_sound: float | None,
               last_sound: float | None) -> list[Track]:
    """Tracks between the first and last sound, split at the marks."""
    if first_sound is None or last_sound is None:
        return []
    starts = [first_sound] + [m.gap_end for m in marks]
    ends = [m.gap_start for m in marks] + [last_sound]
    return [Track(i + 1, s, e) for i, (s, e) in enumerate(zip(starts, ends, strict=True))]


def quietest_tape_dbfs(samples: np.ndarray, sample_rate: float) -> float | None:
    """The level of the quietest 100 ms of a recording that holds no digital silence:
    its tape hiss, when it has a gap (None: nothing but digital silence)."""
    samples = np.asarray(samples)
    channels = samples.shape[1] if samples.ndim == 2 else 1
    frame = max(1, round(FRAME_S * sample_rate))
    n = len(samples) // (frame * FRAMES_PER_TICK) * FRAMES_PER_TICK
    if not n:
        return None
    best = math.inf
    step = FRAMES_PER_TICK * 3000  # frames at a time: bounded memory on long recordings
    for start in range(0, n, step):
        part = samples[start * frame:min(n, start + step) * frame]
        power = np.square(part.reshape(-1, frame * channels), dtype=np.float64).mean(axis=1)
        levels = 10 * np.log10(power + 1e-20).reshape(-1, FRAMES_PER_TICK)
        ticks = 10 * np.log10(power.reshape(-1, FRAMES_PER_TICK).mean(axis=1) + 1e-20)
        tape = ~(levels < DIGITAL_SILENCE_DBFS).any(axis=1)
        if tape.any():
            best = min(best, float(ticks[tape].min()))
    return best if best < math.inf else None


def detect_tracks(samples: np.ndarray, sample_rate: float, block_s: float = 1.0,
                  **options: float) -> tuple[list[Track], list[TrackMark]]:
    """Run the detector over a whole recording, as the player would hear it.

    The whole recording is at hand, so unless `hiss_dbfs` is given the floor is seeded
    with its quietest 100 ms of tape (digital silence left out): a recording that starts
    straight with music, or after a muted leader, is judged against the tape's hiss from
    its first frame."""
    if options.get("hiss_dbfs") is None:
        options["hiss_dbfs"] = quietest_tape_dbfs(samples, sample_rate)  # type: ignore[assignment]
    detector = TrackDetector(sample_rate, **options)
    marks: list[TrackMark] = []
    size = max(1, int(block_s * sample_rate))
    for start in range(0, len(samples), size):
        marks += detector.feed(samples[start:start + size], start / sample_rate)
    return track_list(marks, detector.first_sound, detector.last_sound), marks
