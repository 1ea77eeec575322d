"""Linear filters for the audio chain, in numpy only (no scipy: it costs seconds at start-up).

Coefficients come from the analog prototypes by the bilinear transform,
computed from time constants at construction.

A recursive filter cannot be vectorized sample by sample, so `BlockFilter`
runs a small state-space system over a block in chunks of L samples: within
a chunk the output is a Toeplitz matrix of the impulse response times the
input plus the contribution of the state at the chunk's start; the states at
the chunk ends follow from one more matrix product. Every block is then a
handful of BLAS calls whatever its length, and only decaying powers of the
state matrix appear, so it is as stable as the filter itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CHUNK = 32  # samples per chunk: small enough for the Toeplitz product, large enough for BLAS


@dataclass(frozen=True)
class FirstOrder:
    """y[n] = b0·x[n] + b1·x[n-1] + a1·y[n-1] (note the sign: a1 is the pole)."""

    b0: float
    b1: float
    a1: float

    def response(self, freqs: np.ndarray, rate: float) -> np.ndarray:
        """Complex frequency response at `freqs` (Hz)."""
        z1 = np.exp(-2j * np.pi * np.asarray(freqs, float) / rate)
        return (self.b0 + self.b1 * z1) / (1 - self.a1 * z1)


def lowpass(time_constant: float, rate: float) -> FirstOrder:
    """1 / (1 + sT) by the bilinear transform (s = 2·rate·(1 − z⁻¹)/(1 + z⁻¹))."""
    k = 2 * rate * time_constant
    return FirstOrder(1 / (1 + k), 1 / (1 + k), (k - 1) / (k + 1))


def highpass(corner_hz: float, rate: float) -> FirstOrder:
    """sT / (1 + sT) with T = 1/(2π·corner), by the bilinear transform: the DC blocker."""
    k = 2 * rate / (2 * math.pi * corner_hz)
    return FirstOrder(k / (1 + k), -k / (1 + k), (k - 1) / (k + 1))


def cascade_state_space(sections: list[FirstOrder]) -> tuple[np.ndarray, ...]:
    """(A, B, C, D) of first-order sections in series; output p is the output of section p.

    State i is the input of section i one sample ago; the last state is the
    output of the last section one sample ago. Section p's input is section
    p-1's output, so a section's "previous output" is the next one's
    "previous input".
    """
    n = len(sections)
    a = np.zeros((n + 1, n + 1))
    b = np.zeros(n + 1)
    c = np.zeros((n, n + 1))
    d = np.zeros(n)
    # y_p = g_p·x + Σ h_p[j]·s_j, built section by section from y_{p-1}
    g, h = 1.0, np.zeros(n + 1)
    for p, s in enumerate(sections):
        g, h = s.b0 * g, s.b0 * h
        h[p] += s.b1
        h[p + 1] += s.a1
        c[p], d[p] = h, g
    b[0] = 1.0
    a[1:], b[1:] = c, d  # next state p+1 = output of section p now
    return a, b, c, d


class BlockFilter:
    """A state-space filter (A, B, C, D) with q outputs, run over (frames, channels) blocks."""

    def __init__(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray,
                 channels: int = 2, chunk: int = CHUNK, dtype: type = np.float32) -> None:
        self.a, self.b = np.asarray(a, float), np.asarray(b, float)
        self.c, self.d = np.atleast_2d(c).astype(float), np.atleast_1d(d).astype(float)
        self.outputs = len(self.d)
        self.order = len(self.b)
        self.channels, self.chunk, self.dtype = channels, chunk, dtype
        self.state = np.zeros((channels, self.order), dtype)
        self._plans: dict[tuple[int, int, tuple[float, ...] | None], tuple[np.ndarray, ...]] = {}

    @classmethod
    def cascade(cls, sections: list[FirstOrder], channels: int = 2) -> BlockFilter:
        return cls(*cascade_state_space(sections), channels=channels)

    def reset(self) -> None:
        self.state[:] = 0

    def _plan(self, length: int, chunks: int,
              mix: tuple[float, ...] | None) -> tuple[np.ndarray, ...]:
        key = (length, chunks, mix)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        a, b, c, d, k = self.a, self.b, self.c, self.d, self.order
        if mix is not None:  # one output: a fixed weighted sum of the outputs
            c, d = np.asarray(mix) @ c, np.asarray(mix) @ d
            c, d = c[None, :], np.atleast_1d(d)
        q = len(d)
        powers = [np.eye(k)]
        for _ in range(length):
            powers.append(a @ powers[-1])
        h = np.zeros((q, length))  # impulse responses
        h[:, 0] = d
        for i in range(1, length):
            h[:, i] = c @ powers[i - 1] @ b
        w = np.zeros((q * length + k, length))
        for p in range(q):
            for i in range(length):
                w[p * length + i, : i + 1] = h[p, i::-1]
        for j in range(length):
            w[q * length:, j] = powers[length - 1 - j] @ b
        obs = np.vstack([np.vstack([c[p] @ powers[i] for i in range(length)]) for p in range(q)])
        a_l = powers[length]
        step = [np.eye(k)]
        for _ in range(chunks):
            step.append(a_l @ step[-1])
        g = np.zeros((chunks * k, chunks * k))
        for j in range(chunks):
            for i in range(j + 1):
                g[j * k:(j + 1) * k, i * k:(i + 1) * k] = step[j - i]
        start = np.vstack([step[j + 1] for j in range(chunks)])
        t = self.dtype
        plan = (w.T.astype(t), g.T.astype(t), start.T.astype(t), obs.T.astype(t))
        self._plans[key] = plan
        return plan

    def __call__(self, x: np.ndarray, mix: tuple[float, ...] | None = None) -> list[np.ndarray]:
        """Filter `x` (frames, channels); returns one (frames, channels) array per output,
        or, with `mix`, the one output Σ mix[p]·output[p] (cheaper than mixing afterwards)."""
        frames = len(x)
        body = frames - frames % self.chunk
        if body and body != frames:
            heads = self._run(x[:body], self.chunk, mix)
            tails = self._run(x[body:], frames - body, mix)
            return [np.concatenate([h, t]) for h, t in zip(heads, tails, strict=True)]
        return self._run(x, self.chunk if body else frames, mix)

    def _run(self, x: np.ndarray, length: int, mix: tuple[float, ...] | None) -> list[np.ndarray]:
        frames, ch = x.shape
        m = frames // length
        k = self.order
        q = 1 if mix is not None else self.outputs
        wt, gt, st, ot = self._plan(length, m, mix)
        u = np.ascontiguousarray(x.T, dtype=self.dtype).reshape(ch * m, length)
        r = u @ wt  # (ch·m, q·L + k): zero-state outputs and end-state contributions
        ends = r[:, q * length:].reshape(ch, m * k) @ gt + self.state @ st  # (ch, m·k)
        starts = np.concatenate([self.state, ends[:, : (m - 1) * k]], axis=1)
        y = r[:, : q * length] + starts.reshape(ch * m, k) @ ot
        self.state = ends[:, (m - 1) * k:]
        if q == 1:
            return [y.reshape(ch, frames).T]
        y = y.reshape(ch, m, q, length)
        return [y[:, :, p, :].reshape(ch, frames).T for p in range(q)]
