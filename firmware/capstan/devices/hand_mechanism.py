"""A mechanism moved by hand (a walkman's): the firmware only switches its motor.

The keys move the head, the pinch roller and the idler; `set_mode` runs the motor
for any mode but stop, and `off()` (the auto-stop at the end or a stall, any doubt)
cuts it and releases the record relay at once. It cannot lift the head: after an
auto-stop the key stays down, the motor stays off, until the user presses STOP.
"""

from __future__ import annotations

from collections.abc import Callable

from capstan.deck.transport import Mode

SPIN_UP = 0.3  # s for the motor (switched on, its own governor) to bring the capstan to speed


class HandMechanism:
    def __init__(self, motor: Callable[[bool], None],
                 release_relay: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = lambda: 0.0) -> None:
        self._motor, self.release_relay, self._clock = motor, release_relay, clock
        self.mode, self.side = Mode.STOP, "A"
        self.motor_on = False
        self.error: str | None = None
        self.settled = True  # nothing is sequenced: the hand has already moved it
        self.drive_since = 0.0  # when the motor was last switched on for a mode
        self.changed_at = 0.0  # when a mode was last asked for
        self.speed_trim = 0.0  # kept, not applied: the motor's governor sets its speed
        self.coast_s = 0.0  # the music search's run-on after PLAY: the key moves the head now

    def set_mode(self, mode: Mode, side: str = "A") -> None:
        now = self._clock()
        self.changed_at = now
        if mode != self.mode or not self.motor_on:
            self.drive_since = now
        self.mode, self.side = mode, side
        self.motor_on = mode != Mode.STOP
        self._motor(self.motor_on)

    def off(self) -> None:
        self.mode = Mode.STOP
        self.motor_on = False
        self._motor(False)
        self.release_relay()

    def at_speed(self, now: float) -> bool:
        """Playing with the motor on long enough for the capstan to be at its speed."""
        return self.mode == Mode.PLAY and self.motor_on and now - self.drive_since >= SPIN_UP

    def retrim(self, trim: float) -> None:
        """A measured speed error: the motor is switched, not driven, so it is only kept
        (a walkman's speed is set on its motor's trimmer, hardware/BRINGUP.md)."""
        self.speed_trim = trim
