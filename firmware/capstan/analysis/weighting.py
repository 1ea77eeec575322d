"""The wow & flutter weighting of AES6-2008 / IEC 60386 (DIN 45507, CCIR 409).

The standard defines the weighting as a curve, given by a table with
tolerances: 0 dB at 4 Hz, falling at about 6 dB per octave above and below,
with an additional fall below 0.5 Hz. We realise that curve as an analog
prototype of corners placed on the table (a minimax fit, once, then rounded):

    low side   s³ / ((s² + ωl/Ql·s + ωl²)(s + ωa))      the steep fall below 0.5 Hz
    high side  (1 + s/ωz) / ((1 + s/ωb)(1 + s/ωc))       the 6 dB/octave fall above 4 Hz

and close the band above the table with a 4th-order Butterworth low-pass at
400 Hz (-0.02 dB at 200 Hz), which keeps demodulator noise out of the reading.
Every point of the standard's table from 0.1 Hz to 200 Hz is met within
0.3 dB (tests/analysis/test_weighting.py holds the table).

The unweighted reading uses a flat band from 0.5 Hz to 200 Hz (-3 dB points,
2nd-order Butterworth high-pass, 4th-order Butterworth low-pass).
"""

from __future__ import annotations

import numpy as np

from capstan.analysis import filters as f

# Corners of the weighting's analog prototype, in Hz.
LOW_CORNER_HZ, LOW_Q = 0.444, 0.649
LOW_POLE_HZ = 1.49
HIGH_ZERO_HZ, HIGH_POLE_HZ, TOP_POLE_HZ = 31.8, 8.55, 44.2
BAND_LIMIT_HZ = 400.0
PEAK_HZ = 4.0

UNWEIGHTED_BAND_HZ = (0.5, 200.0)


def _chain(sections: list[f.AnalogSection], fs: float) -> list[tuple[np.ndarray, np.ndarray]]:
    return [f.bilinear(s, fs) for s in sections]


def weighting_sections(fs: float) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """Digital sections of the weighting at sample rate `fs`, and the gain giving 0 dB at 4 Hz."""
    analog = [
        f.high_pass_2(LOW_CORNER_HZ, LOW_Q, fs),
        f.high_pass_1(LOW_POLE_HZ, fs),
        f.shelf_1(HIGH_ZERO_HZ, HIGH_POLE_HZ, fs),
        f.low_pass_1(TOP_POLE_HZ, fs),
    ]
    analog += [f.low_pass_2(BAND_LIMIT_HZ, q, fs) for q in f.butterworth_qs(4)]
    sections = _chain(analog, fs)
    gain = 1.0 / abs(f.digital_response(sections, np.array([PEAK_HZ]), fs)[0])
    return sections, gain


def unweighted_sections(fs: float) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    low, high = UNWEIGHTED_BAND_HZ
    analog = [f.high_pass_2(low, f.butterworth_qs(2)[0], fs)]
    analog += [f.low_pass_2(high, q, fs) for q in f.butterworth_qs(4)]
    return _chain(analog, fs), 1.0


def weighting_response(freq_hz: np.ndarray, fs: float) -> np.ndarray:
    """The weighting as implemented (digital, at sample rate `fs`): complex, 1 at 4 Hz."""
    sections, gain = weighting_sections(fs)
    return f.digital_response(sections, freq_hz, fs) * gain


def weighting_db(freq_hz: np.ndarray, fs: float) -> np.ndarray:
    """The weighting as implemented, in dB re 4 Hz."""
    return 20 * np.log10(np.abs(weighting_response(freq_hz, fs)))


def flutter_filters(fs: float) -> f.BlockFilter:
    """The weighted (row 0) and unweighted (row 1) band of a frequency deviation."""
    return f.BlockFilter([weighting_sections(fs), unweighted_sections(fs)])
