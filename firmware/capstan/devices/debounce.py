"""Debounce as the kernel's gpio_keys does it: act on a level that stayed stable.

A level is accepted once it stayed unchanged for `interval` after its edge, and
it is reported at that moment (edge time + interval), never a count of edges.
A burst of bounce therefore yields exactly one change, `interval` after the
last bounce.

Every decision is made on the edges' own times (the kernel's timestamps on the
Pi), not on when the loop got round to them: each edge waits in a queue for
its settle time, and an edge followed by another within `interval` is dropped
as bounce. A loop that runs late (a busy CPU, an SD card stall) therefore
reports a short press late, but still reports it, and presses on different
buttons still settle in the order they happened (the loop's timers run in time
order), so a chord stays a chord. Only the newest edge is checked against the
line's present level when it settles: a difference means its successor is
still on its way from the GPIO library's thread, and the decision waits for it
(for at most `patience` of loop time; then the level read wins, as after a
lost edge).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from capstan.hardware.protocols import DigitalIn

ChangeCallback = Callable[[bool, float], None]

PATIENCE = 0.25  # s of loop time an edge waits for a successor the line's level promises


class _Edge:
    __slots__ = ("active", "t", "timer", "waited")

    def __init__(self, active: bool, t: float) -> None:
        self.active, self.t = active, t
        self.timer: asyncio.TimerHandle | None = None
        self.waited = 0.0  # loop time spent waiting for a promised successor


class DebouncedInput:
    def __init__(self, pin: DigitalIn, active_low: bool, loop: asyncio.AbstractEventLoop,
                 interval: float = 0.005, name: str = "", patience: float = PATIENCE) -> None:
        self.name = name
        self.interval = interval
        self.patience = patience
        self._pin = pin
        self._active_low = active_low
        self._loop = loop
        self._edges: deque[_Edge] = deque()  # edges not yet settled, oldest first
        self.on_change: ChangeCallback | None = None
        self.on_edge: ChangeCallback | None = None  # every raw edge (active?, t): safety only
        self.is_active = self._read()
        pin.watch(self._edge)

    def _read(self) -> bool:
        return self._pin.read() != self._active_low

    def resync(self) -> None:
        """Re-read the level (at start-up and on resume) instead of trusting a cached state."""
        self._drop_pending()
        self.is_active = self._read()

    def _edge(self, level: bool, t: float) -> None:
        active = level != self._active_low
        if self.on_edge is not None:
            self.on_edge(active, t)
        if self._edges and t - self._edges[-1].t < self.interval:
            bounced = self._edges.pop()  # followed within the interval: never stable
            if bounced.timer is not None:
                bounced.timer.cancel()
        edge = _Edge(active, t)
        self._edges.append(edge)
        edge.timer = self._loop.call_at(t + self.interval, self._settle, edge)

    def _settle(self, edge: _Edge) -> None:
        edge.timer = None
        if edge is self._edges[-1] and self._read() != edge.active:
            if edge.waited < self.patience:
                # the line has moved on, but its edge has not arrived yet: wait for it
                edge.waited += self.interval
                edge.timer = self._loop.call_later(self.interval, self._settle, edge)
                return
            self._edges.clear()  # the successor never came (a lost edge): the line wins
            self._report(self._read(), self._loop.time())
            return
        while self._edges:  # this edge and any older one still waiting, in their order
            older = self._edges.popleft()
            if older.timer is not None:
                older.timer.cancel()
            self._report(older.active, older.t + self.interval)
            if older is edge:
                break

    def _report(self, active: bool, t: float) -> None:
        if active != self.is_active:
            self.is_active = active
            if self.on_change is not None:
                self.on_change(active, t)

    def _drop_pending(self) -> None:
        for e in self._edges:
            if e.timer is not None:
                e.timer.cancel()
        self._edges.clear()

    def close(self) -> None:
        self._drop_pending()
        self._pin.watch(None)
