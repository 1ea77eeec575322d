"""The record level: peaks on target over a 30 dB dynamic range, no pumping, manual mode."""

from __future__ import annotations

import numpy as np

from capstan.recording.level import CHUNK, TARGET_PEAK_DBFS, RecordLevel
from recording.music import RATE, song

BLOCK = 1024


def run(level: RecordLevel, x: np.ndarray) -> np.ndarray:
    return np.concatenate([level(x[i:i + BLOCK]) for i in range(0, len(x), BLOCK)])


def db(x: float) -> float:
    return 20 * np.log10(x)


def test_peaks_stay_within_1_db_of_target_over_a_30_db_range() -> None:
    level = RecordLevel(RATE, 2, "II")
    target = TARGET_PEAK_DBFS["II"]
    peaks = (0.9, 0.9 * 10 ** (-30 / 20), 0.9 * 10 ** (-12 / 20), 0.9 * 10 ** (-30 / 20), 0.9)
    x = np.concatenate([song(8.0, i, p) for i, p in enumerate(peaks)])
    x = x[: len(x) // BLOCK * BLOCK]
    y = run(level, x)
    assert db(np.abs(y).max()) <= target + 0.01  # the look-ahead limiter: never over
    for i in range(len(peaks)):
        for second in range(4, 8):  # after 4 s the level has followed a 30 dB step
            a = (i * 8 + second) * RATE + CHUNK
            window = np.abs(y[a:a + RATE]).max()
            assert abs(db(window) - target) <= 1.0, (i, second, db(window))


def test_a_steady_tone_is_not_pumped() -> None:
    for freq in (60.0, 1000.0, 8000.0):
        level = RecordLevel(RATE, 2, "I")
        t = np.arange(10 * RATE) / RATE
        tone = 0.05 * np.sin(2 * np.pi * freq * t)
        y = run(level, np.stack([tone, tone], 1).astype(np.float32))
        settled = y[5 * RATE:, 0]
        # the gain seen over each 50 ms: constant within 0.1 dB
        frames = settled[: len(settled) // 2400 * 2400].reshape(-1, 2400)
        env = db(np.abs(frames).max(axis=1))
        assert env.max() - env.min() < 0.1, (freq, env.max() - env.min())
        assert abs(env.mean() - TARGET_PEAK_DBFS["I"]) < 0.5


def test_manual_mode_keeps_the_users_gain_and_counts_overs() -> None:
    level = RecordLevel(RATE, 2, "I")
    level.set_manual(6.0)
    quiet = song(2.0, 1, 0.1)
    y = run(level, quiet[: len(quiet) // BLOCK * BLOCK])
    assert abs(db(np.abs(y).max()) - db(0.1 * 2.0)) < 0.2  # +6 dB, untouched
    assert level.clips == 0
    loud = song(2.0, 2, 0.9)
    y = run(level, loud[: len(loud) // BLOCK * BLOCK])
    assert level.clips > 0  # it would have gone over full scale: counted
    assert np.abs(y).max() <= 10 ** (-0.5 / 20) + 1e-6  # ... but the tape never hard-clips


def test_an_overdriven_line_in_is_counted_as_clipping() -> None:
    level = RecordLevel(RATE, 2, "I")
    x = np.clip(song(1.0, 3, 1.5), -1, 1)[: 46 * BLOCK]
    run(level, x)
    assert level.clips > 0
