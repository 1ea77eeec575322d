"""Linear filters built from analog definitions, run a block at a time.

Coefficients come from the bilinear transform computed here (no scipy).
A filter is a series of sections of order one or two; the whole chain is
turned into one state-space system and run over blocks with precomputed
matrices, so numpy does the work instead of a Python loop per sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnalogSection:
    """H(s) = (b0 + b1 s + b2 s²) / (a0 + a1 s + a2 s²), s in rad/s."""

    num: tuple[float, float, float]
    den: tuple[float, float, float]


def _w(freq_hz: float, sample_rate: float) -> float:
    """A corner frequency pre-warped for the bilinear transform, in rad/s."""
    return 2.0 * sample_rate * math.tan(math.pi * freq_hz / sample_rate)


def high_pass_1(freq_hz: float, fs: float) -> AnalogSection:
    return AnalogSection((0.0, 1.0, 0.0), (_w(freq_hz, fs), 1.0, 0.0))


def low_pass_1(freq_hz: float, fs: float) -> AnalogSection:
    return AnalogSection((1.0, 0.0, 0.0), (1.0, 1.0 / _w(freq_hz, fs), 0.0))


def shelf_1(zero_hz: float, pole_hz: float, fs: float) -> AnalogSection:
    """(1 + s/ωz) / (1 + s/ωp): unity at DC."""
    return AnalogSection((1.0, 1.0 / _w(zero_hz, fs), 0.0), (1.0, 1.0 / _w(pole_hz, fs), 0.0))


def high_pass_2(freq_hz: float, q: float, fs: float) -> AnalogSection:
    w = _w(freq_hz, fs)
    return AnalogSection((0.0, 0.0, 1.0), (w * w, w / q, 1.0))


def low_pass_2(freq_hz: float, q: float, fs: float) -> AnalogSection:
    w = _w(freq_hz, fs)
    return AnalogSection((w * w, 0.0, 0.0), (w * w, w / q, 1.0))


def butterworth_qs(order: int) -> list[float]:
    """The Q of each second-order pair of an even-order Butterworth filter."""
    return [1.0 / (2.0 * math.cos((2 * k + 1) * math.pi / (2 * order))) for k in range(order // 2)]


def bilinear(section: AnalogSection, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Digital (b, a) of one section, s = 2 fs (1 - z⁻¹) / (1 + z⁻¹)."""
    k = 2.0 * fs
    b0, b1, b2 = section.num
    a0, a1, a2 = section.den
    if b2 == 0.0 and a2 == 0.0:  # first order: no spurious pole/zero pair at z = -1
        b = np.array([b0 + b1 * k, b0 - b1 * k])
        a = np.array([a0 + a1 * k, a0 - a1 * k])
    else:
        kk = k * k
        b = np.array([b0 + b1 * k + b2 * kk, 2 * (b0 - b2 * kk), b0 - b1 * k + b2 * kk])
        a = np.array([a0 + a1 * k + a2 * kk, 2 * (a0 - a2 * kk), a0 - a1 * k + a2 * kk])
    return b / a[0], a / a[0]


def digital_response(sections: Sequence[tuple[np.ndarray, np.ndarray]], freq_hz: np.ndarray,
                     fs: float) -> np.ndarray:
    """Complex response of a chain of digital (b, a) sections at the given frequencies."""
    z1 = np.exp(-2j * np.pi * np.asarray(freq_hz, dtype=float) / fs)  # z⁻¹
    h = np.ones_like(z1)
    for b, a in sections:
        h = h * np.polyval(b[::-1], z1) / np.polyval(a[::-1], z1)
    return h


def _state_space(b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, ...]:
    """Transposed direct form II of one section as (A, B, C, D)."""
    n = len(a) - 1
    b = np.concatenate([b, np.zeros(n + 1 - len(b))])
    big_a = np.zeros((n, n))
    big_a[:, 0] = -a[1:]
    big_a[: n - 1, 1:] = np.eye(n - 1)
    big_b = b[1:] - a[1:] * b[0]
    big_c = np.zeros(n)
    big_c[0] = 1.0
    return big_a, big_b, big_c, float(b[0])


