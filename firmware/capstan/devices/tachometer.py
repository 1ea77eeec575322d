"""A reel tachometer: edge times in, pulse period and rpm out."""

from __future__ import annotations

import math
from collections import deque

from capstan.board.protocols import DigitalIn


class ReelTachometer:
    def __init__(self, pin: DigitalIn, pulses_per_turn: int, name: str = "") -> None:
        self.name = name
        self.pulses_per_turn = pulses_per_turn
        self.edges: deque[float] = deque(maxlen=64)
        self.count = 0  # edges since start (two per pulse)
        self._pin = pin
        pin.watch(self._edge)

    def _edge(self, level: bool, t: float) -> None:
        self.edges.append(t)
        self.count += 1

    @property
    def last_edge(self) -> float | None:
        return self.edges[-1] if self.edges else None

    def edge_period(self) -> float | None:
        """Mean time between the recent edges, seconds."""
        if len(self.edges) < 3:
            return None
        n = min(len(self.edges), 9)
        recent = list(self.edges)[-n:]
        return (recent[-1] - recent[0]) / (n - 1)

    def rpm(self, now: float) -> float:
        """Turns per minute, 0 once no edge came for twice the last period (or 1 s)."""
        period = self.edge_period()
        last = self.last_edge
        if period is None or last is None or now - last > max(2 * period, 1.0):
            return 0.0
        return 60.0 / (period * 2 * self.pulses_per_turn)

    def turns(self) -> float:
        return self.count / (2 * self.pulses_per_turn)

    def angular_speed(self, now: float) -> float:
        return self.rpm(now) * 2 * math.pi / 60

    def close(self) -> None:
        self._pin.watch(None)
