"""Peak and RMS level meters per channel, in dBFS (0 dBFS = full scale of the ADC).

Per block the meter only does array arithmetic; decibels are computed when read.
"""

from __future__ import annotations

import math

import numpy as np

FLOOR_DBFS = -120.0
RMS_TIME = 0.3  # s: integration time of the RMS meter (VU-like)
PEAK_FALL = 20.0  # dB/s: how fast the peak reading falls back (instant rise)


def dbfs(value: float) -> float:
    return 20 * math.log10(value) if value > 10 ** (FLOOR_DBFS / 20) else FLOOR_DBFS


class LevelMeter:
    """Fed every block of the chain; reads instantly-rising peaks and 300 ms RMS per channel."""

    def __init__(self, rate: int, channels: int = 2) -> None:
        self.rate, self.channels = rate, channels
        self._ms = np.zeros(channels)
        self._peak = np.zeros(channels)
        self._coefficients: dict[int, tuple[float, float, float]] = {}
        self.block_peak = np.zeros(channels)
        self.block_ms = np.zeros(channels)

    def _for(self, n: int) -> tuple[float, float, float]:
        c = self._coefficients.get(n)
        if c is None:
            a = math.exp(-n / (self.rate * RMS_TIME))
            c = self._coefficients[n] = (a, (1 - a) / n, 10 ** (-PEAK_FALL * n / self.rate / 20))
        return c

    def feed(self, block: np.ndarray) -> None:
        n = len(block)
        if n == 0:
            return
        keep, gain, fall = self._for(n)
        x = block.T  # (channels, frames): the chain's blocks are laid out so, channel by channel
        self.block_peak = np.abs(x).max(axis=1)
        self.block_ms = np.einsum("ij,ij->i", x, x)
        self._ms = keep * self._ms + gain * self.block_ms
        self._peak = np.maximum(self.block_peak, fall * self._peak)

    @property
    def peak_dbfs(self) -> list[float]:
        return [round(dbfs(float(p)), 2) for p in self._peak]

    @property
    def rms_dbfs(self) -> list[float]:
        return [round(dbfs(math.sqrt(float(m))), 2) for m in self._ms]

    def levels(self) -> dict[str, list[float]]:
        return {"peak_dbfs": self.peak_dbfs, "rms_dbfs": self.rms_dbfs}
