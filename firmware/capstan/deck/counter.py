"""The tape counter: where on the side we are, in seconds of play, from the reels' turns.

Pure and clock-free: the Player feeds `observe(take_up_turns, supply_turns,
play_seconds)` with signed turns since the cassette went in (negative when
rewinding) and the seconds spent playing at speed. The counter

- identifies the cassette's length from the two reels' turns (deck/pack.py),
  helped in play by the capstan's known speed (the tape moved ≈ the time played,
  ±1.5 %), which separates a C46 from the others;
- knows the position from the take-up reel's radius: r = r0 + turns × thickness;
- calibrates when the start of the side is known (after a full rewind): r0 is the hub;
- until it knows better, counts the seconds played since the cassette went in,
  as a mechanical counter reset at insertion would.

`snapshot()`/`restore()` carry it over a daemon restart while the cassette stays in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from capstan.deck.pack import Fit, PackGeometry, geometries, identify
from capstan.hardware.description import Mechanism

MIN_TURNS = 6.0  # take-up turns of travel before a fit is trusted
MAX_SAMPLES = 400
SPEED_SIGMA = 0.02  # the capstan's speed is known to ±1.5 %; a fit off by more is suspect
TURNS_FLOOR = 0.003  # turns: the supply's turns are never known better than this
# chi² by which the runner-up must be worse to name the length, on COMMIT_FITS fits in
# a row naming the same one. The samples are not independent (the supply's turns are
# quantized, a late watchdog sample repeats its error), so a neighbour length can lead
# early by a few tens; the true length's margin grows to hundreds within a few turns.
CONFIDENCE = 50.0
COMMIT_FITS = 3
REFIT_EVERY = 1.0  # turns of the take-up reel between fits
# Once named, the length is committed: a cassette does not change while it stays in.
# Another length replaces it only on evidence that a different cassette is in (one
# swapped while the daemon was down): the named length must be worse than the best by
# CHANGE_EVIDENCE on CHANGE_FITS fits in a row, over at least MIN_TURNS of new travel.
# Timing jitter of the edges moves the scores by a few units; a different cassette by
# hundreds to thousands (tests/deck/test_length_commit.py).
CHANGE_EVIDENCE = 200.0
CHANGE_FITS = 5


@dataclass
class _Sample:
    take_up: float
    supply: float
    played: float  # cumulative seconds played at speed
    at_speed: bool  # the interval since the previous sample was all play at speed


class TapeCounter:
    def __init__(self, mechanism: Mechanism) -> None:
        self.geoms: dict[str, PackGeometry] = geometries(mechanism)
        self.leader = mechanism.leader
        self.reset()

    def reset(self) -> None:
        """A cassette went out (or came in): nothing is known."""
        self.length: str | None = None
        # chi² margin of the named length over the next best at the last fit (≥ CONFIDENCE
        # when it was named; negative while a different cassette is being weighed)
        self.confidence: float | None = None
        self.calibrated = False
        self.fits: list[Fit] = []
        self._samples: list[_Sample] = []
        self._anchor: tuple[str, float, float] | None = None  # (length, take-up turns, radius)
        self._fixed_r0: float | None = None  # a known radius at the first sample (calibrated)
        self._turns = (0.0, 0.0)
        self._played = 0.0
        self._last_fit_turns = -1e9
        self._against = 0  # fits in a row that speak against the committed length
        self._against_from = 0.0  # take-up turns where that evidence began
        self._leading: tuple[str, int] | None = None  # (length, clear fits in a row)
        self.changes = 0  # times a committed length was replaced (a different cassette)

    # input --------------------------------------------------------------------
    def observe(self, take_up: float, supply: float, played: float, at_speed: bool) -> None:
        """Signed turns of each reel since insertion, and the seconds played at speed."""
        moved = abs(take_up - self._turns[0]) > 1e-9 or abs(supply - self._turns[1]) > 1e-9
        self._turns, self._played = (take_up, supply), played
        if not moved and self._samples:
            return
        self._samples.append(_Sample(take_up, supply, played, at_speed))
        if len(self._samples) > MAX_SAMPLES:  # keep every other one; intervals merge
            first, rest = self._samples[0], self._samples[1:]
            kept = []
            for a, b in zip(rest[0::2], rest[1::2], strict=False):
                b.at_speed = a.at_speed and b.at_speed
                kept.append(b)
            if len(rest) % 2:
                kept.append(rest[-1])
            self._samples = [first, *kept]
        if abs(take_up - self._last_fit_turns) >= REFIT_EVERY:
            self._last_fit_turns = take_up
            self._refit()

    def at_start(self) -> None:
        """The tape was rewound to its start: the take-up holds nothing but the hub."""
        hub = next(iter(self.geoms.values())).hub
        self._samples = [_Sample(*self._turns, self._played, False)]
        self._fixed_r0 = hub
        self.calibrated = True
        if self.length is not None:
            self._anchor = (self.length, self._turns[0], hub)

    def forget_position(self) -> None:
        """The tape slipped or was pulled out (a fault): the geometry no longer holds."""
        self._samples = [_Sample(*self._turns, self._played, False)]
        self._fixed_r0 = None
        self._anchor = None
        self.calibrated = False

    # fitting ------------------------------------------------------------------
    def _refit(self) -> None:
        s = self._samples
        n_t = np.array([x.take_up for x in s]) - s[0].take_up
        n_s = np.array([x.supply for x in s]) - s[0].supply
        if float(np.ptp(n_t)) < MIN_TURNS:
            return
        fits = identify(self.geoms, n_t, n_s, self._fixed_r0)
        noise = max(min(f.rms for f in fits), TURNS_FLOOR)
        at_speed, played = self._play_intervals()
        scored = sorted(((len(n_t) * (f.rms / noise) ** 2
                          + self._speed_chi2(f, n_t, at_speed, played), f)
                         for f in fits), key=lambda x: x[0])
        self.fits = [f for _, f in scored]
        (best_score, best), (second, _) = scored[0], scored[1]
        if self.length is None:
            self._weigh_commit(best.length, second - best_score)
        elif best.length != self.length:
            self._weigh_change(best.length, best_score, scored, float(s[-1].take_up))
        else:
            self._against = 0
        if self.length is None:
            return
        mine = next(score for score, f in scored if f.length == self.length)
        self.confidence = min(score for score, f in scored if f.length != self.length) - mine
        chosen = next(f for f in fits if f.length == self.length)
        self._anchor = (chosen.length, s[0].take_up, chosen.r_take0)

    def _weigh_commit(self, best: str, margin: float) -> None:
        """Name the length once the same one has led clearly on COMMIT_FITS fits."""
        if margin < CONFIDENCE:
            self._leading = None
            return
        n = self._leading[1] + 1 if self._leading and self._leading[0] == best else 1
        self._leading = (best, n)
        if n >= COMMIT_FITS:
            self.length = best  # committed
            self._leading = None

    def _weigh_change(self, best: str, best_score: float, scored: list[tuple[float, Fit]],
                      turns: float) -> None:
        """A fit favours another length than the committed one: change only on evidence."""
        mine = next(score for score, f in scored if f.length == self.length)
        if mine - best_score < CHANGE_EVIDENCE:
            self._against = 0
            return
        if self._against == 0:
            self._against_from = turns
        self._against += 1
        if self._against >= CHANGE_FITS and abs(turns - self._against_from) >= MIN_TURNS:
            self.length = best
            self.changes += 1
            self._against = 0

    def _play_intervals(self) -> tuple[np.ndarray, float]:
        """Which intervals between the samples were at play speed, and the seconds played
        in them (the same for every length's fit)."""
        s = self._samples
        at_speed = np.fromiter((x.at_speed for x in s[1:]), bool, len(s) - 1)
        if not at_speed.any():
            return at_speed, 0.0
        played_at = np.fromiter((x.played for x in s), float, len(s))
        return at_speed, float(np.sum(np.diff(played_at)[at_speed]))

    def _speed_chi2(self, f: Fit, n_t: np.ndarray, at_speed: np.ndarray,
                    played: float) -> float:
        """How far the tape this fit says moved in play is from the time played (chi²)."""
        if played < 5.0:
            return 0.0
        g = self.geoms[f.length]
        p = g.seconds_of(f.r_take0 + n_t * g.thickness)
        moved = float(np.sum(np.diff(p)[at_speed]))
        return ((moved / played - 1.0) / SPEED_SIGMA) ** 2

    # output -------------------------------------------------------------------
    @property
    def known(self) -> bool:
        return self._anchor is not None

    @property
    def position(self) -> float | None:
        """Seconds of tape on the take-up reel (from the side's physical start), or None."""
        if self._anchor is None:
            return self._from_the_hub()
        length, turns0, r0 = self._anchor
        g = self.geoms[length]
        return g.seconds(r0 + (self._turns[0] - turns0) * g.thickness)

    def _from_the_hub(self) -> float | None:
        """After a full rewind, before the length is known: near the hub the tape wound on
        is 2π·r_hub per turn whatever its thickness (the thickness only enters as n²·t), so
        any cassette's geometry counts the first minutes to a few hundredths of a second."""
        if not self.calibrated or self._fixed_r0 is None or not self._samples:
            return None
        g = sorted(self.geoms.values(), key=lambda g: g.thickness)[len(self.geoms) // 2]
        return g.seconds(self._fixed_r0 + (self._turns[0] - self._samples[0].take_up)
                         * g.thickness)

    @property
    def remaining(self) -> float | None:
        """Seconds of play left on the side (to the end of the oxide)."""
        p = self.position
        if p is None or self.length is None:
            return None
        return max(0.0, self.geoms[self.length].duration - self.leader - p)

    def reading(self) -> float:
        """What it shows: the position if known, else the seconds played since insertion."""
        p = self.position
        return p if p is not None else self._played

    def near_end(self, forward: bool, margin: float = 20.0) -> bool | None:
        p = self.position
        if p is None or self.length is None:
            return None
        return p > self.geoms[self.length].duration - margin if forward else p < margin

    # persistence --------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"length": self.length, "calibrated": self.calibrated,
                "position": self.position, "played": self._played}

    def restore(self, saved: dict[str, Any]) -> None:
        """Take back a snapshot: the cassette stayed in while the daemon was down."""
        self.reset()
        length, position = saved.get("length"), saved.get("position")
        self._played = float(saved.get("played") or 0.0)
        if length in self.geoms and isinstance(position, int | float):
            g = self.geoms[length]
            self.length = length
            self.calibrated = bool(saved.get("calibrated"))
            r0 = g.radius(float(position))
            self._fixed_r0 = r0 if self.calibrated else None
            self._anchor = (length, 0.0, r0)
            self._samples = [_Sample(0.0, 0.0, self._played, False)]
