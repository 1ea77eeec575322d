"""The systemd watchdog, fed from the event loop only while the player is healthy.

The ping is a timer of the loop itself, never a thread: a loop that is stuck
(a blocking call, a busy callback) sends nothing, and systemd restarts the
service after WatchdogSec. Each tick also asks the critical services' health
checks; while any of them fails, no ping is sent and STATUS says which and why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from capstan.service.notify import Notifier

log = logging.getLogger(__name__)

HealthCheck = Callable[[], str | None]
"""None when healthy, else what is wrong, in words."""


class Progress:
    """A check that fails when a counter (audio blocks, timer ticks) stops moving for `within` s."""

    def __init__(self, read: Callable[[], int], clock: Callable[[], float], within: float,
                 what: str) -> None:
        self._read, self._clock, self.within, self.what = read, clock, within, what
        self._value = read()
        self._since = clock()

    def __call__(self) -> str | None:
        value, now = self._read(), self._clock()
        if value != self._value:
            self._value, self._since = value, now
            return None
        if now - self._since > self.within:
            return f"{self.what} for {now - self._since:.1f} s"
        return None


class Watchdog:
    def __init__(self, loop: asyncio.AbstractEventLoop, notifier: Notifier,
                 interval: float | None = None) -> None:
        self.loop, self.notifier = loop, notifier
        self.interval = interval or notifier.watchdog_interval
        self.checks: dict[str, HealthCheck] = {}
        self.pings = 0
        self.problems: list[str] = []
        self.max_lag = 0.0  # the longest the loop was late for a tick (s)
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0

    def add_check(self, name: str, check: HealthCheck) -> None:
        self.checks[name] = check

    def start(self) -> None:
        if self.interval is None:
            return  # no WatchdogSec: nothing asks for pings
        self._tick_now()

    def _tick_now(self) -> None:
        self._due = self.loop.time()
        self._tick()

    def _tick(self) -> None:
        assert self.interval is not None
        now = self.loop.time()
        lag = now - self._due
        self.max_lag = max(self.max_lag, lag)
        if lag > self.interval:
            log.warning("the event loop was blocked for %.1f s", lag)
        self._due = now + self.interval
        self._timer = self.loop.call_at(self._due, self._tick)
        problems = []
        for name, check in self.checks.items():
            try:
                problem = check()
            except Exception as exc:  # a broken check is a failed check
                problem = f"its health check raised {exc!r}"
            if problem:
                problems.append(f"{name}: {problem}")
        if problems != self.problems:
            if problems:
                log.error("unhealthy, withholding the watchdog ping: %s", "; ".join(problems))
                self.notifier.status("unhealthy: " + "; ".join(problems))
            elif self.problems:
                self.notifier.status("healthy again")
            self.problems = problems
        if not problems:
            self.pings += 1
            self.notifier.watchdog()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