StateSpace = tuple[np.ndarray, ...]


def _series(first: StateSpace, second: StateSpace) -> StateSpace:
    a1, b1, c1, d1 = first
    a2, b2, c2, d2 = second
    n1, n2 = len(b1), len(b2)
    a = np.zeros((n1 + n2, n1 + n2))
    a[:n1, :n1] = a1
    a[n1:, :n1] = np.outer(b2, c1)
    a[n1:, n1:] = a2
    b = np.concatenate([b1, b2 * d1])
    c = np.concatenate([d2 * c1, c2])
    return a, b, c, d1 * d2


Chain = tuple[Sequence[tuple[np.ndarray, np.ndarray]], float]  # digital sections and a gain


class BlockFilter:
    """Chains of digital sections fed the same input, run over blocks, keeping their state.

    All chains form one state-space system (x' = A x + B u, y = C x + D u). For a
    block of N samples, y = T u + O x and x' = A^N x + R u, with T holding each
    chain's impulse response: two matrix products per block.
    """

    def __init__(self, chains: Sequence[Chain], block: int = 200) -> None:
        systems = []
        for sections, gain in chains:
            ss = _state_space(*sections[0])
            for b, a in sections[1:]:
                ss = _series(ss, _state_space(b, a))
            a_k, b_k, c_k, d_k = ss
            systems.append((a_k, b_k, c_k * gain, d_k * gain))
        n = sum(len(b_k) for _, b_k, _, _ in systems)
        a_mat, b_vec = np.zeros((n, n)), np.zeros(n)
        c_mat, d_vec = np.zeros((len(systems), n)), np.zeros(len(systems))
        at = 0
        for j, (a_k, b_k, c_k, d_k) in enumerate(systems):
            m = len(b_k)
            a_mat[at:at + m, at:at + m] = a_k
            b_vec[at:at + m] = b_k
            c_mat[j, at:at + m] = c_k
            d_vec[j] = d_k
            at += m
        self.outputs, self.order, self._block = len(systems), n, block
        powers = [np.eye(n)]
        for _ in range(block):
            powers.append(a_mat @ powers[-1])
        self._powers = powers  # A^0 .. A^N
        ab = np.stack([p @ b_vec for p in powers[:block]])  # (N, n): A^k B
        h = np.concatenate([d_vec[None, :], ab[:-1] @ c_mat.T])  # (N, outputs)
        lag = np.arange(block)[:, None] - np.arange(block)[None, :]
        t = np.where(lag[None] >= 0, h.T[:, np.clip(lag, 0, None)], 0.0)  # (outputs, N, N)
        self._t = np.ascontiguousarray(t)
        self._t2 = self._t.reshape(-1, block)  # 2-D, so the full block is one BLAS product
        self._o = np.stack([c_mat @ powers[k] for k in range(block)], axis=1)  # (outputs, N, n)
        self._o2 = self._o.reshape(-1, n)
        self._r = ab[::-1].T  # (n, N): column j is A^(N-1-j) B
        self._x = np.zeros(n)

    def process(self, u: np.ndarray) -> np.ndarray:
        """Filter `u`; one row of output per chain."""
        u = np.asarray(u, dtype=float)
        y = np.empty((self.outputs, len(u)))
        n = self._block
        x = self._x
        for start in range(0, len(u), n):
            chunk = u[start:start + n]
            m = len(chunk)
            if m == n:
                y[:, start:start + n] = (self._t2 @ chunk + self._o2 @ x).reshape(-1, n)
            else:
                y[:, start:start + m] = self._t[:, :m, :m] @ chunk + self._o[:, :m] @ x
            x = self._powers[m] @ x + self._r[:, n - m:] @ chunk
        self._x = x
        return y
