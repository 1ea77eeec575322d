"""A reel tachometer: edge times in; pulse period, rpm and turn counts out.

One optical or hall channel per reel, edges on both flanks, so a reel's
direction is not seen: it is the mechanism's (deck/safety.py checks that the
reels' speeds are plausible for it).
"""

from __future__ import annotations

from collections import deque

from capstan.hardware.protocols import DigitalIn


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
    def edges_per_turn(self) -> int:
        return 2 * self.pulses_per_turn

    @property
    def last_edge(self) -> float | None:
        return self.edges[-1] if self.edges else None

    def edge_period(self, since: float | None = None) -> float | None:
        """Mean time between the recent edges (those after `since`), seconds."""
        recent = [t for t in list(self.edges)[-9:] if since is None or t > since]
        if len(recent) < 3 or recent[-1] <= recent[0]:
            return None
        return (recent[-1] - recent[0]) / (len(recent) - 1)

    def edges_since(self, t: float) -> int:
        n = 0
        for e in reversed(self.edges):
            if e <= t:
                break
            n += 1
        return n

    def count_at(self, t: float) -> float:
        """Edges counted by time t, interpolated between the edges around it (fractional)."""
        edges = self.edges
        if not edges or t >= edges[-1]:
            return float(self.count)
        after = self.edges_since(t)
        i = len(edges) - after  # edges[i] is the first edge after t
        if i == 0:
            return float(self.count - after)
        t0, t1 = edges[i - 1], edges[i]
        frac = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        return self.count - after + frac

    def edge_near(self, t: float, tolerance: float = 0.002) -> bool:
        """An edge within `tolerance` of t: interpolating at t would be ambiguous."""
        for e in reversed(self.edges):
            if abs(e - t) <= tolerance:
                return True
            if e < t - tolerance:
                return False
        return False

    def close(self) -> None:
        self._pin.watch(None)
