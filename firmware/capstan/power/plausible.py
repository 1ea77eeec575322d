"""Is this reading one a battery can give? Guards against bad I2C reads.

A read is discarded when it is out of range (0xFFFF reads as 256 % or 5.1 V)
or when it jumps further from the last accepted value than the battery can
move in the time between them. A real change that the filter missed (the
gauge restarted its estimate, or the readings stopped for a long time) is
accepted once `agree` consecutive rejected readings agree with each other.
"""

from __future__ import annotations


class Plausible:
    def __init__(self, lo: float, hi: float, jump: float, rate: float, agree: int = 3) -> None:
        self.lo, self.hi = lo, hi
        self.jump = jump          # allowed step whatever the time between readings
        self.rate = rate          # plus this much per second between them
        self.agree = agree
        self.value: float | None = None
        self._t: float | None = None
        self._rejected: list[float] = []
        self.discarded = 0
        self.jumped = False       # the last accepted value was a real jump, not a step

    def check(self, now: float, value: float | None) -> bool:
        """True if `value` is believable; then it becomes the reference."""
        if value is None or not self.lo <= value <= self.hi:
            self.discarded += value is not None
            return False
        if self.value is None or self._t is None or self._near(value, self.value, now - self._t):
            return self._accept(now, value, jumped=False)
        self._rejected.append(value)
        self._rejected = self._rejected[-self.agree:]
        if len(self._rejected) == self.agree and all(
                self._near(v, value, 0.0) for v in self._rejected):
            return self._accept(now, value, jumped=True)
        self.discarded += 1
        return False

    def _near(self, a: float, b: float, dt: float) -> bool:
        return abs(a - b) <= self.jump + self.rate * max(dt, 0.0)

    def _accept(self, now: float, value: float, jumped: bool) -> bool:
        self.value, self._t, self.jumped = value, now, jumped
        self._rejected.clear()
        return True

    def forget(self) -> None:
        """Drop the reference (the chip was unreadable for long)."""
        self.value, self._t = None, None
        self._rejected.clear()
