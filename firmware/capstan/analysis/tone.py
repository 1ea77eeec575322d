"""Is a test tone playing? Lets the wow & flutter meter start by itself.

Every 4096 samples (85 ms at 48 kHz) the detector looks at one Hann-windowed
spectrum: a test tone is a single line holding nearly all of the power
(`TONALITY` of it within ±4 bins of the peak), loud enough (`MIN_LEVEL_DBFS`),
within ±`MAX_SPEED_ERROR` of 3150 Hz or 3000 Hz. Music never holds that for
long; a tone is declared after `ON_S` of consecutive hits and dropped after
`OFF_S` of misses.
"""

from __future__ import annotations

import math

import numpy as np

from capstan.analysis.flutter import MAX_SPEED_ERROR, nearest_test_tone

WINDOW = 4096
TONALITY = 0.9
MIN_LEVEL_DBFS = -50.0
ON_S = 1.0
OFF_S = 0.3


class ToneDetector:
    """Feed blocks; `tone_hz` is the nominal test tone playing (3150.0, 3000.0) or None."""

    def __init__(self, sample_rate: float = 48000.0) -> None:
        self.sample_rate = sample_rate
        self._window = np.hanning(WINDOW)
        self._pending = np.zeros(0)
        self._hits = 0
        self._misses = 0
        self._on = math.ceil(ON_S * sample_rate / WINDOW)
        self._off = math.ceil(OFF_S * sample_rate / WINDOW)
        self.tone_hz: float | None = None
        self.frequency_hz: float | None = None  # of the last hit

    def feed(self, block: np.ndarray) -> float | None:
        """Take a block (frames,) or (frames, channels); return `tone_hz`."""
        block = np.asarray(block, dtype=float)
        mono = block.mean(axis=1) if block.ndim == 2 else block
        data = np.concatenate([self._pending, mono])
        whole = len(data) // WINDOW * WINDOW
        for frame in data[:whole].reshape(-1, WINDOW):
            self._judge(self._look(frame))
        self._pending = data[whole:]
        return self.tone_hz

    def _look(self, frame: np.ndarray) -> float | None:
        power = float(np.mean(frame * frame))
        if power <= 0 or 10 * math.log10(power) < MIN_LEVEL_DBFS:
            return None
        spectrum = np.abs(np.fft.rfft(frame * self._window)) ** 2
        spectrum[0] = 0.0
        i = int(np.argmax(spectrum[1:-1])) + 1
        if spectrum[max(0, i - 4):i + 5].sum() < TONALITY * spectrum.sum():
            return None
        a, b, c = np.log(spectrum[i - 1:i + 2] + 1e-30)
        curve = a - 2 * b + c
        freq = (i + (0.5 * (a - c) / curve if curve else 0.0)) * self.sample_rate / WINDOW
        nominal = nearest_test_tone(freq)
        if abs(freq / nominal - 1) > MAX_SPEED_ERROR:
            return None
        self.frequency_hz = freq
        return nominal

    def _judge(self, nominal: float | None) -> None:
        if nominal is not None and (self.tone_hz in (None, nominal)):
            self._misses = 0
            self._hits += 1
            if self._hits >= self._on:
                self.tone_hz = nominal
        else:
            self._hits = 0 if nominal is None else 1
            self._misses += 1
            if self._misses >= self._off:
                self.tone_hz = None
