"""Waiting on the panel's state (never on the clock) while Pilot runs it in real time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

SIZE = (110, 42)


async def until(pilot: object, condition: Callable[[], bool], what: str,
                limit: float = 20.0, log: Callable[[], object] | None = None) -> None:
    """Let the panel run until `condition` holds; fail (naming `what`, with `log()`) if not."""
    step = 0.05
    for _ in range(int(limit / step)):
        if condition():
            return
        await pilot.pause(step)  # type: ignore[attr-defined]
    seen = f"; the panel's log: {log()}" if log else ""
    raise AssertionError(f"never happened: {what}{seen}")


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
