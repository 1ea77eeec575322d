"""LED patterns: steady, blink and breathe, played on a PWM channel in loop time.

A pattern is a pure function of time (`Pattern.level(t)`); `LedPlayer` writes
the level whenever it changes: at each blink edge, and in BREATHE_STEPS steps
per breath. A `flash` plays a pattern for a while and then returns to the one
that was playing (the feedback for a refused action).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from capstan.devices.actuators import Led

BREATHE_STEPS = 8  # brightness updates per breath


@dataclass(frozen=True)
class Pattern:
    kind: str = "steady"  # steady | blink | breathe
    level_on: float = 1.0
    period: float = 1.0  # s, blink or breath
    duty: float = 0.5  # blink: fraction of the period lit

    def level(self, t: float) -> float:
        if self.kind == "steady":
            return self.level_on
        phase = (t / self.period) % 1.0
        if self.kind == "blink":
            return self.level_on if phase < self.duty else 0.0
        steps = round((1 - math.cos(2 * math.pi * phase)) / 2 * BREATHE_STEPS) / BREATHE_STEPS
        return self.level_on * steps

    def next_change(self, t: float) -> float | None:
        if self.kind == "steady":
            return None
        if self.kind == "blink":
            base = math.floor(t / self.period) * self.period
            on_end = base + self.duty * self.period
            return on_end if t < on_end - 1e-9 else base + self.period
        return t + self.period / (2 * BREATHE_STEPS)


OFF = Pattern("steady", 0.0)
ON = Pattern("steady", 1.0)
DIM = Pattern("steady", 0.2)


def blink(period: float = 0.5, level: float = 1.0, duty: float = 0.5) -> Pattern:
    return Pattern("blink", level, period, duty)


def breathe(period: float = 2.0, level: float = 1.0) -> Pattern:
    return Pattern("breathe", level, period)


class LedPlayer:
    def __init__(self, led: Led, loop: asyncio.AbstractEventLoop) -> None:
        self.led, self.loop = led, loop
        self.pattern = OFF
        self._base = OFF
        self._start = loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._flash_end: asyncio.TimerHandle | None = None

    def play(self, pattern: Pattern) -> None:
        """The pattern to show from now on (a flash in progress finishes first)."""
        self._base = pattern
        if self._flash_end is None:
            self._show(pattern)

    def flash(self, pattern: Pattern, seconds: float) -> None:
        if self._flash_end is not None:
            self._flash_end.cancel()
        self._flash_end = self.loop.call_later(seconds, self._end_flash)
        self._show(pattern)

    def _end_flash(self) -> None:
        self._flash_end = None
        self._show(self._base)

    def _show(self, pattern: Pattern) -> None:
        if pattern == self.pattern and self._timer is not None:
            return
        self.pattern = pattern
        self._start = self.loop.time()
        self._update()

    def _update(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        t = self.loop.time() - self._start
        level = self.pattern.level(t)
        if abs(self.led.brightness - level) > 1e-6:
            self.led.set(level)
        nxt = self.pattern.next_change(t)
        if nxt is not None:
            nxt = max(nxt, t + 0.001)
            self._timer = self.loop.call_at(self._start + nxt, self._update)

    def close(self) -> None:
        for h in (self._timer, self._flash_end):
            if h is not None:
                h.cancel()
        self._timer = self._flash_end = None
        self.led.set(0.0)


# a refused button or command: five quick blinks of the status LED (pattern, seconds)
REFUSED_FLASH = (blink(0.12), 0.6)
