"""Debounce as the kernel's gpio_keys does it: act on a level that stayed stable.

Every edge (re)starts a wait of `interval`; when the wait ends, the line's
level is read and, if it differs from the last reported one, reported. A burst
of bounce therefore yields exactly one change, reported `interval` after the
last bounce, and the *level* is reported, never a count of edges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from capstan.board.protocols import DigitalIn

ChangeCallback = Callable[[bool, float], None]


class DebouncedInput:
    def __init__(self, pin: DigitalIn, active_low: bool, loop: asyncio.AbstractEventLoop,
                 interval: float = 0.005, name: str = "") -> None:
        self.name = name
        self.interval = interval
        self._pin = pin
        self._active_low = active_low
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self.on_change: ChangeCallback | None = None
        self.on_edge: ChangeCallback | None = None  # every raw edge (active?, t): safety only
        self.is_active = self._read()
        pin.watch(self._edge)

    def _read(self) -> bool:
        return self._pin.read() != self._active_low

    def resync(self) -> None:
        """Re-read the level (at start-up and on resume) instead of trusting a cached state."""
        self.is_active = self._read()

    def _edge(self, level: bool, t: float) -> None:
        if self.on_edge is not None:
            self.on_edge(level != self._active_low, t)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(t + self.interval, self._settle, t + self.interval)

    def _settle(self, t: float) -> None:
        self._timer = None
        active = self._read()
        if active != self.is_active:
            self.is_active = active
            if self.on_change is not None:
                self.on_change(active, t)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._pin.watch(None)
