"""An asyncio event loop that runs in simulated time.

When nothing is ready to run, the loop does not sleep: it jumps its clock to
the next timer. An hour of tape therefore takes as long as the work done in
it, and a run is deterministic for a given seed. Real file descriptors are
still polled (without waiting), so a session may mix simulated time with
local I/O that answers at once.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    def __init__(self, loop: SimulatedTimeLoop) -> None:
        super().__init__()
        self._sim_loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # Nothing scheduled at all: only outside I/O can wake us. Wait for it.
            return super().select(self._sim_loop.idle_wait)
        waited = self._sim_loop.wait_for_io
        if waited:
            # Outside parties (a D-Bus daemon, a thread) may still answer: give them
            # a moment of real time before simulated time moves on.
            ready = super().select(min(timeout, waited))
            if ready:
                return ready
        self._sim_loop.advance(timeout)
        return []


class SimulatedTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose ``time()`` is simulated seconds."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self.wait_for_io = 0.0  # real seconds to wait for outside I/O before jumping
        self.idle_wait = 1.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds
