"""The tape mechanism as one device: mode changes sequenced with settle times.

A mode change is planned (`plan`, pure) from what the actuators are doing now
to what the new mode needs, as timed steps: mute the DAC, ramp the motor down,
move the head/pinch solenoid and the FF/REW idler, let them settle, ramp the
motor up, unmute. Nothing is ever switched under a turning motor: the motor
coasts on after its drive is cut (a first-order lag, the board's
`motor_time_constant`), so the mechanism keeps an estimate of its speed and
waits until it has spun down before the head closes, the idler swings in or the
direction pin flips. `off()` is the safety stop: everything at once, no ramps.

The timings are a `Profile`; `REFERENCE` is the reference build's mechanism
(hardware/BOM.md); the solenoid-sequenced CRP42602Y speaks the same verbs in
devices/crp42602y.py, a walkman's mechanism in devices/hand_mechanism.py.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

from capstan.deck.transport import Mode
from capstan.devices.actuators import Motor, Solenoid
from capstan.hardware.description import Mechanism

RAMP_STEP = 0.02  # s between motor duty steps
STILL = 0.02  # of full speed: below this the motor counts as stopped (spun down)
AT_SPEED = 0.01  # within this share of its duty the motor has reached its speed


@dataclass(frozen=True)
class Profile:
    name: str
    head_settle: float  # s for the pinch roller to close on the capstan
    idler_settle: float  # s for the idler to swing onto a spindle
    ramp_up: float  # s soft start
    ramp_down: float  # s soft stop
    unmute_after: float  # s after the motor reached play speed


# the reference mechanism's timings (board profile "reference")
REFERENCE = Profile("reference", head_settle=0.05, idler_settle=0.04, ramp_up=0.10,
                    ramp_down=0.06, unmute_after=0.15)


@dataclass(frozen=True)
class Step:
    at: float  # s after the mode change
    action: str  # mute | unmute | head | idler | motor
    value: float = 0.0  # head/idler: 1 engaged; motor: target duty
    reverse: bool = False  # motor direction
    ramp: float = 0.0  # motor: seconds to reach the duty


def spin_down(spec: Mechanism, spin: float, duty: float, ramp: float) -> float:
    """Seconds until a motor turning at `spin` (share of full speed), driven at `duty` and
    ramped to 0 over `ramp`, has coasted down below STILL (first-order lag)."""
    tau = spec.motor_time_constant
    n = max(1, round(ramp / RAMP_STEP)) if duty > 0 and ramp > 0 else 0
    t = 0.0
    for k in range(1, n):  # the ramp's steps (as _ramp writes them), then no drive at all
        drive = duty * (1 - k / n)
        spin = drive + (spin - drive) * math.exp(-RAMP_STEP / tau)
        t += RAMP_STEP
    if spin <= STILL:
        return t
    return t + tau * math.log(spin / STILL)


def plan(profile: Profile, spec: Mechanism, mode: Mode, head: bool, idler: bool, duty: float,
         reverse: bool, spin: float | None = None) -> list[Step]:
    """Timed steps from the actuators' state now to `mode`. `spin` is the motor's speed now
    (share of full, estimated; the PWM duty if not given): a motor that still coasts is
    let spin down before the head closes, the idler swings in or the direction flips."""
    spin = duty if spin is None else spin
    want_head = mode == Mode.PLAY
    want_idler = mode in (Mode.FAST_FORWARD, Mode.REWIND)
    want_rev = mode == Mode.REWIND
    want_duty = {Mode.STOP: 0.0, Mode.PLAY: spec.play_duty}.get(mode, spec.wind_duty)
    steps = [Step(0.0, "mute")]
    t = 0.0
    turning = spin > STILL or duty > 0
    reconfigure = head != want_head or idler != want_idler or (turning and reverse != want_rev)
    still = 0.0  # s until the motor has spun down, if it must
    if turning and (reconfigure or want_duty == 0):
        if duty > 0:
            steps.append(Step(0.0, "motor", 0.0, reverse, profile.ramp_down))
            t = profile.ramp_down
        engaging = (want_head and not head) or (want_idler and not idler)
        if want_duty > 0 and (engaging or reverse != want_rev):
            still = max(t, spin_down(spec, spin, duty, profile.ramp_down))
    if head and not want_head:  # releasing is safe as soon as the drive is off
        steps.append(Step(t, "head", 0.0))
    if idler and not want_idler:
        steps.append(Step(t, "idler", 0.0))
    if not turning or still > 0:
        t = max(t, still)
        if want_head and not head:
            steps.append(Step(t, "head", 1.0))
        if want_idler and not idler:
            steps.append(Step(t, "idler", 1.0))
    if want_head and not head:
        t += profile.head_settle
    elif want_idler and not idler:
        t += profile.idler_settle
    if want_duty > 0:
        steps.append(Step(t, "motor", want_duty, want_rev, profile.ramp_up))
        t += profile.ramp_up
    if mode != Mode.FAST_FORWARD and mode != Mode.REWIND:  # no cueing: wind stays muted
        steps.append(Step(t + (profile.unmute_after if want_head else 0.0), "unmute"))
    return steps


class TapeMechanism:
    def __init__(self, motor: Motor, head: Solenoid, idler: Solenoid, spec: Mechanism,
                 loop: asyncio.AbstractEventLoop | None = None,
                 mute: Callable[[bool], None] | None = None,
                 profile: Profile | None = None) -> None:
        self.motor, self.head, self.idler, self.spec = motor, head, idler, spec
        self.loop = loop
        self.mute = mute or (lambda on: None)
        self.profile = profile or REFERENCE
        self.mode = Mode.STOP
        self.speed_trim = 0.0  # fraction added to the play duty (a measured speed error, negated)
        self._pending: set[asyncio.TimerHandle] = set()
        self.changed_at = 0.0
        self.drive_since = 0.0  # when the motor began driving the present mode
        self.reversed_at: float | None = None  # when the direction pin last changed
        self._spin = (0.0, 0.0, 0.0)  # (time, signed speed then, signed drive since): estimate

    def _now(self) -> float:
        return self.loop.time() if self.loop is not None else 0.0

    def speed(self, now: float | None = None) -> float:
        """The motor's speed as estimated from what it was driven with (share of full, signed:
        < 0 in reverse): the board's first-order lag, so it coasts on after the drive stops."""
        if self.loop is None:
            return -self.motor.duty if self.motor.reverse else self.motor.duty
        now = self._now() if now is None else now
        t, v, drive = self._spin
        return drive + (v - drive) * math.exp(-max(0.0, now - t) / self.spec.motor_time_constant)

    def at_speed(self, now: float) -> bool:
        """Playing, the sequence done and the motor within AT_SPEED of its duty (estimated):
        the tape runs at the capstan's speed."""
        duty = self.motor.duty
        return (self.mode == Mode.PLAY and self.settled and duty > 0 and not self.motor.reverse
                and abs(self.speed(now) - duty) <= AT_SPEED * duty)

    @property
    def settled(self) -> bool:
        """Every step of the last mode change is done."""
        return not self._pending

    def set_mode(self, mode: Mode, side: str = "A") -> None:
        """`side` is for an auto-reverse mechanism; the reference's head faces one side."""
        self._cancel()
        self.mode = mode
        steps = plan(self.profile, self.spec, mode, self.head.is_engaged, self.idler.is_engaged,
                     self.motor.duty, self.motor.reverse, abs(self.speed()))
        if mode == Mode.PLAY:
            steps = [Step(s.at, s.action, min(1.0, s.value * (1 + self.speed_trim)), s.reverse,
                          s.ramp) if s.action == "motor" and s.value > 0 else s for s in steps]
        if self.loop is None:  # no loop: at once, in order (tools and tests of the plan)
            for s in steps:
                self._do(s, immediate=True)
            return
        self.changed_at = now = self.loop.time()
        up = next((s.at for s in steps if s.action == "motor" and s.value > 0), 0.0)
        self.drive_since = now + up  # the reels turn for this mode from here (not while coasting)
        for s in steps:
            if s.at <= 0 and not (s.action == "motor" and s.ramp > 0):
                self._do(s)
            else:
                self._later(now + s.at, self._do, s)

    def retrim(self, trim: float) -> None:
        """A new speed trim (a measured speed error, corrected); a tape playing now changes
        speed at once, ramped, and every later play starts at the trimmed duty."""
        self.speed_trim = trim
        if self.mode == Mode.PLAY and self.motor.duty > 0 and self.settled:
            self._ramp(min(1.0, self.spec.play_duty * (1 + trim)), False, self.profile.ramp_up)

    def _later(self, when: float, fn: Callable[..., None], *args: object) -> None:
        assert self.loop is not None
        box: list[asyncio.TimerHandle] = []

        def fire() -> None:
            self._pending.discard(box[0])
            fn(*args)

        box.append(self.loop.call_at(when, fire))
        self._pending.add(box[0])

    def _do(self, s: Step, immediate: bool = False) -> None:
        if s.action == "mute":
            self.mute(True)
        elif s.action == "unmute":
            self.mute(False)
        elif s.action == "head":
            (self.head.engage if s.value else self.head.release)()
        elif s.action == "idler":
            (self.idler.engage if s.value else self.idler.release)()
        elif s.action == "motor":
            self._ramp(s.value, s.reverse, 0.0 if immediate else s.ramp)

    def _ramp(self, target: float, reverse: bool, seconds: float) -> None:
        start = self.motor.duty if self.motor.reverse == reverse else 0.0
        n = max(1, round(seconds / RAMP_STEP))
        if seconds <= 0 or self.loop is None:
            self._set_motor(target, reverse)
            return
        now = self.loop.time()
        self._set_motor(start + (target - start) / n, reverse)
        for k in range(2, n + 1):
            duty = start + (target - start) * k / n
            self._later(now + (k - 1) * RAMP_STEP, self._set_motor, duty, reverse)

    def _set_motor(self, duty: float, reverse: bool) -> None:
        self._drive(max(0.0, duty), reverse)  # direction kept while the motor spins down

    def _drive(self, duty: float, reverse: bool) -> None:
        now = self._now()
        if reverse != self.motor.reverse:
            self.reversed_at = now
        self._spin = (now, self.speed(now), -duty if reverse else duty)
        self.motor.run(duty, reverse)

    def _cancel(self) -> None:
        for h in self._pending:
            h.cancel()
        self._pending.clear()

    def off(self) -> None:
        """The safety stop: motor off, head and idler released, all at once."""
        self._cancel()
        self.mode = Mode.STOP
        self._drive(0.0, self.motor.reverse)  # no drive; never flip a coasting motor
        self.head.release()
        self.idler.release()
        self.mute(False)
