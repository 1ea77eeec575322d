"""Record level: automatic (a peak-following gain with a look-ahead limiter) or manual.

The signal is cut into chunks of CHUNK frames (1.3 ms at 48 kHz) and delayed by one
chunk: that is the look-ahead. Per chunk the peak is taken; in automatic mode the
peak envelope rises at once and falls at RELEASE_DB_PER_S (held while the input is
below GATE_DBFS, so a gap between songs is not brought up), and the gain puts the
envelope on the tape type's target peak. The gain at each chunk boundary is the
smaller of its two neighbours' gains and runs linearly across the chunk, so no
sample of a chunk can leave above the target: the limiter and the level are one
computation, a few numpy calls per block, no per-sample Python.

On a steady tone the envelope is constant, so is the gain: no pumping. In manual
mode (VOL± while armed or recording) the gain is the user's; a safety limiter at
MANUAL_CEILING_DBFS keeps the tape from hard clipping and every chunk that would
have gone over full scale is counted as a clip. In both modes samples that reach
the ADC's full scale on line-in are counted as clips too (the source is too loud).
"""

from __future__ import annotations

import math

import numpy as np

# Peak level at the DAC per tape type, dBFS. The record amplifier is calibrated so that
# -12 dBFS is Dolby level (200 nWb/m); Type I saturates earliest (MOL ≈ +6 dB over Dolby
# level), chrome ≈ +7.5, metal ≈ +9: the targets leave ~1 dB below each tape's MOL.
TARGET_PEAK_DBFS = {"I": -7.0, "II": -5.5, "IV": -4.0}
CHUNK = 64  # frames: the look-ahead and the gain's resolution
RELEASE_DB_PER_S = 10.0  # how fast the gain comes back up after a loud passage
MAX_GAIN_DB = 30.0  # a quiet source is brought up this much at most
GATE_DBFS = -55.0  # input peaks below this hold the gain (silence, a gap)
MANUAL_CEILING_DBFS = -0.5
MANUAL_RANGE_DB = (-30.0, 30.0)
CLIP = 0.999  # |sample| at or over this is a clip at the ADC


def _db(x: np.ndarray) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, 1e-9))


class RecordLevel:
    """`level(block) -> block` (same length, one CHUNK later): the signal at record level."""

    def __init__(self, rate: int, channels: int = 2, tape_type: str = "I") -> None:
        self.rate, self.channels = rate, channels
        self.mode = "auto"
        self.manual_db = 0.0
        self.clips = 0
        self.set_tape_type(tape_type)
        self._env_db = self.target_dbfs  # the envelope at the target: 0 dB of gain to begin
        self._last = np.ones(2, np.float32)  # the gains of the last two chunks
        self._tail = np.zeros((CHUNK, channels), np.float32)
        self._ramp = (np.arange(CHUNK) / CHUNK).astype(np.float32)
        self._step_db = RELEASE_DB_PER_S * CHUNK / rate
        self._gain = 1.0

    def set_tape_type(self, tape_type: str) -> None:
        self.tape_type = tape_type if tape_type in TARGET_PEAK_DBFS else "I"
        self.target_dbfs = TARGET_PEAK_DBFS[self.tape_type]

    def set_manual(self, gain_db: float) -> float:
        lo, hi = MANUAL_RANGE_DB
        self.mode, self.manual_db = "manual", min(hi, max(lo, float(gain_db)))
        return self.manual_db

    def set_auto(self) -> None:
        self.mode = "auto"
        self._env_db = self.target_dbfs - self.gain_db  # go on from the gain in use

    def reset(self) -> None:
        """Forget the signal (a new recording): the delay line is emptied."""
        self._tail[:] = 0.0

    @property
    def latency(self) -> float:
        """Seconds the signal is delayed (the look-ahead)."""
        return CHUNK / self.rate

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        if n % CHUNK or n == 0:
            raise ValueError(f"record level: blocks must be a multiple of {CHUNK} frames "
                             f"(got {n}): set [player] period to a multiple of {CHUNK}")
        k = n // CHUNK
        peaks = np.abs(x).reshape(k, CHUNK * x.shape[1]).max(axis=1).astype(np.float64)
        if peaks.max() >= CLIP:
            self.clips += int(np.count_nonzero(np.abs(x) >= CLIP))
        p_db = _db(peaks)
        if self.mode == "auto":
            decay = np.cumsum(self._step_db * (p_db > GATE_DBFS))
            env = np.maximum(self._env_db, np.maximum.accumulate(p_db + decay)) - decay
            env = np.maximum(env, self.target_dbfs - MAX_GAIN_DB)
            self._env_db = float(env[-1])
            gains = 10.0 ** ((self.target_dbfs - env) / 20.0)
        else:
            wanted = 10.0 ** (self.manual_db / 20.0)
            overs = peaks * wanted > 1.0
            if overs.any():
                self.clips += int(np.count_nonzero(overs))
            ceiling = 10.0 ** (MANUAL_CEILING_DBFS / 20.0)
            gains = np.minimum(wanted, ceiling / np.maximum(peaks, 1e-9))
        self._gain = float(gains[-1])
        a = np.concatenate([self._last, gains]).astype(np.float32)
        bounds = np.minimum(a[:-1], a[1:])
        ramp = bounds[:-1, None] + (bounds[1:] - bounds[:-1])[:, None] * self._ramp
        self._last = a[-2:]
        out = np.empty((n, x.shape[1]), np.float32, order="F")  # as the front end: the
        # meters reduce along frames, fast in this layout
        out[:CHUNK] = self._tail
        out[CHUNK:] = x[:-CHUNK]
        self._tail = np.array(x[-CHUNK:], np.float32)
        out *= ramp.reshape(-1, 1)
        return out

    @property
    def gain_db(self) -> float:
        """The gain applied last, dB."""
        return round(20.0 * math.log10(max(self._gain, 1e-9)), 2)
