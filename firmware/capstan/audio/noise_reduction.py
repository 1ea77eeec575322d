"""B-type compatible noise reduction: a sliding-band compressor (encoder) and its exact inverse.

The published B-type system (Dolby Laboratories; the NE545/NE648 and HA12xxx
decoder chips) adds to a fixed main path a side chain whose high-pass shelf
slides up in frequency as the high-frequency level rises:

    y = x + g·HP_fc(x),   g = 10^(10/20) − 1   (+10 dB at high frequencies at low levels)

At low levels the shelf rests at REST_CORNER_HZ, so the boost begins around
500 Hz and reaches ~10 dB from 4–5 kHz up; as the level of what the side chain
sees rises above THRESHOLD_DB (re the reference level, the tape's Dolby level),
the corner moves up in proportion to that level, so a loud signal is left alone
and the boost only remains above it, where it still hides hiss.

The control: the encoded signal, weighted by the rest-corner high-pass (its
impulse response over the sub-block and the SUB samples before it), is
measured as its mean square over sub-blocks of SUB samples; a hold with
instant attack and a DECAY_S exponential decay follows it; the corner of
sub-block k comes from the detector after sub-block k−1. Because it is
computed from the *encoded* signal, the decoder derives exactly the same
corners from its input as the encoder did from its output, and within a
sub-block both are fixed first-order filters with

    encoder  y[n] = (1 + g·b0)·x[n] + (g·b1 − a1)·x[n−1] + a1·y[n−1]
    decoder  x[n] = (y[n] − a1·y[n−1] + (a1 − g·b1)·x[n−1]) / (1 + g·b0)

(b0, b1, a1 the bilinear high-pass at the corner): the decoder is the
encoder solved for x, sample by sample, with the same two states, so the
pair is complementary to rounding whatever the corners do. The decoder
(playback) is fully vectorized: a few numpy calls per block. The encoder
needs its own output for its control; it iterates on the whole block until
the corners no longer change (each iteration settles at least one more
sub-block; two to four suffice in practice).

A time-varying first-order recursion within a block is solved with a
parallel prefix scan (log₂ SUB steps inside the sub-blocks, log₂ of their
count across them), exact for any pole in (−1, 1). The work is laid out as
(sample in sub-block, channel × sub-block), so every numpy call runs over
the whole block.
"""

from __future__ import annotations

import math

import numpy as np

from capstan.audio.filters import highpass

BOOST_DB = 10.0  # the full high-frequency boost at low levels
GAIN = 10 ** (BOOST_DB / 20) - 1  # side-chain gain g
REST_CORNER_HZ = 1500.0  # the sliding shelf's corner at low levels (and the detector's weighting)
THRESHOLD_DB = -37.0  # re reference level: where the shelf starts to slide
DECAY_S = 0.1  # the detector's decay (amplitude time constant)
ATTACK_S = 0.002  # the detector's attack: a first-order lag after the hold
MAX_CORNER_HZ = 150e3  # the shelf's corner is capped (its pole stays inside ±0.82)
SUB = 32  # samples per sub-block (0.67 ms at 48 kHz): the control's time step
DEFAULT_REFERENCE_DBFS = -12.0  # the digital level of the reference flux (400 Hz tone peak)
MAX_ITERATIONS = 40
_TINY = 1e-30


def reference_rms(reference_dbfs: float) -> float:
    """The RMS of a sine whose peak is at `reference_dbfs` (full scale = 1.0)."""
    return 10 ** (reference_dbfs / 20) / math.sqrt(2)


