"""The azimuth meter on signals with a known left/right offset."""

import numpy as np
import pytest

from capstan.analysis.azimuth import AzimuthMeter

from .synth import RATE


def _delayed(x: np.ndarray, seconds: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    return np.fft.irfft(spectrum * np.exp(-2j * np.pi * f * seconds), len(x))


def _read(left: np.ndarray, right: np.ndarray):
    meter = AzimuthMeter(RATE)
    stereo = np.stack([left, right], axis=1).astype(np.float32)
    for i in range(0, len(stereo), 1024):
        meter.feed(stereo[i:i + 1024])
    return meter.reading()


@pytest.mark.parametrize("delay_us", [0.0, 7.0, 20.8, -35.0, 400.0])
def test_delay_of_the_right_channel_on_broadband_signal(delay_us: float) -> None:
    x = np.random.default_rng(1).normal(0, 0.1, RATE * 2)
    noise = np.random.default_rng(2).normal(0, 0.01, len(x))
    reading = _read(x, _delayed(x, delay_us * 1e-6) + noise)
    assert reading.delay_us == pytest.approx(delay_us, abs=0.5)


def test_phase_of_a_10_khz_azimuth_tone() -> None:
    t = np.arange(RATE * 2) / RATE
    reading = _read(0.3 * np.sin(2 * np.pi * 10000 * t), 0.3 * np.sin(2 * np.pi * 10000 * t - 0.5))
    assert reading.phase_at_hz == pytest.approx(10000, abs=12)
    assert reading.phase_deg == pytest.approx(np.degrees(0.5), abs=0.5)
    assert reading.correlation == pytest.approx(np.cos(0.5), abs=0.01)


def test_correlation_in_phase_antiphase_and_unrelated() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 0.1, RATE), rng.normal(0, 0.1, RATE)
    assert _read(x, x).correlation == pytest.approx(1.0)
    assert _read(x, -x).correlation == pytest.approx(-1.0)
    assert abs(_read(x, y).correlation) < 0.1


def test_no_reading_before_a_window_of_audio() -> None:
    meter = AzimuthMeter(RATE)
    meter.feed(np.zeros((100, 2)))
    assert meter.reading() is None
