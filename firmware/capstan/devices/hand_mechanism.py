"""A mechanism moved by hand (a walkman's): the firmware only switches its motor.

The keys move the head, the pinch roller and the idler; `set_mode` runs the motor
for any mode but stop, and `off()` (the auto-stop at the end or a stall, any doubt)
cuts it and releases the record relay at once.
"""

from __future__ import annotations

from collections.abc import Callable

from capstan.deck.transport import Mode


class HandMechanism:
    def __init__(self, motor: Callable[[bool], None],
                 release_relay: Callable[[], None] = lambda: None) -> None:
        self._motor, self.release_relay = motor, release_relay
        self.mode, self.side = Mode.STOP, "A"
        self.motor_on = False
        self.error: str | None = None
        self.settled = True

    def set_mode(self, mode: Mode, side: str = "A") -> None:
        self.mode, self.side = mode, side
        self.motor_on = mode != Mode.STOP
        self._motor(self.motor_on)

    def off(self) -> None:
        self.mode = Mode.STOP
        self.motor_on = False
        self._motor(False)
        self.release_relay()
