"""Remaining playing time from the recent discharge rate, per mode.

Playing on the jack, to Bluetooth headphones and recording draw different
currents. The rate of each mode is the slope of the state of charge over the
last `window` seconds spent in that mode, once that stretch is at least
`min_span` long; the last measured rate of a mode is remembered when the
player switches away and back. Until a mode has been measured, its rate comes
from the typical current of the mode and the cell's capacity.
"""

from __future__ import annotations

from collections import deque

MODES = ("wired", "bluetooth", "recording")


class DischargeEstimator:
    def __init__(self, capacity_mah: float, typical_current: dict[str, float],
                 window: float = 600.0, min_span: float = 120.0) -> None:
        unknown = set(typical_current) - set(MODES)
        if unknown or set(MODES) - set(typical_current):
            raise ValueError(f"typical_current needs exactly the modes {', '.join(MODES)}")
        self.window, self.min_span = window, min_span
        # %/s: I (A) * 1000 / capacity (mAh) * 100 % / 3600 s
        self._default = {m: i * 1000.0 / capacity_mah * 100.0 / 3600.0
                         for m, i in typical_current.items()}
        self._learned: dict[str, float] = {}
        self._run: deque[tuple[float, float]] = deque()
        self._run_mode: str | None = None

    def add(self, now: float, percent: float, mode: str, discharging: bool) -> None:
        """One accepted state of charge, the player's mode, and whether it runs on the cell."""
        check_mode(mode)
        if not discharging or mode != self._run_mode:
            self._run.clear()
            self._run_mode = mode if discharging else None
            if not discharging:
                return
        self._run.append((now, percent))
        while self._run and now - self._run[0][0] > self.window:
            self._run.popleft()
        if self._run and now - self._run[0][0] >= self.min_span:
            slope = _slope(self._run)
            if slope < 0:
                self._learned[mode] = -slope

    def forget(self) -> None:
        """The charge jumped (a new estimate): the run so far says nothing about the rate."""
        self._run.clear()
        self._run_mode = None

    def rate(self, mode: str) -> float:
        """Percent per second this mode drains (positive)."""
        check_mode(mode)
        return self._learned.get(mode, self._default[mode])

    def measured(self, mode: str) -> bool:
        return mode in self._learned

    def remaining(self, percent: float, mode: str, reserve: float) -> float:
        """Seconds until the state of charge reaches `reserve` %."""
        return max(0.0, percent - reserve) / self.rate(mode)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown power mode {mode!r} (modes: {', '.join(MODES)})")


def _slope(points: deque[tuple[float, float]]) -> float:
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mp = sum(p for _, p in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mt) * (p - mp) for t, p in points) / var
