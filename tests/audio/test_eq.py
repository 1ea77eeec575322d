"""Filters and the tape EQ: measured responses against the analog curves they come from."""

from __future__ import annotations

import numpy as np
import pytest

from capstan.audio.filters import BlockFilter, highpass, lowpass
from capstan.audio.tape_eq import (
    HeadFrontEnd,
    PreampMismatch,
    analog_correction,
    tape_type_from_notches,
)

RATE = 48000


def _measure(process, frames: int = 1 << 16, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The response of `process` (block by block) to an impulse: (freqs, dB)."""
    x = np.zeros((frames, 2), np.float32)
    x[0] = 1.0
    y = np.concatenate([process(x[i:i + block]) for i in range(0, frames, block)])
    spectrum = np.fft.rfft(y[:, 0].astype(float))
    return np.fft.rfftfreq(frames, 1 / RATE), 20 * np.log10(np.abs(spectrum))


def _one_by_one(sections, x: np.ndarray) -> list[np.ndarray]:
    outs, signal = [], x.astype(float)
    for s in sections:
        y = np.zeros_like(signal)
        xp, yp = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        for n in range(len(signal)):
            y[n] = s.b0 * signal[n] + s.b1 * xp + s.a1 * yp
            xp, yp = signal[n], y[n]
        outs.append(y)
        signal = y
    return outs


@pytest.mark.parametrize("sizes", [[1024] * 4, [1000, 7, 1, 3000], [33, 31, 4000]])
def test_block_filter_equals_the_recursion_sample_by_sample(sizes: list[int]) -> None:
    sections = [highpass(2.0, RATE), lowpass(120e-6, RATE)]
    x = np.random.default_rng(0).standard_normal((sum(sizes), 2)).astype(np.float32)
    f = BlockFilter.cascade(sections)
    got: list[list[np.ndarray]] = [[], []]
    pos = 0
    for n in sizes:
        for p, y in enumerate(f(x[pos:pos + n])):
            got[p].append(y)
        pos += n
    for p, want in enumerate(_one_by_one(sections, x)):
        assert np.abs(np.concatenate(got[p]) - want).max() < 1e-5


@pytest.mark.parametrize("tape", ["II", "IV"])
def test_type_ii_correction_matches_the_120_to_70_us_curve(tape: str) -> None:
    eq = HeadFrontEnd(RATE, tape_type=tape)
    freqs, db = _measure(eq)
    band = (freqs >= 20) & (freqs <= 20000)
    want = 20 * np.log10(analog_correction(freqs[band], tape))
    assert np.abs(db[band] - want).max() < 0.5
    # the curve itself: flat in the bass, −4.7 dB (20·log 70/120) at the top
    assert abs(want[0]) < 0.01 and want[-1] < -4.5


def test_type_i_is_flat_and_dc_is_blocked() -> None:
    eq = HeadFrontEnd(RATE, tape_type="I")
    freqs, db = _measure(eq)
    band = (freqs >= 20) & (freqs <= 20000)
    assert np.abs(db[band]).max() < 0.05
    dc = np.full((RATE, 2), 0.1, np.float32)
    y = np.concatenate([eq(dc[i:i + 1024]) for i in range(0, RATE, 1024)])
    assert np.abs(y[-1000:]).max() < 1e-3  # 2 Hz corner: gone after a second


@pytest.mark.parametrize("tape", ["I", "II", "IV"])
def test_preamp_mismatch_then_correction_is_flat(tape: str) -> None:
    head, eq = PreampMismatch(RATE), HeadFrontEnd(RATE, tape_type=tape)
    freqs, db = _measure(lambda b: eq(head(b, tape)))
    band = (freqs >= 20) & (freqs <= 20000)
    assert np.abs(db[band]).max() < 0.05
    fresh = PreampMismatch(RATE)
    _, raw = _measure(lambda b: fresh(b, tape))
    if tape != "I":  # without the correction the treble would be 4.7 dB too bright
        assert raw[band][-1] > 4.5


def test_switching_the_tape_type_does_not_click() -> None:
    eq = HeadFrontEnd(RATE, tape_type="I")
    t = np.arange(RATE) / RATE
    x = (0.5 * np.sin(2 * np.pi * 8000 * t)).astype(np.float32)[:, None].repeat(2, axis=1)
    out = []
    for i in range(0, RATE, 512):
        if i == 512 * 47:  # mid-stream, mid-tone
            eq.set_tape_type("II")
        out.append(eq(x[i:i + 512]))
    y = np.concatenate(out)[:, 0]
    natural = 0.5 * 2 * np.pi * 8000 / RATE  # the tone's own largest step
    assert np.abs(np.diff(y)).max() < natural * 1.01
    assert eq.settled and eq.tape_type == "II"


def test_tape_type_from_notches() -> None:
    assert tape_type_from_notches(False, False) == "I"
    assert tape_type_from_notches(True, False) == "II"
    assert tape_type_from_notches(True, True) == "IV"
    assert tape_type_from_notches(False, True) == "IV"
