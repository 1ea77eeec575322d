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

from capstan.analysis.flutter import MAX_SPEED_ERROR, TEST_TONES_HZ, nearest_test_tone
from capstan.analysis.frames import FrameFiller

WINDOW = 4096
TONALITY = 0.9
MIN_LEVEL_DBFS = -50.0
ON_S = 1.0
OFF_S = 0.3


def _to_mono(part: np.ndarray, into: np.ndarray) -> None:
    if part.ndim == 1:
        into[:] = part
    elif part.shape[1] == 2:  # the mean of the two channels, in float64
        np.add(part[:, 0], part[:, 1], dtype=np.float64, out=into)
        into *= 0.5
    else:
        np.mean(part, axis=1, dtype=np.float64, out=into)


class ToneDetector:
    """Feed blocks; `tone_hz` is the nominal test tone playing (3150.0, 3000.0) or None."""

    def __init__(self, sample_rate: float = 48000.0) -> None:
        self.sample_rate = sample_rate
        self._window = np.hanning(WINDOW)
        self._filler = FrameFiller(np.empty(WINDOW), _to_mono)  # mono, float64
        self._hits = 0
        self._misses = 0
        self._on = math.ceil(ON_S * sample_rate / WINDOW)
        self._off = math.ceil(OFF_S * sample_rate / WINDOW)
        self.tone_hz: float | None = None
        self.frequency_hz: float | None = None  # of the last hit

    def feed(self, block: np.ndarray) -> float | None:
        """Take a block (frames,) or (frames, channels); return `tone_hz`."""
        for frame in self._filler.feed(np.asarray(block)):
            self._judge(self._look(frame))
        return self.tone_hz

    def peak(self, frame: np.ndarray) -> float | None:
        """The frequency of the one tone holding a WINDOW-long frame, if it is loud
        enough; None for music, noise or silence."""
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
        return (i + (0.5 * (a - c) / curve if curve else 0.0)) * self.sample_rate / WINDOW

    def _look(self, frame: np.ndarray) -> float | None:
        freq = self.peak(frame)
        if freq is None:
            return None
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


def tone_stretch(samples: np.ndarray, sample_rate: float, tone_hz: float | None = None,
                 ) -> tuple[int, int, float] | None:
    """Where the test tone is in a recording: (first sample, end sample, nominal Hz) of
    its longest stretch, or None. Leaders, silence, music and the clicks of the tape
    starting and stopping around it are left out.

    A stretch is a run of WINDOW-long frames each holding one tone within
    MAX_SPEED_ERROR of `tone_hz` (or of 3150 or 3000 Hz: the nominal is the one nearer
    the stretch's median frequency); dropouts up to OFF_S long do not end it. Its first
    and last frame, where the tone starts or stops, are left out (not where the
    recording itself starts or ends)."""
    mono = np.asarray(samples, dtype=float)
    if mono.ndim == 2:
        mono = mono[:, 0]
    detector = ToneDetector(sample_rate)
    gap_max = math.ceil(OFF_S * sample_rate / WINDOW)
    targets = (tone_hz,) if tone_hz is not None else TEST_TONES_HZ
    best: tuple[int, int, list[float]] | None = None
    first = last = -1  # frames of the run in progress
    freqs: list[float] = []
    frames = len(mono) // WINDOW
    for k in range(frames + 1):
        freq = detector.peak(mono[k * WINDOW:(k + 1) * WINDOW]) if k < frames else None
        hit = freq is not None and any(abs(freq / t - 1) <= MAX_SPEED_ERROR for t in targets)
        if hit:
            first = k if first < 0 else first
            last = k
            freqs.append(freq)  # type: ignore[arg-type]
        elif first >= 0 and (k - last > gap_max or k == frames):
            if best is None or last - first > best[1] - best[0]:
                best = (first, last, freqs)
            first, last, freqs = -1, -1, []
    if best is None or best[1] - best[0] < 2:
        return None
    first, last, found = best
    nominal = tone_hz if tone_hz is not None else nearest_test_tone(float(np.median(found)))
    start = 0 if first == 0 else (first + 1) * WINDOW  # the recording starts in the tone
    end = len(mono) if last == frames - 1 else last * WINDOW  # or ends in it
    return start, end, nominal
