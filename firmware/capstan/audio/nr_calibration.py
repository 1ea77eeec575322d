"""Recognising the reference-level calibration tone: 400 Hz at the tape's reference flux.

Calibration tapes (and the first seconds of many B-type recordings) carry a 400 Hz tone at
Dolby level, 200 nWb/m. While the tape plays, every block of the analysis tap is
checked cheaply: its level, its crest factor (a pure sine has √2) and, only when
those fit a sine, its frequency from the (interpolated) zero crossings. HOLD_S
seconds of blocks that agree (400 Hz within the capstan's speed tolerance, crest
within 3 %, level steady within 0.3 dB and within ±WINDOW_DB of the expected
reference) make a reading: the tone's peak level in dBFS. One reading per tone; the
tone must stop before it counts again.
"""

from __future__ import annotations

import math

import numpy as np

TONE_HZ = 400.0
SPEED_TOLERANCE = 0.04  # a capstan within ±4 % still counts
HOLD_S = 3.0  # s of steady tone before it is taken
STEADY_DB = 0.3
CREST = math.sqrt(2)
CREST_TOLERANCE = 0.03
WINDOW_DB = 12.0  # how far from the board's default reference a tone may be
FLOOR_DBFS = -40.0


def _frequency(x: np.ndarray, rate: int) -> float:
    """From the first and the last zero crossing (interpolated) and how many lie between."""
    idx = np.flatnonzero(np.signbit(x[1:]) != np.signbit(x[:-1]))
    if len(idx) < 3:
        return 0.0
    first, last = (float(i + x[i] / (x[i] - x[i + 1])) for i in (idx[0], idx[-1]))
    return (len(idx) - 1) * rate / (2 * (last - first)) if last > first else 0.0


class ToneWatch:
    def __init__(self, rate: int, expected_dbfs: float | None = None) -> None:
        self.rate = rate
        self.expected_dbfs = expected_dbfs
        self.reset()

    def reset(self) -> None:
        self._levels: list[float] = []
        self._seconds = 0.0
        self.taken = False  # one reading per steady tone

    def feed(self, block: np.ndarray) -> float | None:
        """A reading (dBFS, the tone's peak) once HOLD_S of steady 400 Hz tone were heard."""
        x = np.asarray(block[:, 0], np.float64)
        n = len(x)
        if n < 64:
            return None
        rms = math.sqrt(float(np.dot(x, x)) / n)
        peak_dbfs = 20 * math.log10(rms * CREST) if rms > 0 else -200.0
        crest = float(max(x.max(), -x.min())) / rms if rms > 0 else 0.0
        # the cheap tests first: music fails the crest factor, and its frequency is not needed
        tone = (peak_dbfs > FLOOR_DBFS and abs(crest / CREST - 1) <= CREST_TOLERANCE
                and (self.expected_dbfs is None
                     or abs(peak_dbfs - self.expected_dbfs) <= WINDOW_DB)
                and abs(_frequency(x, self.rate) / TONE_HZ - 1) <= SPEED_TOLERANCE)
        if not tone or (self._levels and abs(peak_dbfs - self._levels[0]) > STEADY_DB):
            taken = self.taken and tone
            self.reset()
            self.taken = taken
            if tone:
                self._levels.append(peak_dbfs)
                self._seconds = n / self.rate
            return None
        self._levels.append(peak_dbfs)
        self._seconds += n / self.rate
        if self._seconds >= HOLD_S and not self.taken:
            self.taken = True
            return float(np.median(self._levels))
        return None
