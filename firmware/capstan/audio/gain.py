"""Gain that never jumps: every change is a linear ramp over a set time."""

from __future__ import annotations

import numpy as np


class GainRamp:
    """A gain 0..n moved to a target over `seconds`; render(n) gives the next n samples' gain."""

    def __init__(self, value: float, seconds: float, rate: int) -> None:
        self.value = self.target = float(value)
        self.seconds, self.rate = seconds, rate
        self._step = 0.0

    def set(self, target: float, seconds: float | None = None) -> None:
        """Ramp to `target` over `seconds` (default: this ramp's time)."""
        self.target = float(target)
        span = max(1.0, (self.seconds if seconds is None else seconds) * self.rate)
        self._step = abs(self.target - self.value) / span

    def jump(self, value: float) -> None:
        """Set at once: only for a signal that is silent anyway."""
        self.value = self.target = float(value)

    @property
    def moving(self) -> bool:
        return self.value != self.target

    def render(self, frames: int) -> float | np.ndarray:
        """The gain for the next `frames` samples: a float when steady, else a (frames, 1) ramp."""
        if self.value == self.target:
            return self.value
        start = self.value
        reach = self._step * frames
        if abs(self.target - start) <= reach:
            n = max(1, round(abs(self.target - start) / self._step)) if self._step else 1
            ramp = np.full(frames, self.target, np.float32)
            ramp[:n] = np.linspace(start, self.target, n + 1, dtype=np.float32)[1:]
            self.value = self.target
        else:
            end = start + reach * (1 if self.target > start else -1)
            ramp = np.linspace(start, end, frames + 1, dtype=np.float32)[1:]
            self.value = float(end)
        return ramp[:, None]


def fade(frames: int, rising: bool) -> np.ndarray:
    """A (frames, 1) linear fade over a whole block, from 1 to 0 or 0 to 1."""
    ramp = np.linspace(0.0, 1.0, frames + 2, dtype=np.float32)[1:-1]
    return (ramp if rising else ramp[::-1])[:, None]
