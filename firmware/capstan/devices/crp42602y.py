"""The CRP42602Y as one device: its function gear moved by timed solenoid pulls.

The mechanism speaks the transport's verbs (`set_mode(mode, side)`, `off()`). A
mode is a function of the gear: (head turned to side B, head on the tape, reels
forward for side A). Play A = (no, yes, yes), play B = (yes, yes, no); FF and
REW keep the head off the tape with the reels turning forward (FF) or backward
(REW) for the side facing the head. Stop is the gear back at rest.

A sequence is a list of timed solenoid levels on the loop, never a sleep: from a
function, first the return (a short pull, then the rest of the gear's turn), then
the function sequence (pull to unhook; hold through the head-direction window for
side B; pull through the lift window for play; pull through the reel window for
forward). The constants are the board's `[mechanism.crp42602y]`. After each
sequence GEAR_STATUS_SW must say where the gear is; if it does not, the sequence
runs again (`retries`), then the mechanism stops safely: solenoid released, motor
off, record relay released, and `on_error` is told. The motor (12 V, on/off)
turns while a function is wanted or a sequence runs; the gear turns only then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from capstan.deck.transport import Mode
from capstan.hardware.profiles import ProfileTable

MOTOR_STABLE = 0.3  # s for the motor to come up to speed before the gear is unhooked
COAST_S = 0.0  # s a wind runs on after a change: the return's pull takes the reels off at once


@dataclass(frozen=True)
class Gear:
    head_b: bool
    head_on: bool
    reel_fwd: bool


def gear_for(mode: Mode, side: str) -> Gear | None:
    """The function gear position of a mode on a side; None: stop."""
    b = side == "B"
    if mode == Mode.PLAY:
        return Gear(b, True, not b)
    if mode == Mode.FAST_FORWARD:
        return Gear(b, False, not b)
    if mode == Mode.REWIND:
        return Gear(b, False, b)
    return None


def function_pulls(t: ProfileTable, g: Gear) -> list[tuple[float, bool]]:
    """The solenoid levels of a function sequence: (seconds from its start, pulled)."""
    return [(0.0, True), (t.unhook, g.head_b), (t.head_dir_end, False),
            (t.lift_start, g.head_on), (t.lift_end, g.reel_fwd), (t.reel_end, False)]


def return_pulls(t: ProfileTable) -> list[tuple[float, bool]]:
    return [(0.0, True), (t.return_pull, False)]


class Crp42602yMechanism:
    def __init__(self, solenoid: Callable[[bool], None], motor: Callable[[bool], None],
                 gear_in_function: Callable[[], bool | None], table: ProfileTable,
                 loop: asyncio.AbstractEventLoop,
                 release_relay: Callable[[], None] = lambda: None,
                 on_error: Callable[[str], None] = lambda what: None) -> None:
        self._pull, self._motor, self._gear_in = solenoid, motor, gear_in_function
        self.table, self.loop = table, loop
        self.release_relay, self.on_error = release_relay, on_error
        self.mode, self.side = Mode.STOP, "A"
        self.gear: Gear | None = None  # where the gear is known to be
        self.motor_on = False
        self.error: str | None = None
        self._wanted: tuple[Mode, str] | None = None
        self._handles: list[asyncio.TimerHandle] = []
        self._busy = False
        self._wanted_now: tuple[Gear, Mode, str] = (Gear(False, False, True), Mode.STOP, "A")
        self.drive_since = 0.0  # when the gear last arrived in the mode asked for
        self.changed_at = 0.0  # when a mode was last asked for
        self.speed_trim = 0.0  # kept, not applied: the 12 V motor's governor sets its speed
        self.coast_s = COAST_S  # the music search's estimate of the run-on after PLAY

    def retrim(self, trim: float) -> None:
        """A measured speed error: the motor is switched, not driven, so it is only kept
        (the CRP42602Y's speed is set on the motor's governor, hardware/BRINGUP.md)."""
        self.speed_trim = trim

    def at_speed(self, now: float) -> bool:
        """Playing with the gear settled: the motor ran through the whole sequence, so the
        capstan is at its speed once the pinch roller is on the tape."""
        return self.mode == Mode.PLAY and self.settled and self.motor_on

    @property
    def settled(self) -> bool:
        return not self._busy and self._wanted is None

    def set_mode(self, mode: Mode, side: str = "A") -> None:
        """Bring the gear to `mode` on `side`; a change asked for while a sequence runs
        follows it (the gear cannot be stopped half way)."""
        self.error = None
        self.changed_at = self.loop.time()
        self._wanted = (mode, side)
        if not self._busy:
            self._next()

    def off(self) -> None:
        """The safety stop: solenoid released, motor off, record relay released, at once.
        The gear stays where it is (it cannot move with the motor off)."""
        for h in self._handles:
            h.cancel()
        self._handles.clear()
        self._busy, self._wanted = False, None
        self._pull(False)
        self._set_motor(False)
        self.release_relay()
        self.mode = Mode.STOP

    # sequencing ------------------------------------------------------------
    def _set_motor(self, on: bool) -> None:
        self.motor_on = on
        self._motor(on)

    def _next(self) -> None:
        if self._wanted is None:
            self._busy = False
            if self.gear is None:
                self._set_motor(False)
            return
        mode, side = self._wanted
        target = gear_for(mode, side)
        if target == self.gear and self.gear is not None:  # already there (after a Halt:
            self._wanted = None                           # the motor was cut, the gear stayed)
            self.mode, self.side = mode, side
            self._busy = False
            if not self.motor_on:
                self._set_motor(True)
            self.drive_since = self.loop.time()
            return
        self._busy = True
        delay = 0.0
        if not self.motor_on:
            self._set_motor(True)
            delay = MOTOR_STABLE
        if self.gear is not None or self._gear_in():
            self._run(return_pulls(self.table), delay, self.table.return_turn, False, 0)
        elif target is None:
            self._wanted = None
            self.mode, self.side = mode, side
            self._busy = False
            self._set_motor(False)
        else:
            self._wanted = None
            self._function(target, mode, side, delay, 0)

    def _function(self, target: Gear, mode: Mode, side: str, delay: float, tries: int) -> None:
        self._wanted_now = (target, mode, side)
        self._run(function_pulls(self.table, target), delay, self.table.reel_end, True, tries)

    def _run(self, pulls: list[tuple[float, bool]], delay: float, length: float,
             into_function: bool, tries: int) -> None:
        start = self.loop.time() + delay
        self._handles = [self.loop.call_at(start + at, self._pull, level) for at, level in pulls]
        check = start + length + self.table.margin
        self._handles.append(self.loop.call_at(check, self._check, into_function, tries))

    def _check(self, into_function: bool, tries: int) -> None:
        self._handles.clear()
        status = self._gear_in()
        if into_function:
            target, mode, side = self._wanted_now
            if status:
                self.gear = target
                self.mode, self.side = mode, side
                if self._wanted is None:
                    self._busy = False
                    self.drive_since = self.loop.time()
                    return
                self._next()
            elif tries < self.table.retries:
                self._function(target, mode, side, 0.0, tries + 1)
            else:
                self._fail(f"the function gear did not reach {mode.value} on side {side}")
        elif status is False:
            self.gear = None
            self.mode = Mode.STOP
            if self._wanted is None:
                self._wanted = (Mode.STOP, self.side)
            self._next()
        elif tries < self.table.retries:
            self._run(return_pulls(self.table), 0.0, self.table.return_turn, False, tries + 1)
        else:
            self._fail("the function gear did not return to stop")

    def _fail(self, reason: str) -> None:
        self.gear = None
        self.off()
        self.error = reason
        self.on_error(reason)
