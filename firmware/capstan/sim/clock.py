"""Event loops for the simulator: simulated time, and live time that slips.

`SimulatedTimeLoop`: when nothing is ready to run, the loop does not sleep: it
jumps its clock to the next timer. An hour of tape therefore takes as long as
the work done in it, and a run is deterministic for a given seed. Real file
descriptors are still polled (without waiting), so a session may mix simulated
time with local I/O that answers at once. Work handed to a thread with
`run_in_executor` (`asyncio.to_thread`) holds the clock: the loop waits for it in
real time, as if it took no simulated time, so a test never races a thread; so
does an answer that is due (`hold_for_io`: a D-Bus call of the simulated Bluetooth
world is out), however near the next timer.

`LiveLoop`: the live simulator's loop (the front panel, `capstan run --board
sim`). Its time is the wall clock, except that a stall of the loop longer than
MAX_STALL (a busy laptop, a disk that holds a write, a slow frame of the panel)
is not passed on: the excess slips, the simulated world pauses with the loop
instead of jumping ahead to catch up. The tape never moves in a burst, and the
reels never look stopped for a time the physics did not run.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from typing import Any

MAX_STALL = 0.05  # s a live loop may run late before its time slips


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
        if self._sim_loop.threads_busy:
            # A thread works for the loop: simulated time stands still until it answers.
            return super().select(min(timeout, self._sim_loop.idle_wait))
        held = self._sim_loop.hold_for_io
        if held:
            # An answer is due (a D-Bus call of ours is out): simulated time stands still
            # until it comes, however near the next timer is (`held` real s at most).
            ready = super().select(held)
            if ready:
                return ready
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
        self.hold_for_io = 0.0  # real seconds to wait for an answer that is due, however near
        # the next timer (the simulated Bluetooth world sets it while its calls are out)
        self.idle_wait = 1.0
        self.threads_busy = 0  # run_in_executor jobs not yet done
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    def run_in_executor(self, executor: Any, func: Callable[..., Any],
                        *args: Any) -> asyncio.Future[Any]:
        self.threads_busy += 1
        future = super().run_in_executor(executor, func, *args)
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self.threads_busy -= 1


class _SlippingSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    def __init__(self, loop: LiveLoop) -> None:
        super().__init__()
        self._live = loop
        self._out: float | None = None  # when the previous select returned

    def select(self, timeout: float | None = None) -> list[Any]:
        entered = self._live.clock()
        ready = super().select(timeout)
        out = self._live.clock()
        late = entered - self._out if self._out is not None else 0.0  # the callbacks' run
        if timeout is not None:
            late += max(0.0, out - entered - timeout)  # woken later than asked
        self._out = out
        if late > MAX_STALL:
            self._live.slip(late - MAX_STALL)
        return ready


class LiveLoop(asyncio.SelectorEventLoop):
    """A real-time selector loop whose clock slips over stalls longer than MAX_STALL."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # the wall clock (a test gives its own)
        self.slipped = 0.0  # s of wall time not passed on to the simulation
        self.stalls = 0
        super().__init__(selector=_SlippingSelector(self))

    def time(self) -> float:
        return self.clock() - self.slipped

    def slip(self, seconds: float) -> None:
        self.slipped += seconds
        self.stalls += 1


class LivePolicy(asyncio.DefaultEventLoopPolicy):  # type: ignore[misc, valid-type]
    """For code that creates its own loop with asyncio.run (Textual's App.run)."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return LiveLoop()
