"""Waiting on the panel's state (never on the clock) while Pilot runs it in simulated time.

The panel runs on `SimulatedTimeLoop`: Pilot's pauses and the deck's physics move
simulated seconds, so a machine under full load makes the test slower, never wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from capstan.sim.clock import SimulatedTimeLoop

SIZE = (110, 42)


async def until(pilot: object, condition: Callable[[], bool], what: str,
                limit: float = 20.0, log: Callable[[], object] | None = None) -> None:
    """Let the panel run until `condition` holds, for at most `limit` simulated seconds;
    fail (naming `what`, with `log()`) if not."""
    step = 0.05
    for _ in range(int(limit / step)):
        if condition():
            return
        await pilot.pause(step)  # type: ignore[attr-defined]
    seen = f"; the panel's log: {log()}" if log else ""
    raise AssertionError(f"never happened: {what}{seen}")


def run(coro: Awaitable[None], outside_io: float = 0.0) -> None:
    """Run the panel's script on a SimulatedTimeLoop. `outside_io`: real seconds the loop
    gives real daemons (D-Bus, BlueALSA) to speak before simulated time moves on."""
    loop = SimulatedTimeLoop()
    loop.wait_for_io = outside_io
    try:
        loop.run_until_complete(coro)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def run_real_time(coro: Awaitable[None]) -> None:
    """On asyncio's own loop, in real time: only for a script whose steps wait on real
    daemons' own signals (BlueZ's, BlueALSA's), which a simulated clock would outrun."""
    asyncio.run(coro)  # type: ignore[arg-type]