class SlidingBand:
    """The state and control shared by the encoder and the decoder (per channel)."""

    def __init__(self, rate: int, channels: int = 2,
                 reference_dbfs: float = DEFAULT_REFERENCE_DBFS) -> None:
        self.rate, self.channels = rate, channels
        self._log_beta = -2.0 * SUB / (DECAY_S * rate)  # log of the decay per sub-block (power)
        self._kappa_rest = rate / (math.pi * REST_CORNER_HZ)
        self._kappa_min = rate / (math.pi * MAX_CORNER_HZ)
        self._weights: dict[int, np.ndarray] = {}
        self._smooth_plans: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.set_reference(reference_dbfs)
        self.reset()

    def set_reference(self, reference_dbfs: float) -> None:
        """The digital level (dBFS, sine peak) of a tone at the reference flux."""
        self.reference_dbfs = float(reference_dbfs)
        threshold = reference_rms(reference_dbfs) * 10 ** (THRESHOLD_DB / 20)
        self._inv_threshold2 = 1.0 / threshold ** 2

    def reset(self) -> None:
        self.hold = np.zeros((self.channels, 2))  # detector: held and smoothed mean square
        self.history = np.zeros((self.channels, SUB))  # the last SUB samples of the encoded signal
        self.prev_in = np.zeros(self.channels)
        self.prev_out = np.zeros(self.channels)

    # the control ---------------------------------------------------------------
    def _weighting(self, length: int) -> np.ndarray:
        """(SUB + length, length): the rest-corner high-pass over a sub-block and SUB before."""
        w = self._weights.get(length)
        if w is None:
            hp = highpass(REST_CORNER_HZ, self.rate)
            taps = SUB + length
            h = np.empty(taps)
            h[0] = hp.b0
            h[1:] = (hp.b1 + hp.a1 * hp.b0) * hp.a1 ** np.arange(taps - 1)
            w = np.zeros((taps, length))
            for i in range(length):
                n = SUB + i  # the window's sample that is output i
                w[: n + 1, i] = h[n::-1]
            self._weights[length] = w
        return w

    def _detect(self, encoded: np.ndarray, history: np.ndarray,
                hold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Held mean squares before each sub-block (C, K) and after the last (C,).

        `encoded` is (C, K, L) float64, `history` the SUB samples before it.
        """
        c, k, length = encoded.shape
        if k == 1:
            windows = np.concatenate([history, encoded[:, 0]], axis=1)[:, None, :]
        else:
            windows = np.concatenate(
                [np.concatenate([history[:, None, :], encoded[:, :-1]], axis=1), encoded], axis=2)
        w = windows.reshape(c * k, -1) @ self._weighting(length)
        ms = np.einsum("ml,ml->m", w, w).reshape(c, k) / length
        log_beta = self._log_beta * length / SUB
        steps = np.arange(k) * log_beta
        levels = np.maximum.accumulate(np.log(ms + _TINY) - steps, axis=1)
        levels = np.maximum(levels, (np.log(hold[:, 0] + _TINY) + log_beta)[:, None])
        held = np.exp(levels + steps)  # after each sub-block
        smooth, carry = self._smoothing(k, length)
        smoothed = held @ smooth + hold[:, 1:2] * carry  # the attack's first-order lag
        before = np.concatenate([hold[:, 1:2], smoothed[:, :-1]], axis=1)
        return before, np.stack([held[:, -1], smoothed[:, -1]], axis=1)

    def _smoothing(self, k: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(K, K) and (K,): e_k = Σ_j α(1−α)^(k−j)·h_j + (1−α)^(k+1)·e_−1, α per sub-block."""
        key = (k, length)
        plan = self._smooth_plans.get(key)
        if plan is None:
            alpha = 1.0 - math.exp(-length / (ATTACK_S * self.rate))
            j = np.arange(k)
            gaps = j[None, :] - j[:, None]  # column k, row j: k − j
            smooth = np.where(gaps >= 0, alpha * (1.0 - alpha) ** np.maximum(gaps, 0), 0.0)
            plan = self._smooth_plans[key] = (smooth, (1.0 - alpha) ** (j + 1))
        return plan

    def corners(self, mean_square: np.ndarray) -> np.ndarray:
        """The shelf's corner (Hz) for a detector reading (mean square of the weighted signal)."""
        return np.minimum(REST_CORNER_HZ * np.sqrt(1.0 + mean_square * self._inv_threshold2),
                          MAX_CORNER_HZ)

    def _poles(self, mean_square: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(b0, a1) of the bilinear high-pass at each sub-block's corner (b1 = −b0), flat (C·K,)."""
        kappa = np.maximum(self._kappa_rest / np.sqrt(1.0 + mean_square.ravel()
                                                      * self._inv_threshold2), self._kappa_min)
        b0 = kappa / (1.0 + kappa)
        for zero in _B0_ZEROS:
            near = np.abs(b0 - zero) < _B0_MARGIN
            if near.any():
                b0 = np.where(near, zero + _B0_MARGIN, b0)
        return b0, 2.0 * b0 - 1.0  # a1 = (κ−1)/(κ+1)

    # blocks ----------------------------------------------------------------------
    @staticmethod
    def _split(frames: int) -> list[tuple[int, int, int]]:
        """(start, end, sub-block length): whole sub-blocks, then one shorter for the tail."""
        body = frames - frames % SUB
        parts = [(0, body, SUB)] if body else []
        if body != frames:
            parts.append((body, frames, frames - body))
        return parts

    def __call__(self, block: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns the same shape and dtype."""
        parts = self._split(len(block))
        if len(parts) == 1:
            return self._run(block, parts[0][2])
        return np.concatenate([self._run(block[a:b], n) for a, b, n in parts])

    def _run(self, block: np.ndarray, length: int) -> np.ndarray:
        raise NotImplementedError


def _flush(state: np.ndarray) -> np.ndarray:
    """A copy of a filter state with values under 1e-30 set to zero (no subnormal decay)."""
    return np.where(np.abs(state) < 1e-30, 0.0, state)


def _columns(x: np.ndarray) -> np.ndarray:
    """(C, K, L) → (L, C·K): a sample of every sub-block per row."""
    c, k, length = x.shape
    return x.transpose(2, 0, 1).reshape(length, c * k)


_TRI: dict[int, np.ndarray] = {}
_POLE_MIN = 1e-3  # |pole| of either direction stays at least this far from zero
# b0 values at which a pole crosses zero: the encoder's a1 = 2·b0 − 1, the decoder's
# ((2 + g)·b0 − 1)/(1 + g·b0); b0 is kept 6e-4 from them (both poles then ≥ 1e-3 from zero)
_B0_ZEROS = (0.5, 1.0 / (2.0 + GAIN))
_B0_MARGIN = 6e-4


def _powers(a: np.ndarray, length: int) -> np.ndarray:
    """(length, M): a^i for i = 0 … length−1, by repeated squaring (signs come out right)."""
    p = np.empty((length, len(a)))
    p[0] = 1.0
    n, sq = 1, a
    while n < length:
        m = min(n, length - n)
        np.multiply(p[:m], sq, out=p[n:n + m])
        n += m
        sq = sq * sq
    return p


def _recursion(u: np.ndarray, a: np.ndarray, prev_out: np.ndarray, k: int) -> np.ndarray:
    """out[n] = a·out[n−1] + u[n], `a` constant per sub-block: u (L, C·K), a (C·K,).

    Inside a sub-block out[i] = a^i·(Σ_{j≤i} u[j]·a^−j + a·X), X the output before
    it: the a^−j terms grow, so each sum is dominated by its last terms and keeps its
    precision (|a| ≥ _POLE_MIN, so a^−L stays far inside float64). The outputs at the
    sub-blocks' ends, X_k = a_k^L·X_{k−1} + Z_k, follow across the sub-blocks (a short
    loop over scalars: K per channel).
    """
    length, m = u.shape
    c = m // k
    tri = _TRI.get(length)
    if tri is None:
        tri = _TRI[length] = np.tril(np.ones((length, length)))
    powers = _powers(a, length)
    s = tri @ (u / powers)
    last = powers[-1] * a  # a^L
    ends = (s[-1] * last).tolist()  # zero-state outputs at the ends (s[-1]·a^(L−1)·a)
    ends = [e / ai for e, ai in zip(ends, a.tolist(), strict=True)]
    steps = last.tolist()
    starts = []
    for ch in range(c):
        x = float(prev_out[ch])
        for j in range(ch * k, (ch + 1) * k):
            starts.append(x)
            x = steps[j] * x + ends[j]
    s += a * np.array(starts)
    s *= powers
    return s


class Decoder(SlidingBand):
    """The B-type decoder (expander): (frames, channels) float32 blocks in and out."""

    def _run(self, y: np.ndarray, length: int) -> np.ndarray:
        frames, ch = y.shape
        k = frames // length
        enc = np.ascontiguousarray(y.T, dtype=np.float64).reshape(ch, k, length)
        ms, hold = self._detect(enc, self.history, self.hold)
        b0, a1 = self._poles(ms)
        norm = 1.0 / (1.0 + GAIN * b0)
        now = _columns(enc)
        before = np.empty_like(now)
        before[1:] = now[:-1]
        first = before[0].reshape(ch, k)
        first[:, 0] = self.prev_in
        first[:, 1:] = enc[:, :-1, -1]
        u = (now - before * a1) * norm
        x = _recursion(u, (a1 + GAIN * b0) * norm, self.prev_out, k)
        self.hold = hold
        self.history = enc.reshape(ch, frames)[:, -SUB:].copy() if frames >= SUB else \
            np.concatenate([self.history, enc.reshape(ch, frames)], axis=1)[:, -SUB:]
        self.prev_in = enc[:, -1, -1].copy()
        out = x.reshape(length, ch, k).transpose(1, 2, 0)
        self.prev_out = _flush(out[:, -1, -1])
        return np.ascontiguousarray(out, dtype=y.dtype).reshape(ch, frames).T


class Encoder(SlidingBand):
    """The B-type encoder (compressor): (frames, channels) float32 blocks in and out."""

    iterations = 0  # of the last block (for the benchmark and tests)

    def _run(self, x: np.ndarray, length: int) -> np.ndarray:
        frames, ch = x.shape
        k = frames // length
        src = np.ascontiguousarray(x.T, dtype=np.float64).reshape(ch, k, length)
        now = _columns(src)
        before = np.empty_like(now)
        before[1:] = now[:-1]
        first = before[0].reshape(ch, k)
        first[:, 0] = self.prev_in
        first[:, 1:] = src[:, :-1, -1]
        # first guess: the detector's hold decaying over the block (as if nothing new came)
        ms = self.hold[:, 1:2] * np.exp(self._log_beta * length / SUB * np.arange(k))[None, :]
        for i in range(MAX_ITERATIONS):  # noqa: B007 (the count is kept)
            b0, a1 = self._poles(ms)
            u = now * (1.0 + GAIN * b0) - before * (GAIN * b0 + a1)
            y = _recursion(u, a1, self.prev_out, k)
            enc = np.ascontiguousarray(y.reshape(length, ch, k).transpose(1, 2, 0),
                                       dtype=x.dtype)
            new_ms, hold = self._detect(enc.astype(np.float64), self.history, self.hold)
            converged = np.array_equal(new_ms, ms) or np.allclose(new_ms, ms, rtol=1e-10,
                                                                   atol=0.0)
            ms = new_ms
            if converged:
                break
        self.iterations = i + 1
        self.hold = hold
        flat = enc.reshape(ch, frames).astype(np.float64)
        self.history = flat[:, -SUB:].copy() if frames >= SUB else \
            np.concatenate([self.history, flat], axis=1)[:, -SUB:]
        self.prev_in = src[:, -1, -1].copy()
        self.prev_out = _flush(y.reshape(length, ch, k)[-1, :, -1])
        return enc.reshape(ch, frames).T
