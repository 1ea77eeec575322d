"""Azimuth: how well the left and right tracks of the head line up.

A tilted head reads one track later than the other. The meter shows, over
the last `averaging_s` (exponential average of 4096-sample spectra):

- `correlation`: +1 in phase, 0 unrelated, -1 in antiphase (time domain, Pearson);
- `phase_deg` at the strongest frequency (the azimuth test tone, 8-10 kHz):
  positive when the right channel lags; adjust the screw until it reads 0;
- `delay_us`: the right channel's lag from the peak of the cross-correlation
  (±1 ms, interpolated), useful on music where there is no single tone.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from capstan.analysis.frames import FrameFiller

WINDOW = 4096
MAX_LAG_S = 0.001


@dataclass(frozen=True)
class AzimuthReading:
    correlation: float
    phase_deg: float
    phase_at_hz: float
    delay_us: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _as_rows(part: np.ndarray, into: np.ndarray) -> None:
    into[:] = part[:, :2].T


class AzimuthMeter:
    def __init__(self, sample_rate: float = 48000.0, averaging_s: float = 0.5) -> None:
        self.sample_rate = sample_rate
        self._alpha = math.exp(-WINDOW / (averaging_s * sample_rate))
        self._window = np.hanning(WINDOW)
        self._filler = FrameFiller(np.empty((2, WINDOW)), _as_rows)  # left, right
        self._cross = np.zeros(WINDOW // 2 + 1, dtype=complex)
        self._sums = np.zeros(3)  # Σ l·r, Σ l², Σ r²
        self._frames = 0

    def feed(self, block: np.ndarray) -> None:
        """Take a block (frames, 2)."""
        for frame in self._filler.feed(np.asarray(block)):
            self._take(frame)

    def _take(self, frame: np.ndarray) -> None:
        left, right = frame
        a = self._alpha
        spectra = np.fft.rfft(frame * self._window, axis=1)
        self._cross = a * self._cross + (1 - a) * spectra[0] * np.conj(spectra[1])
        sums = np.array([left @ right, left @ left, right @ right])
        self._sums = a * self._sums + (1 - a) * sums
        self._frames += 1

    def reading(self) -> AzimuthReading | None:
        lr, ll, rr = self._sums
        if not self._frames or ll <= 0 or rr <= 0:
            return None
        k = int(np.argmax(np.abs(self._cross[1:]))) + 1
        xcorr = np.fft.irfft(self._cross, WINDOW)
        lags = int(MAX_LAG_S * self.sample_rate)
        around = np.concatenate([xcorr[-lags:], xcorr[:lags + 1]])  # lags -L..+L
        coarse = int(np.argmax(around)) - lags  # L·conj(R) peaks at -d when R lags L by d
        # Refine below a sample from the slope of the residual cross-spectrum phase.
        freqs = np.arange(len(self._cross)) / WINDOW  # cycles per sample
        residual = self._cross * np.exp(2j * np.pi * freqs * coarse)
        weight = np.abs(residual) * freqs
        fine = np.sum(weight * np.angle(residual)) / (2 * np.pi * np.sum(weight * freqs))
        lag = -coarse + fine
        return AzimuthReading(
            correlation=float(lr / math.sqrt(ll * rr)),
            phase_deg=float(np.degrees(np.angle(self._cross[k]))),
            phase_at_hz=k * self.sample_rate / WINDOW,
            delay_us=float(lag / self.sample_rate * 1e6),
        )
