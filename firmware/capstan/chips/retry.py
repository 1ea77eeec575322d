"""Retrying an I2C transfer that was not acknowledged, with a backoff, in the event loop.

A NACK (EREMOTEIO, 121) or an I/O error (EIO, 5; ETIMEDOUT, 110 when a slave
stretches the clock too long) on a shared bus is usually transient: the
transfer is tried again after `backoff`, doubling each time. Other errors,
and the last failure, reach the caller.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TRANSIENT_ERRNOS = frozenset({errno.EREMOTEIO, errno.EIO, errno.ETIMEDOUT})


def is_transient(exc: BaseException) -> bool:
    """An OSError worth retrying, or an error caused by one (a chip-ID check that got a NACK)."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
            return True
        exc = exc.__cause__  # type: ignore[assignment]
    return False


async def with_retries(op: Callable[[], T], attempts: int = 4, backoff: float = 0.005,
                       on_retry: Callable[[BaseException], None] | None = None) -> T:
    """Run `op()`; on a transient error wait `backoff` (doubling) and try again."""
    delay = backoff
    for attempt in range(attempts):
        try:
            return op()
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            if on_retry:
                on_retry(exc)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
