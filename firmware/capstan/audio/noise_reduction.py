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
        self._split: tuple[np.ndarray, np.ndarray] | None = None
        self._steps: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._sums: dict[int, np.ndarray] = {}
        # the two values of r where a pole is zero (κ₀: the encoder's, c: the decoder's),
        # each with a band a little wider than the margin the recursion needs
        widen = 1.0 + 1e-6
        self._near_zeros = np.array([
            self._k0 * (1.0 - _R_MARGIN) / widen, self._k0 * (1.0 + _R_MARGIN) * widen,
            self._c * (1.0 - _R_MARGIN) / widen, self._c * (1.0 + _R_MARGIN) * widen])
        # the sections' coefficients from r, all four as (r·sign + offset)/(r + denominator):
        # G = (r + c)/(r + κ₀), 1/G, A = (c − r)/(c + r), a1 = (κ₀ − r)/(κ₀ + r)
        k0, c = self._k0, self._c
        self._signs = np.array([1.0, 1.0, -1.0, -1.0])[:, None, None]
        self._offsets = np.array([c, k0, c, k0])[:, None, None]
        self._denominators = np.array([k0, c, c, k0])[:, None, None]
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
            h = self._impulse(SUB + length)
            w = np.zeros((SUB + length, length))
            for i in range(length):
                n = SUB + i  # the window's sample that is output i
                w[: n + 1, i] = h[n::-1]
            w /= math.sqrt(length)  # so that the sum of the squared outputs is their mean
            self._weights[length] = w
        return w

    def _impulse(self, taps: int) -> np.ndarray:
        hp = highpass(REST_CORNER_HZ, self.rate)
        h = np.empty(taps)
        h[0] = hp.b0
        h[1:] = (hp.b1 + hp.a1 * hp.b0) * hp.a1 ** np.arange(taps - 1)
        return h

    def _split_weighting(self) -> tuple[np.ndarray, np.ndarray]:
        """The weighting of sub-blocks of SUB, split: (SUB, SUB + 1) and (SUB,).

        The previous sub-block's part of the window is rank one (h[m] = g·a^(m−1) for
        m ≥ 1, so h[SUB + i − n] = a^(SUB−1−n)·g·a^i): one column of the product gives
        its inner product with a^(SUB−1−n), and `shape` (g·a^i) spreads it over the
        sub-block. The first SUB columns weight the sub-block itself."""
        if self._split is None:
            hp = highpass(REST_CORNER_HZ, self.rate)
            scale = 1.0 / math.sqrt(SUB)  # so that the sum of the squared outputs is their mean
            h = self._impulse(SUB)
            m = np.zeros((SUB, SUB + 1))
            for i in range(SUB):
                m[: i + 1, i] = h[i::-1] * scale
            m[:, SUB] = hp.a1 ** np.arange(SUB - 1, -1, -1)
            shape = (hp.b1 + hp.a1 * hp.b0) * hp.a1 ** np.arange(SUB) * scale
            self._split = (m, shape)
        return self._split

    def _decay(self, k: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """β^−j and β^j for j = 0 … k (β the decay of the held mean square per sub-block)."""
        factors = self._steps.get((k, length))
        if factors is None:
            steps = np.arange(k + 1) * (self._log_beta * length / SUB)
            factors = self._steps[(k, length)] = (np.exp(-steps), np.exp(steps))
        return factors

    def _detect(self, padded: np.ndarray, k: int, length: int,
                hold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The held mean square before each sub-block (C, K) and after the last (C,).

        `padded` is (C, SUB + K·L) float64: SUB samples of history, then the block.
        The hold enters as sub-block −1, so one running maximum (of the readings
        scaled by β^−j, then by β^j) gives every reading.
        """
        c = padded.shape[0]
        if length == SUB:  # each sub-block with the one before it
            m, shape = self._split_weighting()
            r = (padded.reshape(c * (k + 1), SUB) @ m).reshape(c, k + 1, SUB + 1)
            w = r[:, :-1, SUB:] * shape
            w += r[:, 1:, :SUB]
        else:  # one sub-block shorter than SUB (k == 1)
            w = padded @ self._weighting(length)
        w *= w
        levels = np.empty((c, k + 1))
        levels[:, 0] = hold
        np.matmul(w.reshape(c, k, length), self._ones(length), out=levels[:, 1:])
        inverse, forward = self._decay(k, length)
        levels *= inverse
        np.maximum.accumulate(levels, axis=1, out=levels)
        levels *= forward
        return levels[:, :-1], levels[:, -1]

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
        # an odd index: inside one of the two bands around a zero (the usual case: none)
        if np.bitwise_or.reduce(self._near_zeros.searchsorted(r), axis=None) & 1:
            for zero in (self._k0, self._c):
                r = np.where(np.abs(r - zero) < _R_MARGIN * zero, zero * (1.0 + _R_MARGIN), r)
        return r

    def _sections(self, r: np.ndarray) -> np.ndarray:
        """(4, C, K): G, 1/G, A and a1 (class docstring) for each sub-block's r."""
        num = r * self._signs
        num += self._offsets
        num /= r + self._denominators
        return num

    # blocks ----------------------------------------------------------------------
    def __call__(self, block: np.ndarray) -> np.ndarray:
        """Process a (frames, channels) block; returns the same shape and dtype."""
        frames = len(block)
        if frames > MAX_BLOCK:  # in pieces: the same sub-blocks, bounded decay factors
            return np.concatenate([self(block[i:i + MAX_BLOCK])
                                   for i in range(0, frames, MAX_BLOCK)])
        body = frames - frames % SUB
        if body == frames or body == 0:
            return self._run(block, SUB if body else frames)
        return np.concatenate([self._run(block[:body], SUB),
                               self._run(block[body:], frames - body)])

    def _padded(self, block: np.ndarray) -> np.ndarray:
        return np.concatenate((self.history, block.T), axis=1, dtype=np.float64)

    def _run(self, block: np.ndarray, length: int) -> np.ndarray:
        raise NotImplementedError


_R_MARGIN = 2e-3  # r is kept this far (relative) from where a pole is zero: |pole| ≥ 1e-3
SEGMENT = 2  # sub-blocks per running product of the recursion (|P| ≥ 1e-3^(SEGMENT·SUB))
MAX_BLOCK = 256 * SUB  # longer blocks are processed in pieces of this many frames
_FLUSH = 1e-30  # filter states under this are set to zero (no subnormal decay)


def _recursion(u: np.ndarray, scale: np.ndarray, a: np.ndarray,
               start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out[n] = a·out[n−1] + scale·u[n], `a` and `scale` constant per sub-block: u (C, K, L),
    a and scale (C, K), `start` the output before the block (C,). Returns out (in u's
    place) and the state after the block.

    The block is taken in segments of SEGMENT sub-blocks (one if K is odd). With P[i]
    the running product of the poles from the segment's start to sample i (|a| ≥ 1e-3,
    so |P| ≥ 1e-192 stays far inside float64), out[i] = P[i]·(Σ_{j≤i} scale·u[j]/P[j] + X),
    X the output before the segment: the 1/P terms grow, so each sum is dominated by its
    last terms and keeps its precision. The outputs at the segments' ends,
    X' = P_end·(S + X) with S the segment's last sum, follow one another in a loop over
    the segments (one multiply-add each, in Python floats).
    """
    c, k, length = u.shape
    m = k // SEGMENT if k % SEGMENT == 0 else k  # segments
    powers = np.empty((c, k, length))
    powers[...] = a[..., None]
    running = powers.reshape(c, m, -1)
    np.multiply.accumulate(running, axis=2, out=running)
    u *= scale[..., None] / powers
    sums = u.reshape(c, m, -1)
    np.add.accumulate(sums, axis=2, out=sums)
    states = _carry(running[:, :, -1], sums[:, :, -1], start)
    sums += states[:, :-1, None]
    sums *= running
    return u, states[:, -1]


def _carry(carries: np.ndarray, sums: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(C, M + 1): the states before each segment and after the last, X' = P_end·(S + X)."""
    flush = _FLUSH
    rows = []
    for gains, ends, x in zip(carries.tolist(), sums.tolist(), start.tolist(), strict=True):
        row = [x]
        for gain, end in zip(gains, ends):  # noqa: B905 (equal lengths by construction)
            x = gain * (end + x)
            if -flush < x < flush:
                x = 0.0
            row.append(x)
        rows.append(row)
    return np.array(rows)


class Decoder(SlidingBand):
    """The B-type decoder (expander): (frames, channels) float32 blocks in and out.

    x[n] = (1/G)·(y[n] − a1·y[n−1]) + A·x[n−1] per sub-block (SlidingBand)."""

    def _run(self, y: np.ndarray, length: int) -> np.ndarray:
        frames, ch = y.shape
        k = frames // length
        pad = self._padded(y)
        ms, self.hold = self._detect(pad, k, length, self.hold)
        _, inverse_gain, pole, zero = self._sections(self._ratio(ms))
        u = pad[:, SUB - 1:-1].reshape(ch, k, length) * zero[..., None]
        np.subtract(pad[:, SUB:].reshape(ch, k, length), u, out=u)
        x, self.prev_out = _recursion(u, inverse_gain, pole, self.prev_out)
        self.history = pad[:, -SUB:]
        return x.reshape(ch, frames).T.astype(y.dtype)


class Encoder(SlidingBand):
    """The B-type encoder (compressor): (frames, channels) float32 blocks in and out.

    y[n] = G·(x[n] − A·x[n−1]) + a1·y[n−1] per sub-block (SlidingBand): the decoder's
    section solved for y."""

    iterations = 0  # of the last block (for the benchmark and tests)

    def reset(self) -> None:
        super().reset()
        self.prev_in = np.zeros(self.channels)

    def _run(self, x: np.ndarray, length: int) -> np.ndarray:
        frames, ch = x.shape
        k = frames // length
        src = np.concatenate((self.prev_in[:, None], x.T), axis=1, dtype=np.float64)
        now = src[:, 1:].reshape(ch, k, length)
        before = src[:, :-1].reshape(ch, k, length)
        pad = np.empty((ch, SUB + frames))
        pad[:, :SUB] = self.history
        # first guess: the detector's hold decaying over the block (as if nothing new came)
        ms = self.hold[:, None] * self._decay(k, length)[1][None, :-1]
        for i in range(MAX_ITERATIONS):  # noqa: B007 (the count is kept)
            gain, _, zero, pole = self._sections(self._ratio(ms))
            u = before * zero[..., None]
            np.subtract(now, u, out=u)
            y, state = _recursion(u, gain, pole, self.prev_out)
            out = y.reshape(ch, frames).T.astype(x.dtype)
            pad[:, SUB:] = out.T  # the decoder will see the float32 samples
            new_ms, hold = self._detect(pad, k, length, self.hold)
            # settled: no reading moved by more than _RTOL of itself (readings are ≥ 0)
            moved = new_ms - ms
            np.abs(moved, out=moved)
            converged = not np.greater(moved, ms * _RTOL).any()
            ms = new_ms
            if converged:
                break
        self.iterations = i + 1
        self.hold = hold
        self.history = pad[:, -SUB:].copy()
        self.prev_in = src[:, -1].copy()
        self.prev_out = state
        return out
