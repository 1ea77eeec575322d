"""The simulated playhead: the track read at fractional positions, band-limited, and the
one-phase convolution at play speed the same as the general per-sample reading."""

from __future__ import annotations

import numpy as np
import pytest

from capstan.hardware.description import load_board
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck

RATE = 48000


@pytest.fixture
def deck() -> SimDeck:
    return SimDeck(load_board(), SimulatedTimeLoop(), seed=5)


def sine_track(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.round(np.sin(2 * np.pi * hz * t) * 16000).astype("<i2")
    return np.stack([x, -x], axis=1)


def amplitude(y: np.ndarray, idx: np.ndarray, hz: float) -> float:
    """The `hz` amplitude of y read at the sample positions idx (a least-squares fit)."""
    w = 2 * np.pi * hz * idx / RATE
    basis = np.stack([np.sin(w), np.cos(w)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return float(np.hypot(*coef))


def test_play_speed_reads_the_same_as_the_general_path(deck: SimDeck) -> None:
    rng = np.random.default_rng(2)
    track = (rng.standard_normal((RATE, 2)) * 5000).astype("<i2")
    for x0 in (20000.0, 20000.37, 20000.999, 3.5, len(track) - 600.25):
        idx = x0 + np.arange(1024)
        jittered = idx.copy()
        jittered[700] += 0.003  # one position off the grid: the whole block takes the general path
        steady, general = deck._resample(track, idx), deck._resample(track, jittered)
        keep = np.arange(1024) != 700
        assert np.abs(steady[keep] - general[keep]).max() < 1e-6, x0
        assert np.sqrt(np.mean(general[keep] ** 2)) > 0.05  # the comparison saw signal


@pytest.mark.parametrize("speed", [1.0, 1.003])
@pytest.mark.parametrize("hz", [1000.0, 18000.0])
def test_the_head_is_flat_to_18_khz_between_samples(deck: SimDeck, speed: float,
                                                    hz: float) -> None:
    track = sine_track(hz)
    idx = 10000.5 + np.arange(4096) * speed  # half-way between samples: the hardest place
    y = deck._resample(track, idx)
    level = amplitude(y[:, 0].astype(np.float64), idx, hz) / (16000 / 32768)
    assert 20 * np.log10(level) == pytest.approx(0.0, abs=0.03)
    assert np.allclose(y[:, 1], -y[:, 0], atol=1e-6)  # the channels stay apart


def test_past_the_ends_of_the_track_is_silence(deck: SimDeck) -> None:
    track = sine_track(1000.0, 0.1)
    for idx in (-5000.0 + np.arange(1024), len(track) + 100.0 + np.arange(1024)):
        assert not deck._resample(track, idx).any()
        assert not deck._resample(track, idx * 1.001).any()
