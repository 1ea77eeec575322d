"""Test material: songs (tones with a moving envelope, different per song) and silences."""

from __future__ import annotations

import numpy as np

RATE = 48000


def song(seconds: float, seed: int, peak: float = 0.4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    x = np.zeros_like(t)
    for f in rng.uniform(150, 2500, 5):
        x += np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5) * t)
    x *= peak / np.abs(x).max()
    return np.stack([x, x], axis=1).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros((int(seconds * RATE), 2), np.float32)


def three_songs() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Three songs with 3 s gaps; the truth: (start, end) of each, seconds into the WAV."""
    parts, truth, at = [], [], 0.0
    for i, length in enumerate((9.0, 8.0, 10.0)):
        if i:
            parts.append(silence(3.0))
            at += 3.0
        parts.append(song(length, i))
        truth.append((at, at + length))
        at += length
    return np.concatenate(parts), truth
