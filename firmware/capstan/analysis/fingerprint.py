"""Knowing the cassette: a fingerprint of its first seconds of audio after the leader.

The fingerprint is the loudness in 16 bands, spaced evenly in log frequency
from 150 Hz to 6 kHz, every 100 ms for 8 s: 80 × 16 bytes (0.5 dB steps),
1280 bytes per cassette side.

Two fingerprints are compared by the best Pearson correlation over speed
ratios within ±3 % (a deck running 2 % fast plays every tone 2 % higher and
every note 2 % shorter, so both axes are stretched together) and start
offsets within ±0.5 s (where "after the leader" begins varies a little).
Band levels more than 45 dB below the loudest are held at that floor, so tape
hiss does not decide the score.

`MATCH_THRESHOLD` = 0.6: the same audio at ±2 % speed with hiss scores above
0.85 in the tests, different music below 0.3. The daemon trusts a match only
when a second fingerprint, taken later, matches as well.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

from capstan.analysis import AnalysisError

SECONDS = 8.0
HOP_S = 0.1
FFT = 4096
BANDS = 16
LOW_HZ, HIGH_HZ = 150.0, 6000.0
RANGE_DB = 45.0
STEP_DB = 0.5
MAX_SPEED_ERROR = 0.03
SPEED_STEP = 0.0025
MAX_OFFSET_S = 0.5
MATCH_THRESHOLD = 0.6
MIN_OVERLAP = 0.75  # share of the frames that must overlap for a score to count

_EDGES = np.geomspace(LOW_HZ, HIGH_HZ, BANDS + 1)
_BAND_RATIO = (HIGH_HZ / LOW_HZ) ** (1 / BANDS)


@dataclass(frozen=True)
class Fingerprint:
    levels: np.ndarray  # (frames, BANDS) uint8, 0.5 dB steps above the floor

    def to_text(self) -> str:
        return base64.b64encode(self.levels.astype(np.uint8).tobytes()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> Fingerprint:
        raw = np.frombuffer(base64.b64decode(text), np.uint8)
        return cls(raw.reshape(-1, BANDS).copy())


def take_fingerprint(samples: np.ndarray, sample_rate: float) -> Fingerprint:
    """Fingerprint the first `SECONDS` of `samples` (frames,) or (frames, channels)."""
    samples = np.asarray(samples, dtype=float)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    hop = round(HOP_S * sample_rate)
    frames = int(SECONDS / HOP_S)
    if len(mono) < (frames - 1) * hop + FFT:
        raise AnalysisError(f"a fingerprint needs {SECONDS + FFT / sample_rate:.1f} s of audio "
                            f"after the leader; got {len(mono) / sample_rate:.1f} s")
    windows = np.lib.stride_tricks.as_strided(
        mono, shape=(frames, FFT), strides=(hop * mono.strides[0], mono.strides[0]))
    power = np.abs(np.fft.rfft(windows * np.hanning(FFT), axis=1)) ** 2
    bins = np.fft.rfftfreq(FFT, 1 / sample_rate)
    band = np.searchsorted(_EDGES, bins, side="right") - 1
    inside = (band >= 0) & (band < BANDS)
    energy = np.zeros((frames, BANDS))
    for b in range(BANDS):
        energy[:, b] = power[:, inside & (band == b)].sum(axis=1)
    db = 10 * np.log10(energy + 1e-30)
    floor = db.max() - RANGE_DB
    levels = np.clip(np.round((db - floor) / STEP_DB), 0, 255)
    return Fingerprint(levels.astype(np.uint8))


def _warp(levels: np.ndarray, ratio: float) -> np.ndarray:
    """`levels` as heard at `ratio` × the speed: time compressed, bands shifted up."""
    frames = len(levels)
    t = np.arange(frames) * ratio  # frame i of the fast copy is frame i·ratio of the original
    t = t[t <= frames - 1]
    lo = np.floor(t).astype(int)
    hi = np.minimum(lo + 1, frames - 1)
    frac = (t - lo)[:, None]
    timed = levels[lo] * (1 - frac) + levels[hi] * frac
    shift = math.log(ratio) / math.log(_BAND_RATIO)  # bands up
    src = np.arange(BANDS) - shift
    lo_b = np.clip(np.floor(src).astype(int), 0, BANDS - 1)
    hi_b = np.clip(lo_b + 1, 0, BANDS - 1)
    fb = np.clip(src - np.floor(src), 0, 1)
    return timed[:, lo_b] * (1 - fb) + timed[:, hi_b] * fb


def match_score(known: Fingerprint, heard: Fingerprint) -> float:
    """How alike two fingerprints are, -1..1, at the best speed ratio and start offset."""
    a_all = known.levels.astype(float)
    b_all = heard.levels.astype(float)
    max_off = round(MAX_OFFSET_S / HOP_S)
    need = MIN_OVERLAP * min(len(a_all), len(b_all))
    best = -1.0
    steps = round(MAX_SPEED_ERROR / SPEED_STEP)
    for k in range(-steps, steps + 1):
        a_warped = _warp(a_all, 1 + k * SPEED_STEP)
        for off in range(-max_off, max_off + 1):
            a = a_warped[max(0, off):]
            b = b_all[max(0, -off):]
            n = min(len(a), len(b))
            if n < need:
                continue
            x, y = a[:n].ravel(), b[:n].ravel()
            x, y = x - x.mean(), y - y.mean()
            den = math.sqrt(float(x @ x) * float(y @ y))
            if den > 0:
                best = max(best, float(x @ y) / den)
    return best


def is_match(known: Fingerprint, heard: Fingerprint) -> bool:
    return match_score(known, heard) >= MATCH_THRESHOLD
