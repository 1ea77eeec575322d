"""The meter starts by itself: is a test tone playing?"""

import numpy as np

from capstan.analysis.tone import ToneDetector

from .synth import RATE, fm_tone, mixtape


def _feed(detector: ToneDetector, audio: np.ndarray, block: int = 1024) -> list[float | None]:
    return [detector.feed(audio[i:i + block]) for i in range(0, len(audio), block)]


def test_a_3150_hz_tone_is_found_after_a_second_even_off_speed_and_fluttering() -> None:
    tone = fm_tone([(0.002, 4.0, 0.0)], seconds=3.0, speed_error=0.025, snr_db=40.0)
    states = _feed(ToneDetector(RATE), np.stack([tone, tone], axis=1))
    first = states.index(3150.0) * 1024 / RATE
    assert 1.0 <= first <= 1.3
    assert states[-1] == 3150.0


def test_a_3000_hz_tone_is_told_from_3150() -> None:
    detector = ToneDetector(RATE)
    _feed(detector, fm_tone([], seconds=2.0, tone_hz=3000.0, speed_error=-0.01))
    assert detector.tone_hz == 3000.0
    assert abs(detector.frequency_hz - 2970.0) < 2.0


def test_music_and_hiss_are_not_a_test_tone() -> None:
    audio, _ = mixtape([(8.0, 2.0), (6.0, 0.0)])
    assert set(_feed(ToneDetector(RATE), audio)) == {None}


def test_the_tone_ending_stops_the_detection() -> None:
    detector = ToneDetector(RATE)
    _feed(detector, fm_tone([], seconds=2.0))
    assert detector.tone_hz == 3150.0
    _feed(detector, np.random.default_rng(0).normal(0, 0.05, RATE))
    assert detector.tone_hz is None
