"""Peak and RMS level meters per channel, in dBFS (0 dBFS = full scale of the ADC)."""

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
        self._peak_db = np.full(channels, FLOOR_DBFS)
        self.block_peak = np.zeros(channels)
        self.block_rms = np.zeros(channels)

    def feed(self, block: np.ndarray) -> None:
        n = len(block)
        if n == 0:
            return
        peak = np.abs(block).max(axis=0)
        ms = np.einsum("ij,ij->j", block, block) / n
        self.block_peak, self.block_rms = peak, np.sqrt(ms)
        a = math.exp(-n / (self.rate * RMS_TIME))
        self._ms = a * self._ms + (1 - a) * ms
        fallen = self._peak_db - PEAK_FALL * n / self.rate
        self._peak_db = np.maximum(fallen, [dbfs(float(p)) for p in peak])

    @property
    def peak_dbfs(self) -> list[float]:
        return [round(float(p), 2) for p in self._peak_db]

    @property
    def rms_dbfs(self) -> list[float]:
        return [round(dbfs(math.sqrt(float(m))), 2) for m in self._ms]

    def levels(self) -> dict[str, list[float]]:
        return {"peak_dbfs": self.peak_dbfs, "rms_dbfs": self.rms_dbfs}
