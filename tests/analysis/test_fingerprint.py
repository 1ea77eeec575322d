"""Recognising a cassette from the first seconds after the leader."""

import numpy as np
import pytest

from capstan.analysis import AnalysisError
from capstan.analysis.fingerprint import (
    MATCH_THRESHOLD,
    Fingerprint,
    is_match,
    match_score,
    take_fingerprint,
)

from .synth import RATE, at_dbfs, melody, played_at


def _hissy(x: np.ndarray, hiss_dbfs: float, seed: int) -> np.ndarray:
    return x + at_dbfs(np.random.default_rng(seed).normal(size=len(x)), hiss_dbfs)


@pytest.fixture(scope="module")
def known() -> Fingerprint:
    return take_fingerprint(melody(12.0, seed=1), RATE)


@pytest.mark.parametrize(("speed", "late_s"), [(1.02, 0.0), (0.98, 0.3), (1.0, 0.2),
                                               (1.013, 0.1)])
def test_same_cassette_on_another_day_matches(known: Fingerprint, speed: float,
                                              late_s: float) -> None:
    heard = _hissy(played_at(melody(12.0, seed=1), speed)[int(late_s * RATE):], -48.0, seed=9)
    assert match_score(known, take_fingerprint(heard, RATE)) > 0.85


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_other_music_does_not_match(known: Fingerprint, seed: int) -> None:
    other = take_fingerprint(_hissy(melody(12.0, seed=seed), -48.0, seed=seed), RATE)
    assert match_score(known, other) < 0.3
    assert not is_match(known, other)
    assert MATCH_THRESHOLD > 0.3


def test_fingerprint_is_compact_and_round_trips_as_text(known: Fingerprint) -> None:
    text = known.to_text()
    assert len(known.levels.tobytes()) == 80 * 16
    assert np.array_equal(Fingerprint.from_text(text).levels, known.levels)


def test_too_little_audio_is_an_error() -> None:
    with pytest.raises(AnalysisError, match="needs"):
        take_fingerprint(np.zeros(RATE * 3), RATE)
