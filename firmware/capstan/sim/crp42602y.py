"""The CRP42602Y in simulated time, at the level of its connector's signals.

One motor turns the capstans, the reels and, when the solenoid unhooks it, the
function gear. The gear's turn from stop into a function takes FUNCTION_TURN; on
the way its cam reads the solenoid three times (HEAD_DIR_AT, LIFT_AT, REEL_AT): is
the head turned to side B, is the head lifted onto the tape (play) or kept off
(wind), do the reels turn forward for side A. At the end of the turn the gear
rests in that function and GEAR_STATUS_SW closes. A pull from a function unhooks
the gear again: it turns on (RETURN_TURN) back to stop and the switch opens. A
pull at the wrong moment is read as what it is: the gear lands in the wrong
function, as on the real part. The gear does not turn while the motor is off,
or at all when `jammed` (a fault a scenario or test injects).

ROTATION_SENS: one sensor on the reel that takes up the tape in the direction it
moves, `pulses_per_turn` slots, an edge on each flank. REC_A_SW / REC_B_SW: the
record tabs of each side; CASSETTE_DETECT_SW. Every switch output here is the
*state* (closed = True); the pin levels follow the board's `active`.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

FUNCTION_TURN = 0.400  # s, 190 degrees of the function gear
RETURN_TURN = 0.360  # s, the rest of the turn back to stop
HEAD_DIR_AT = 0.060  # s after the unhook: the cam reads the head direction
LIFT_AT = 0.225  # s: head lift
REEL_AT = 0.350  # s: reel direction
PLAY_SPEED = 1.0  # s of tape per s
WIND_SPEED = 20.0  # s of tape per s in FF/REW (about 95 s for a C60 side)
HUB_RADIUS = 0.011  # m
THICKNESS = 18e-6  # m, a C60
NOMINAL = 0.047625  # m/s
STEP = 0.05  # s, the longest step of the physics (gear arrivals and tape ends are exact)


@dataclass(frozen=True)
class Function:
    head_b: bool  # head and pinch roller turned to side B
    head_on: bool  # head lifted onto the tape: play; off: wind
    reel_fwd: bool  # reels turn forward for side A

    @property
    def stressed(self) -> bool:
        """Playing with the reels against the pinch roller: the tape is pulled two ways."""
        return self.head_on and self.head_b == self.reel_fwd


@dataclass
class Crp42602y:
    duration: float = 1800.0  # s of tape per side (a C60)
    pulses_per_turn: int = 8
    jammed: bool = False
    cassette: bool = True
    tab_a: bool = True
    tab_b: bool = True
    position: float = 0.0  # s of side A's tape on side A's take-up reel
    stalled: bool = False  # the take-up reel is held (the tape is being eaten)
    speed_error: float = 0.0  # the capstan's, in play: 0.01 = 1 % fast
    gear: str = "stop"  # stop | to_function | function | to_stop
    function: Function | None = None
    motor: bool = False
    now: float = 0.0
    _turn_at: float = 0.0
    _levels: list[tuple[float, bool]] = field(default_factory=lambda: [(0.0, False)])
    _phase: float = 0.0
    edges: list[float] = field(default_factory=list)  # ROTATION_SENS edges (times)
    landed: list[Function | None] = field(default_factory=list)  # every gear arrival
    stopped_at: float | None = None  # when the driven tape last stopped (end or stall)
    _moving: bool = False

    # the Pi's outputs ------------------------------------------------------
    def solenoid(self, pulled: bool, t: float) -> None:
        self.advance(t)
        if pulled and not self._levels[-1][1] and self.motor and not self.jammed:
            if self.gear == "stop":
                self.gear, self._turn_at = "to_function", t
                self._levels = [(t, True)]
            elif self.gear == "function":
                self.gear, self._turn_at = "to_stop", t
        self._levels.append((t, pulled))

    def set_motor(self, on: bool, t: float) -> None:
        self.advance(t)
        self.motor = on

    # the mechanism's switches ---------------------------------------------
    def gear_status(self, t: float) -> bool:
        """GEAR_STATUS_SW closed: the gear rests in a function."""
        self.advance(t)
        return self.gear == "function"

    def rec_tab(self, side: str) -> bool:
        return self.cassette and (self.tab_a if side == "A" else self.tab_b)

    # physics ---------------------------------------------------------------
    def _level(self, t: float) -> bool:
        i = bisect.bisect_right([x for x, _ in self._levels], t) - 1
        return self._levels[max(i, 0)][1]

    def tape_speed(self) -> float:
        """Side A's tape speed now (s/s, < 0 towards side A's start)."""
        f = self.function
        if not (self.motor and self.gear == "function" and f and self.cassette) or f.stressed:
            return 0.0
        v = PLAY_SPEED * (1 + self.speed_error) if f.head_on else WIND_SPEED
        v = v if f.reel_fwd else -v
        if self.stalled:
            return 0.0
        if (v > 0 and self.position >= self.duration) or (v < 0 and self.position <= 0):
            return 0.0
        return v

    def _radius(self, seconds_on_reel: float) -> float:
        return math.sqrt(HUB_RADIUS ** 2 + THICKNESS * NOMINAL * seconds_on_reel / math.pi)

    def advance(self, t: float) -> None:
        """Run the mechanism from `now` to t."""
        while self.now < t:
            step = min(t, self.now + STEP)
            turn = {"to_function": FUNCTION_TURN, "to_stop": RETURN_TURN}.get(self.gear)
            land = turn is not None and step >= self._turn_at + turn
            if land:
                step = max(self.now, self._turn_at + turn)
            v = self.tape_speed()
            if self._moving and not v:
                self.stopped_at = self.now
            self._moving = bool(v)
            if v:  # stop exactly at the end of the tape
                room = (self.duration - self.position) if v > 0 else self.position
                if self.now + room / abs(v) <= self.now:  # within rounding of the end
                    self.position = self.duration if v > 0 else 0.0
                    self.stopped_at, self._moving, v = self.now, False, 0.0
                step = min(step, max(self.now, self.now + room / abs(v or 1.0)))
            dt = step - self.now
            if v and dt > 0:
                on_reel = self.position if v > 0 else self.duration - self.position
                omega_turns = abs(v) * NOMINAL / (2 * math.pi * self._radius(on_reel)) * dt
                before = self._phase
                self._phase += omega_turns * self.pulses_per_turn * 2
                for k in range(math.floor(before) + 1, math.floor(self._phase) + 1):
                    self.edges.append(self.now + (k - before) / (self._phase - before) * dt)
                self.position = min(self.duration, max(0.0, self.position + v * dt))
                if self.position in (0.0, self.duration):
                    self.stopped_at, self._moving = step, False
            self.now = step
            if land:
                self._land()

    def _land(self) -> None:
        """The gear ends its turn: in the function its cam read, or back at stop."""
        if self.gear == "to_function":
            at = self._turn_at
            self.function = Function(self._level(at + HEAD_DIR_AT), self._level(at + LIFT_AT),
                                     self._level(at + REEL_AT))
            self.gear = "function"
        else:
            self.gear, self.function = "stop", None
        self.landed.append(self.function)
