"""Mechanism physics in simulated time: the motor, the capstan, the reels and their tachometers.

Tape speeds are in seconds of tape per second (1.0 = 4.7625 cm/s). In play the
pinch roller presses the tape against the capstan, so the tape moves at the
capstan's speed × (1 + speed error) with optional flutter; the take-up reel is
dragged along by its slip clutch. In fast wind the idler drives one spindle at
a fixed angular speed, so the tape speed grows with the driven pack's radius,
as on a real deck. At the end of the tape the reels stop while the motor
strains against the tape. A stalled take-up reel mid-tape (the tape being
eaten) stops the take-up while the capstan keeps pulling tape off the supply.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from capstan.hardware.description import Mechanism
from capstan.sim.cassette import Cassette

FLUTTER_HZ = 4.0  # the flutter of the simulated capstan: one 4 Hz component (weighting peak)


@dataclass
class ReelSensor:
    """A reel's tachometer disc: two edges per pulse, edges at exact simulated times."""

    pulses_per_turn: int
    phase: float = 0.0  # edges counted, fractional
    level: bool = False
    turns: float = 0.0
    rpm: float = 0.0

    def advance(self, omega: float, t0: float, t1: float) -> list[tuple[float, bool]]:
        """Turn at omega rad/s (signed) from t0 to t1; returns the edges (time, new level).

        The phase is signed: a disc that turns back re-crosses the mark it last passed, so
        the edges it gives are those of a real disc, not a count that only grows."""
        self.rpm = omega * 60 / (2 * math.pi)
        turns = omega * (t1 - t0) / (2 * math.pi)
        self.turns += abs(turns)
        before = self.phase
        self.phase += turns * self.pulses_per_turn * 2
        after = self.phase
        if after >= before:  # marks k with before < k <= after, in order
            crossed = range(math.floor(before) + 1, math.floor(after) + 1)
        else:  # turning back: marks k with after < k <= before, the nearest first
            crossed = range(math.floor(before), math.floor(after), -1)
        span = after - before
        out = []
        for k in crossed:
            frac = (k - before) / span if span else 1.0
            self.level = not self.level
            out.append((t0 + frac * (t1 - t0), self.level))
        return out


@dataclass
class TapeMotion:
    """The state of the mechanism and the tape; the simulator's truth."""

    mech: Mechanism
    take_up_ppt: int
    supply_ppt: int
    cassette: Cassette | None = None
    duty: float = 0.0
    reverse: bool = False
    head: bool = False
    idler: bool = False
    speed_error: float = 0.0
    flutter_percent: float = 0.0
    motor: float = 0.0  # signed duty the motor has reached (first-order lag; < 0 reversed)
    stalled: set[str] = field(default_factory=set)
    spill: float = 0.0  # seconds of tape pulled out while the take-up was stalled
    speed: float = 0.0  # tape speed at the head now, seconds of tape per second
    strain: bool = False  # the motor drives against a tape that cannot move
    take_up: ReelSensor = field(init=False)
    supply: ReelSensor = field(init=False)
    history: deque = field(default_factory=lambda: deque(maxlen=64))

    def __post_init__(self) -> None:
        self.take_up = ReelSensor(self.take_up_ppt)
        self.supply = ReelSensor(self.supply_ppt)

    @property
    def head_position(self) -> float:
        """Seconds of tape that have passed the head on the side facing up."""
        c = self.cassette
        return (c.position + self.spill) if c else 0.0

    def _capstan_speed(self, t: float) -> float:
        v = max(self.motor, 0.0) / self.mech.play_duty * (1 + self.speed_error)
        if self.flutter_percent:
            v *= 1 + self.flutter_percent / 100 * math.sqrt(2) * math.sin(
                2 * math.pi * FLUTTER_HZ * t)
        return v

    def step(self, t0: float, t1: float) -> tuple[list, list, str | None]:
        """Advance from t0 to t1. Returns (take-up edges, supply edges, tape event or None)."""
        dt = t1 - t0
        # The motor's speed is signed: flipping the direction pin of a motor that still turns
        # brakes it through zero before it turns the other way; it never reverses at once.
        drive = -self.duty if self.reverse else self.duty
        self.motor += (drive - self.motor) * (1 - math.exp(-dt / self.mech.motor_time_constant))
        if abs(self.motor) < 1e-4 and self.duty == 0:
            self.motor = 0.0
        c = self.cassette
        event = None
        if c is None:
            self.speed = 0.0
            self.strain = False
            self.take_up.rpm = self.supply.rpm = 0.0
            self.history.append((t1, 0.0))
            return [], [], None
        nominal = self.mech.nominal_speed
        pos = c.position
        r_take = c.pack_radius(pos)
        r_sup = c.pack_radius(c.duration - pos - self.spill)
        if self.head:  # pinch roller on the capstan (a capstan turning back does not pull)
            v = self._capstan_speed(t1)
        elif self.idler:  # fast wind: the idler swings to the spindle its turning drives
            omega = 2 * math.pi * self.mech.wind_spindle_rpm / 60 * self.motor
            v = omega * r_sup / nominal if self.motor < 0 else omega * r_take / nominal
        else:
            v = 0.0
        take_up_v = v  # seconds of tape per second wound onto the take-up
        if v > 0 and pos >= c.duration - self.spill:
            v = take_up_v = 0.0
            event = "end"
        elif v < 0 and pos <= 0:
            v = take_up_v = 0.0
            event = "start"
        elif v > 0 and "take_up" in self.stalled:
            take_up_v = 0.0
            if not self.head:  # the driven spindle is the stalled one: nothing moves
                v = 0.0
        elif v != 0 and "supply" in self.stalled:
            v = take_up_v = 0.0
        elif v < 0 and "take_up" in self.stalled:
            v = take_up_v = 0.0
        self.strain = abs(self.motor) > 0.05 and v == 0 and (self.head or self.idler)
        self.speed = v
        if take_up_v:
            c.position = pos + take_up_v * dt
        if v != take_up_v:
            self.spill += (v - take_up_v) * dt
        take_edges = self.take_up.advance(take_up_v * nominal / r_take, t0, t1)
        sup_edges = self.supply.advance(v * nominal / r_sup, t0, t1)
        self.history.append((t1, self.head_position))
        return take_edges, sup_edges, event

    def head_positions(self, times: np.ndarray) -> np.ndarray:
        """Where the head was on the tape (seconds) at each of `times` (interpolated)."""
        if not self.history:
            return np.full(len(times), self.head_position)
        h = self.history
        # the last 16 steps (160 ms) cover every block the deck renders or records
        recent = np.array([h[i] for i in range(max(0, len(h) - 16), len(h))])
        ts, ps = recent[:, 0], recent[:, 1]
        if times[0] < ts[0] and len(h) > 16:  # an older time: use the whole history
            recent = np.array(h)
            ts, ps = recent[:, 0], recent[:, 1]
        out = np.interp(times, ts, ps)
        late = times > ts[-1]
        if late.any():
            out[late] = ps[-1] + self.speed * (times[late] - ts[-1])
        return out
