"""Tape-pack geometry, and which cassette this is from how its two reels turn.

A pack of tape of thickness d on a hub of radius h grows by d per turn (an
Archimedean spiral), so from a reference point the take-up reel's radius is
r_t = r_t0 + n_t·d after n_t turns and the supply's is r_s = r_s0 − n_s·d, while
r_t² + r_s² stays the same (the tape's area is conserved). The turn counts come
from the reel tachometers and depend on geometry only: neither the capstan's
speed error nor flutter changes them. For each cassette length (C46/C60/C90/C120)
the only unknown is where on the tape we started (r_t0); the hypothesis whose
best r_t0 explains the two turn counts best is the cassette. C60, C90 and C120
hold the same area of tape, so the reels' ratio alone tells where we are, and the
way the ratio drifts per turn (the thickness) tells which of them it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from capstan.hardware.description import Mechanism


@dataclass(frozen=True)
class PackGeometry:
    length: str
    duration: float  # s of tape per side at nominal speed, leaders included
    thickness: float  # m
    hub: float  # m
    speed: float  # m/s nominal

    @property
    def area(self) -> float:
        """r_t² + r_s², constant while the tape moves."""
        return 2 * self.hub ** 2 + self.duration * self.speed * self.thickness / math.pi

    @property
    def full_radius(self) -> float:
        return math.sqrt(self.area - self.hub ** 2)

    def radius(self, seconds_on_reel: float) -> float:
        s = min(max(seconds_on_reel, 0.0), self.duration)
        return math.sqrt(self.hub ** 2 + s * self.speed * self.thickness / math.pi)

    def seconds(self, take_up_radius: float) -> float:
        """Position (s of tape on the take-up reel) for a take-up radius."""
        s = math.pi * (take_up_radius ** 2 - self.hub ** 2) / (self.speed * self.thickness)
        return min(max(s, 0.0), self.duration)

    def seconds_of(self, take_up_radii: np.ndarray) -> np.ndarray:
        """`seconds` of many take-up radii at once."""
        s = math.pi * (take_up_radii ** 2 - self.hub ** 2) / (self.speed * self.thickness)
        return np.clip(s, 0.0, self.duration)


def geometries(mech: Mechanism) -> dict[str, PackGeometry]:
    return {name: PackGeometry(name, spec.minutes * 60.0 + 2 * mech.leader, spec.thickness,
                               mech.hub_radius, mech.nominal_speed)
            for name, spec in mech.cassettes.items()}


COARSE_SAMPLES = 64  # samples the coarse grids of a fit look at (at most about)


@dataclass(frozen=True)
class Fit:
    length: str
    r_take0: float  # take-up radius at the first sample, m
    rms: float  # turns of the supply reel the model misses, root mean square


def _sse(g: PackGeometry, r0: np.ndarray, n_t: np.ndarray, n_s: np.ndarray) -> np.ndarray:
    """For each start radius r0: the squared residuals of the supply's turns, about their
    mean (the first sample's own error is a constant). The residual is n_s − (r_s0 − r_s)/d;
    r_s0/d is a constant per start radius, which the mean takes away, so it is never
    computed. In place, on one (radii, samples) array: this runs on every fit."""
    d = g.thickness
    x = np.add.outer(r0, n_t * d)  # the take-up's radius at each sample
    np.square(x, out=x)
    np.subtract(g.area, x, out=x)
    np.maximum(x, 0.0, out=x)
    np.sqrt(x, out=x)  # the supply's radius
    x /= d
    x += n_s
    x -= x.mean(axis=1, keepdims=True)
    return np.einsum("ij,ij->i", x, x)


def fit(g: PackGeometry, n_t: np.ndarray, n_s: np.ndarray,
        r_take0: float | None = None) -> Fit:
    """The best start radius for this cassette (or the given one), and how well it explains."""
    d = g.thickness
    if r_take0 is not None:
        sse = float(_sse(g, np.array([r_take0]), n_t, n_s)[0])
        return Fit(g.length, r_take0, math.sqrt(sse / max(len(n_t), 1)))
    lo = g.hub - min(0.0, float(n_t.min())) * d
    hi = g.full_radius - max(0.0, float(n_t.max())) * d
    if hi <= lo:
        return Fit(g.length, g.hub, math.inf)
    best = lo
    # the two coarse grids look at every k-th sample only (the residuals vary smoothly
    # along the tape, so the minimum is where the full set puts it, within the finer grid
    # that follows); the last grid and the fit's figure use every sample
    k = max(1, len(n_t) // COARSE_SAMPLES)
    for rounds_left in (2, 1, 0):  # a coarse grid, then two finer ones around the best
        grid = np.linspace(lo, hi, 48)
        sse = _sse(g, grid, n_t[::k], n_s[::k]) if rounds_left else _sse(g, grid, n_t, n_s)
        i = int(np.argmin(sse))
        best = float(grid[i])
        step = (hi - lo) / 47
        lo, hi = max(lo, best - 2 * step), min(hi, best + 2 * step)
    sse_best = float(_sse(g, np.array([best]), n_t, n_s)[0])
    return Fit(g.length, best, math.sqrt(sse_best / len(n_t)))


def identify(geoms: dict[str, PackGeometry], n_t: np.ndarray, n_s: np.ndarray,
             r_take0: float | None = None) -> list[Fit]:
    """Every length's best fit, best first."""
    return sorted((fit(g, n_t, n_s, r_take0) for g in geoms.values()), key=lambda f: f.rms)
