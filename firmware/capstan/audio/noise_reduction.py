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
sub-block k comes from the detector after sub-block k−1 (so the attack takes
one sub-block, 0.67 ms, whatever the size of the step). Because it is
computed from the *encoded* signal, the decoder derives exactly the same
corners from its input as the encoder did from its output, and within a
sub-block both are fixed first-order filters with

    encoder  y[n] = (1 + g·b0)·x[n] + (g·b1 − a1)·x[n−1] + a1·y[n−1]
    decoder  x[n] = (y[n] − a1·y[n−1] + (a1 − g·b1)·x[n−1]) / (1 + g·b0)

(b0, b1, a1 the bilinear high-pass at the corner): the decoder is the
encoder solved for x, sample by sample, with the same two states, so the
pair is complementary to rounding whatever the corners do. The decoder
(playback) is fully vectorized: a few dozen numpy calls per block. The encoder
needs its own output for its control; it iterates on the whole block until
the corners no longer change (each iteration settles at least one more
sub-block; about five suffice in practice).

A time-varying first-order recursion within a block is solved with a
triangular matrix product inside the sub-blocks (the pole's powers a^i by a
running product) and a three-step prefix scan
across them (the carry a^SUB ≤ 0.14 for every pole the shelf can have, so
terms beyond 8 sub-blocks back are below 1.3e-7 of the state). The work is laid out as
(channel, sub-block, sample), a view of the block, and every numpy call runs
over the whole block.
"""

from __future__ import annotations

import math

import numpy as np

from capstan.audio.filters import highpass

BOOST_DB = 10.0  # the full high-frequency boost at low levels
GAIN = 10 ** (BOOST_DB / 20) - 1  # side-chain gain g
REST_CORNER_HZ = 1500.0  # the sliding shelf's corner at low levels (and the detector's weighting)
THRESHOLD_DB = -37.0  # re reference level: where the shelf starts to slide
# The control's time constants, from the components of the B-type control circuit: the
# rectified side-chain signal charges the first smoothing capacitor (0.1 µF) through
# 2.7 kΩ and it discharges through 270 kΩ; a second stage (270 kΩ, 0.33 µF) follows it.
ATTACK_S = 2.7e3 * 0.1e-6  # 0.27 ms: shorter than a sub-block, so the attack takes one
STAGE_DECAYS_S = (270e3 * 0.1e-6, 270e3 * 0.33e-6)  # 27 ms and 89 ms, in cascade
DECAY_S = sum(STAGE_DECAYS_S)  # 116 ms: the cascade's mean delay (amplitude time constant)
MAX_CORNER_HZ = 150e3  # the shelf's corner is capped (its pole stays inside ±0.82)
SUB = 32  # samples per sub-block (0.67 ms at 48 kHz): the control's time step
DEFAULT_REFERENCE_DBFS = -12.0  # the digital level of the reference flux (400 Hz tone peak)
MAX_ITERATIONS = 40
# the encoder's corners are taken as settled when no detector reading moves by more than
# this (relative): the decoder's corners then differ by under 1e-6, its output by less
_RTOL = 2e-6
_TINY = 1e-30


def reference_rms(reference_dbfs: float) -> float:
    """The RMS of a sine whose peak is at `reference_dbfs` (full scale = 1.0)."""
    return 10 ** (reference_dbfs / 20) / math.sqrt(2)


class SlidingBand:
    """The state and control shared by the encoder and the decoder (per channel).

    With r = √(1 + m/T²) (m the detector's mean square, T the threshold), the
    shelf's corner is REST_CORNER_HZ·r and its bilinear high-pass has
    κ = κ₀/r (κ₀ = rate/(π·REST_CORNER_HZ)), b0 = κ/(1 + κ), a1 = (κ − 1)/(κ + 1);
    in terms of r, with c = (1 + g)·κ₀:

        encoder  y[n] = G·x[n] − Q·x[n−1] + a1·y[n−1],   G = (r + c)/(r + κ₀),
                 Q = (c − r)/(r + κ₀),  a1 = (κ₀ − r)/(κ₀ + r)
        decoder  x[n] = (y[n] − a1·y[n−1])/G + A·x[n−1],  A = (c − r)/(c + r)
    """

    def __init__(self, rate: int, channels: int = 2,
                 reference_dbfs: float = DEFAULT_REFERENCE_DBFS) -> None:
        self.rate, self.channels = rate, channels
        self._log_beta = -2.0 * SUB / (DECAY_S * rate)  # log of the decay per sub-block (power)
        self._k0 = rate / (math.pi * REST_CORNER_HZ)
        self._c = (1.0 + GAIN) * self._k0
        self._r_max = MAX_CORNER_HZ / REST_CORNER_HZ
        self._log_mid = 0.5 * (math.log(self._k0) + math.log(self._c))  # between the zeros
        self._log_half = 0.5 * (math.log(self._c) - math.log(self._k0))
        self._weights: dict[int, np.ndarray] = {}
        self._steps: dict[tuple[int, int], np.ndarray] = {}
        self._sums: dict[int, np.ndarray] = {}
        self.set_reference(reference_dbfs)
        self.reset()

    def set_reference(self, reference_dbfs: float) -> None:
        """The digital level (dBFS, sine peak) of a tone at the reference flux."""
        self.reference_dbfs = float(reference_dbfs)
        threshold = reference_rms(reference_dbfs) * 10 ** (THRESHOLD_DB / 20)
        self._inv_threshold2 = 1.0 / threshold ** 2

    def reset(self) -> None:
        self.hold = np.zeros(self.channels)  # detector: the held mean square
        self.history = np.zeros((self.channels, SUB))  # the last SUB samples of the encoded signal
        self.prev_out = np.zeros(self.channels)  # the section's output state

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
            w /= math.sqrt(length)  # so that the sum of the squared outputs is their mean
            self._weights[length] = w
        return w

    def _detect(self, padded: np.ndarray, k: int, length: int,
                hold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The held mean square before each sub-block (C, K) and after the last (C,).

        `padded` is (C, SUB + K·L) float64: SUB samples of history, then the block.
        The hold enters as sub-block −1, so one running maximum (in the log domain,
        less the decay's steps) gives every reading.
        """
        c = padded.shape[0]
        if k == 1:
            windows = padded
        else:  # length == SUB: each sub-block with the one before it
            blocks = padded.reshape(c, k + 1, SUB)
            windows = np.concatenate([blocks[:, :-1], blocks[:, 1:]], axis=2)
        w = windows.reshape(c * k, SUB + length) @ self._weighting(length)  # scaled: 1/√L
        w *= w
        levels = np.empty((c, k + 1))
        levels[:, 0] = hold
        levels[:, 1:] = (w @ self._ones(length)).reshape(c, k)  # the mean squares
        steps = self._steps.get((k, length))
        if steps is None:  # the decay's log per sub-block, from sub-block −1
            steps = np.arange(k + 1) * (self._log_beta * length / SUB)
            self._steps[(k, length)] = steps
        levels += _TINY
        np.log(levels, out=levels)
        levels -= steps
        np.maximum.accumulate(levels, axis=1, out=levels)
        levels += steps
        np.exp(levels, out=levels)
        levels[:, 0] = hold
        return levels[:, :-1], levels[:, -1].copy()

    def _ones(self, length: int) -> np.ndarray:
        ones = self._sums.get(length)
        if ones is None:
            ones = self._sums[length] = np.ones(length)
        return ones

    def corners(self, mean_square: np.ndarray) -> np.ndarray:
        """The shelf's corner (Hz) for a detector reading (mean square of the weighted signal)."""
        ms = np.asarray(mean_square, float)
        return REST_CORNER_HZ * self._ratio(ms.reshape(-1)).reshape(ms.shape)

    def _ratio(self, mean_square: np.ndarray) -> np.ndarray:
        """r: the corner over the rest corner, capped, and kept off the two values where a
        pole would be zero (r = κ₀ for the encoder, r = c for the decoder)."""
        r = mean_square * self._inv_threshold2
        r += 1.0
        np.sqrt(r, out=r)
        np.minimum(r, self._r_max, out=r)
        if np.maximum.reduce(r, axis=None) <= self._k0 * (1.0 - _R_MARGIN):
            return r  # below both zeros, the usual case
        # the two zeros in one test: |log r − log z| < margin, for z = κ₀ and z = c
        distance = np.abs(np.abs(np.log(r) - self._log_mid) - self._log_half)
        if distance.min() < _R_MARGIN:
            for zero in (self._k0, self._c):
                r = np.where(np.abs(r - zero) < _R_MARGIN * zero, zero * (1.0 + _R_MARGIN), r)
        return r

    # blocks ----------------------------------------------------------------------
    def __call__(self, block: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns the same shape and dtype."""
        frames = len(block)
        body = frames - frames % SUB
        if body == frames or body == 0:
            return self._run(block, SUB if body else frames)
        return np.concatenate([self._run(block[:body], SUB),
                               self._run(block[body:], frames - body)])

    def _padded(self, block: np.ndarray) -> np.ndarray:
        frames, ch = block.shape
        pad = np.empty((ch, SUB + frames))
        pad[:, :SUB] = self.history
        pad[:, SUB:] = block.T
        return pad

    def _run(self, block: np.ndarray, length: int) -> np.ndarray:
        raise NotImplementedError


_TRI: dict[int, np.ndarray] = {}
_R_MARGIN = 2e-3  # r is kept this far (relative) from where a pole is zero: |pole| ≥ 1e-3


def _powers(a: np.ndarray, length: int) -> np.ndarray:
    """(C, K, L): a^i for i < L, as a running product along the sub-block."""
    c, k = a.shape
    powers = np.empty((c, k, length))
    powers[:, :, 0] = 1.0
    powers[:, :, 1:] = a[..., None]
    np.multiply.accumulate(powers, axis=2, out=powers)
    return powers


def _recursion(u: np.ndarray, a: np.ndarray, prev_out: np.ndarray) -> np.ndarray:
    """out[n] = a·out[n−1] + u[n], `a` constant per sub-block: u (C, K, L), a (C, K).

    Inside a sub-block out[i] = a^i·(Σ_{j≤i} u[j]·a^−j + a·X), X the output before
    it: the a^−j terms grow, so each sum is dominated by its last terms and keeps its
    precision (|a| ≥ 1e-3, so a^−L stays far inside float64). The outputs at the
    sub-blocks' ends, X_k = a_k^L·X_{k−1} + Z_k, come from a prefix scan across them.
    """
    _, k, length = u.shape
    tri = _TRI.get(length)
    if tri is None:
        tri = _TRI[length] = np.tril(np.ones((length, length))).T
    powers = _powers(a, length)
    s = (u / powers) @ tri  # Σ_{j≤i} u[j]·a^−j
    ends = s[:, :, -1] * powers[:, :, -1]  # zero-state outputs at the ends
    last = powers[:, :, -1] * a  # a^L
    ends[:, 0] += last[:, 0] * prev_out
    # carries under 1e-30 count as 1e-30 (far below any effect): their products over the
    # three steps stay normal numbers (subnormal arithmetic is a hundred times slower)
    step = np.maximum(last, 1e-30)
    d = 1
    while d < min(k, 8):
        ends[:, d:] += step[:, d:] * ends[:, :-d]
        step[:, d:] = step[:, d:] * step[:, :-d]
        d *= 2
    carried = np.empty_like(ends)
    carried[:, 0] = prev_out
    carried[:, 1:] = ends[:, :-1]
    carried *= a
    s += carried[..., None]
    s *= powers
    return s


def _flush(state: np.ndarray) -> np.ndarray:
    """A copy of a filter state with values under 1e-30 set to zero (no subnormal decay)."""
    return np.where(np.abs(state) < 1e-30, 0.0, state)


class Decoder(SlidingBand):
    """The B-type decoder (expander): (frames, channels) float32 blocks in and out."""

    def _run(self, y: np.ndarray, length: int) -> np.ndarray:
        frames, ch = y.shape
        k = frames // length
        pad = self._padded(y)
        ms, self.hold = self._detect(pad, k, length, self.hold)
        r = self._ratio(ms)
        k0, c = self._k0, self._c
        r_c = r + c
        norm = (r + k0) / r_c
        a1 = (k0 - r) / (r + k0)
        now = pad[:, SUB:].reshape(ch, k, length)
        before = pad[:, SUB - 1:-1].reshape(ch, k, length)
        u = before * (a1 * norm)[..., None]
        np.subtract(now * norm[..., None], u, out=u)
        x = _recursion(u, (c - r) / r_c, self.prev_out)
        self.history = pad[:, -SUB:].copy()
        self.prev_out = _flush(x[:, -1, -1])
        return x.reshape(ch, frames).T.astype(y.dtype)


class Encoder(SlidingBand):
    """The B-type encoder (compressor): (frames, channels) float32 blocks in and out."""

    iterations = 0  # of the last block (for the benchmark and tests)

    def reset(self) -> None:
        super().reset()
        self.prev_in = np.zeros(self.channels)

    def _run(self, x: np.ndarray, length: int) -> np.ndarray:
        frames, ch = x.shape
        k = frames // length
        src = np.empty((ch, frames + 1))
        src[:, 0] = self.prev_in
        src[:, 1:] = x.T
        now = src[:, 1:].reshape(ch, k, length)
        before = src[:, :-1].reshape(ch, k, length)
        k0, c = self._k0, self._c
        pad = np.empty((ch, SUB + frames))
        pad[:, :SUB] = self.history
        # first guess: the detector's hold decaying over the block (as if nothing new came)
        ms = self.hold[:, None] * np.exp(self._log_beta * length / SUB * np.arange(k))[None, :]
        for i in range(MAX_ITERATIONS):  # noqa: B007 (the count is kept)
            r = self._ratio(ms)
            r_k0 = r + k0
            u = now * ((r + c) / r_k0)[..., None]
            u -= before * ((c - r) / r_k0)[..., None]
            y = _recursion(u, (k0 - r) / r_k0, self.prev_out)
            out = y.reshape(ch, frames).T.astype(x.dtype)
            pad[:, SUB:] = out.T  # the decoder will see the float32 samples
            new_ms, hold = self._detect(pad, k, length, self.hold)
            converged = np.array_equal(new_ms, ms) or np.allclose(new_ms, ms, rtol=_RTOL,
                                                                   atol=0.0)
            ms = new_ms
            if converged:
                break
        self.iterations = i + 1
        self.hold = hold
        self.history = pad[:, -SUB:].copy()
        self.prev_in = src[:, -1].copy()
        self.prev_out = _flush(y[:, -1, -1])
        return out
