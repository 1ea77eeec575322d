"""Wow & flutter and speed of synthetic test tones with known modulation."""

import numpy as np
import pytest

from capstan.analysis import AnalysisError
from capstan.analysis.flutter import WowFlutterMeter, measure_wow_flutter

from .synth import RATE, expected_weighted, fm_tone

SINUSOIDAL = [(depth, rate) for rate in (0.5, 1.0, 4.0, 10.0, 20.0) for depth in (1e-4, 1e-2)]


@pytest.mark.parametrize(("depth", "rate"), SINUSOIDAL)
def test_sinusoidal_flutter_within_one_percent(depth: float, rate: float) -> None:
    flutter = [(depth, rate, 0.3)]
    reading = measure_wow_flutter(fm_tone(flutter, speed_error=0.012), RATE)
    peak, wrms = expected_weighted(flutter)
    assert reading.weighted_peak_percent == pytest.approx(peak, rel=0.01)
    assert reading.wrms_percent == pytest.approx(wrms, rel=0.01)
    assert reading.speed_error_percent == pytest.approx(1.2, abs=0.01)


@pytest.mark.parametrize("flutter", [
    [(0.001, 0.5, 0.0), (0.003, 3.0, 1.0), (0.002, 12.0, 2.0), (0.0005, 20.0, 0.5)],
    [(0.0002, 1.0, 0.0), (0.0001, 7.0, 1.0)],
    [(0.005, 0.8, 0.2), (0.004, 6.3, 2.5), (0.01, 16.0, 1.1)],
])
def test_mixed_flutter_within_one_percent(flutter: list[tuple[float, float, float]]) -> None:
    reading = measure_wow_flutter(fm_tone(flutter, seconds=30.0, speed_error=-0.02), RATE)
    peak, wrms = expected_weighted(flutter)
    assert reading.weighted_peak_percent == pytest.approx(peak, rel=0.01)
    assert reading.wrms_percent == pytest.approx(wrms, rel=0.01)
    assert reading.speed_error_percent == pytest.approx(-2.0, abs=0.01)


def test_clean_tone_with_noise_at_40_db_snr_reads_almost_nothing() -> None:
    reading = measure_wow_flutter(fm_tone([], snr_db=40.0, seed=7), RATE)
    assert reading.wrms_percent <= 0.001
    assert reading.speed_error_percent == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize(("tone", "speed"), [(3150.0, 0.03), (3000.0, -0.015), (3150.0, 0.0)])
def test_frequency_and_speed_error(tone: float, speed: float) -> None:
    reading = measure_wow_flutter(fm_tone([(0.001, 4.0, 0.0)], seconds=8.0, tone_hz=tone,
                                          speed_error=speed), RATE)
    assert reading.nominal_hz == tone
    assert reading.frequency_hz == pytest.approx(tone * (1 + speed), rel=1e-5)
    assert reading.speed_error_percent == pytest.approx(speed * 100, abs=0.01)


def test_unweighted_reads_the_flat_band() -> None:
    reading = measure_wow_flutter(fm_tone([(0.002, 20.0, 0.0)]), RATE)
    assert reading.unweighted_peak_percent == pytest.approx(0.2 * 0.9969, rel=0.01)
    assert reading.unweighted_rms_percent == pytest.approx(0.2 / np.sqrt(2), rel=0.01)


def test_live_meter_reads_the_last_window_from_any_block_size() -> None:
    flutter = [(0.003, 4.0, 0.0)]
    audio = np.stack([fm_tone(flutter, seconds=10.0)] * 2, axis=1).astype(np.float32)
    meter = WowFlutterMeter(RATE, 3150.0, window_s=5.0)
    assert meter.reading() is None
    for start in range(0, len(audio), 1000):
        meter.feed(audio[start:start + 1000])
    reading = meter.reading()
    assert reading is not None
    assert reading.duration_s == pytest.approx(5.0, abs=0.01)
    peak, wrms = expected_weighted(flutter)
    assert reading.weighted_peak_percent == pytest.approx(peak, rel=0.01)
    assert reading.wrms_percent == pytest.approx(wrms, rel=0.01)


def test_too_short_or_no_tone_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(AnalysisError, match="at least"):
        measure_wow_flutter(fm_tone([], seconds=2.0), RATE)
    noise = np.random.default_rng(0).normal(0, 0.1, RATE * 6)
    with pytest.raises(AnalysisError, match="test tone"):
        measure_wow_flutter(np.sin(2 * np.pi * 1000 * np.arange(RATE * 6) / RATE) + noise, RATE)
