"""Rate-limited logging: a flood of one kind of trouble never floods the journal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any


class LogLimiter:
    """At most `burst` messages of a kind per `per` seconds of `clock`; then one line saying
    how many were left out, when the next of that kind comes after the window."""

    def __init__(self, logger: logging.Logger, clock: Callable[[], float], burst: int = 5,
                 per: float = 60.0) -> None:
        self.logger, self.clock, self.burst, self.per = logger, clock, burst, per
        self._windows: dict[str, tuple[float, int, int]] = {}  # kind: (start, said, left out)

    def allow(self, kind: str) -> bool:
        """May one more message of `kind` be logged now? (counts it either way)"""
        now = self.clock()
        start, said, left_out = self._windows.get(kind, (now, 0, 0))
        if now - start >= self.per:
            if left_out:
                self.logger.warning("(%d more like the next were not logged in %.0f s)",
                                    left_out, now - start)
            start, said, left_out = now, 0, 0
        if said >= self.burst:
            self._windows[kind] = (start, said, left_out + 1)
            return False
        self._windows[kind] = (start, said + 1, left_out)
        return True

    def warning(self, kind: str, message: str, *args: Any) -> bool:
        """Log `message % args` unless too many of `kind` came lately; True if it was."""
        if not self.allow(kind):
            return False
        self.logger.warning(message, *args)
        return True

def limit_loop_errors(loop: asyncio.AbstractEventLoop, logger: logging.Logger,
                      burst: int = 5, per: float = 60.0) -> LogLimiter:
    """Route the loop's unhandled-exception reports through a LogLimiter (per message)."""
    limiter = LogLimiter(logger, loop.time, burst, per)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        kind = str(context.get("message", "error"))
        if limiter.allow(kind):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return limiter
