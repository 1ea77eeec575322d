"""The playhead front end: DC blocking and the tape-type EQ correction.

The head preamp applies the IEC 120 µs playback curve, right for Type I
(ferric) tape. Type II (chrome) and Type IV (metal) tapes are recorded for
70 µs, so through a 120 µs preamp their treble comes out too bright by
(1 + sT₁₂₀)/(1 + sT₇₀), up to +4.7 dB. The correction is the inverse,

    H(s) = (1 + sT₇₀) / (1 + sT₁₂₀) = x − d·(x − LP₁₂₀(x)),  d = 1 − T₇₀/T₁₂₀,

so one first-order low-pass runs all the time and the tape type only moves
the mix `d`: switching is a gain ramp on a running filter, and cannot click.
"""

from __future__ import annotations

import numpy as np

from capstan.audio.filters import BlockFilter, highpass, lowpass

T120 = 120e-6  # s: IEC playback time constant for Type I
T70 = 70e-6  # s: IEC playback time constant for Type II and Type IV
TIME_CONSTANT = {"I": T120, "II": T70, "IV": T70}
DC_CORNER = 2.0  # Hz: the DC blocker's corner (−0.04 dB at 20 Hz)
EQ_RAMP = 0.05  # s: how long the correction takes to move to a new tape type


def correction_depth(tape_type: str) -> float:
    """The mix d for a tape type: 0 for Type I, 1 − 70/120 for Type II and IV."""
    if tape_type not in TIME_CONSTANT:
        raise ValueError(f"unknown tape type {tape_type!r} (known: I, II, IV)")
    return 1.0 - TIME_CONSTANT[tape_type] / T120


def tape_type_from_notches(type2: bool, type4: bool) -> str:
    """The tape type from the well's notch switches (metal tapes may show both notches)."""
    return "IV" if type4 else "II" if type2 else "I"


def analog_correction(freqs: np.ndarray, tape_type: str) -> np.ndarray:
    """The analog correction curve |(1 + sT)/(1 + sT₁₂₀)| at `freqs` (Hz), for reference."""
    s = 2j * np.pi * np.asarray(freqs, float)
    return np.abs((1 + s * TIME_CONSTANT[tape_type]) / (1 + s * T120))


class HeadFrontEnd:
    """DC blocker, then the tape EQ correction, on (frames, channels) float32 blocks."""

    def __init__(self, rate: int, channels: int = 2, tape_type: str = "I") -> None:
        self.rate = rate
        self.tape_type = tape_type
        self.depth = correction_depth(tape_type)
        self._target = self.depth
        self._step = correction_depth("II") / (EQ_RAMP * rate)  # depth per sample while moving
        self._filter = BlockFilter.cascade([highpass(DC_CORNER, rate), lowpass(T120, rate)],
                                           channels)

    def set_tape_type(self, tape_type: str) -> None:
        """Move the correction to `tape_type` over EQ_RAMP seconds."""
        self._target = correction_depth(tape_type)
        self.tape_type = tape_type

    @property
    def settled(self) -> bool:
        return self.depth == self._target

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.depth == self._target:  # steady: the mix is folded into the filter's output
            return self._filter(x, (1.0 - self.depth, self.depth))[0]
        flat, low = self._filter(x)
        n = len(x)
        delta = np.clip(self._target - self.depth, -self._step * n, self._step * n)
        d = self.depth + delta * np.arange(1, n + 1, dtype=np.float32) / n
        self.depth = self._target if abs(self._target - self.depth - delta) < 1e-9 \
            else self.depth + float(delta)
        return flat - d[:, None].astype(np.float32) * (flat - low)

    def reset(self) -> None:
        self._filter.reset()


class PreampMismatch:
    """What a 120 µs head preamp makes of a tape recorded for 70 µs: (1 + sT₁₂₀)/(1 + sT₇₀).

    The simulated deck applies it to Type II and IV tapes, so that only the
    chain's correction brings them back flat (the digital filters are exact
    inverses: both are bilinear transforms of inverse analog curves).
    """

    def __init__(self, rate: int, channels: int = 2) -> None:
        self._k = np.float32(T120 / T70)
        self._d = np.float32(1 - T120 / T70)
        self._filter = BlockFilter.cascade([lowpass(T70, rate)], channels)

    def __call__(self, x: np.ndarray, tape_type: str) -> np.ndarray:
        if TIME_CONSTANT[tape_type] == T120:
            return x
        (low,) = self._filter(x)
        return self._k * x + self._d * low
