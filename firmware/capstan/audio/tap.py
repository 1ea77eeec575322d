"""The analysis tap: later features (music search, wow and flutter, digitizing) listen here.

The chain hands each corrected block (after the tape EQ, before volume and
mute) to `offer()`, which only schedules delivery with `call_soon`: listeners
run after the chain has written the block out, so a slow listener delays
nothing already on its way to the DAC. Blocks are read-only and carry the loop
time of their first sample. A coroutine that falls behind reads through a
`TapQueue`, which keeps the newest blocks and counts what it dropped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

TapListener = Callable[[np.ndarray, float], None]
"""Called in the loop with (block (frames, channels) float32 read-only, time of its 1st sample)."""


class AnalysisTap:
    def __init__(self, loop: asyncio.AbstractEventLoop, rate: int) -> None:
        self.loop, self.rate = loop, rate
        self._listeners: list[TapListener] = []

    def subscribe(self, listener: TapListener) -> Callable[[], None]:
        """Call `listener(block, t)` for every block from now on. Returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def queue(self, max_blocks: int = 64) -> TapQueue:
        """A bounded queue of blocks for a coroutine; see TapQueue."""
        q = TapQueue(max_blocks)
        q.unsubscribe = self.subscribe(q.put)
        return q

    @property
    def active(self) -> bool:
        return bool(self._listeners)

    def offer(self, block: np.ndarray, t: float) -> None:
        if not self._listeners:
            return
        block.flags.writeable = False
        self.loop.call_soon(self._deliver, block, t)

    def _deliver(self, block: np.ndarray, t: float) -> None:
        for listener in list(self._listeners):
            try:
                listener(block, t)
            except Exception:  # a listener's bug must not stop the audio
                log.exception("analysis tap listener %r failed", listener)


class TapQueue:
    """Blocks for a coroutine: `async for block, t in queue`; the oldest go when it lags."""

    def __init__(self, max_blocks: int) -> None:
        self._blocks: collections.deque[tuple[np.ndarray, float]] = collections.deque(
            maxlen=max_blocks)
        self._ready = asyncio.Event()
        self.dropped = 0
        self.unsubscribe: Callable[[], None] = lambda: None

    def put(self, block: np.ndarray, t: float) -> None:
        if len(self._blocks) == self._blocks.maxlen:
            self.dropped += 1
        self._blocks.append((block, t))
        self._ready.set()

    def get_nowait(self) -> tuple[np.ndarray, float] | None:
        if not self._blocks:
            return None
        return self._blocks.popleft()

    async def get(self) -> tuple[np.ndarray, float]:
        while not self._blocks:
            self._ready.clear()
            await self._ready.wait()
        return self._blocks.popleft()

    def __aiter__(self) -> TapQueue:
        return self

    async def __anext__(self) -> tuple[np.ndarray, float]:
        return await self.get()

    def close(self) -> None:
        self.unsubscribe()
