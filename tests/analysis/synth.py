"""Synthetic test material made in the tests: FM test tones and a taped mixtape."""

from __future__ import annotations

import numpy as np

from capstan.analysis.weighting import weighting_response

RATE = 48000

Flutter = list[tuple[float, float, float]]  # (peak deviation as a fraction, rate Hz, phase)


def fm_tone(flutter: Flutter, seconds: float = 25.0, tone_hz: float = 3150.0,
            speed_error: float = 0.0, snr_db: float | None = None, seed: int = 0,
            rate: int = RATE) -> np.ndarray:
    """A test tone played at (1 + speed_error) with the given sinusoidal flutter.

    Instantaneous frequency = f (1 + Σ a sin(2π fm t + φ)), integrated exactly.
    """
    t = np.arange(int(seconds * rate)) / rate
    f = tone_hz * (1 + speed_error)
    phase = 2 * np.pi * f * t
    for a, fm, phi in flutter:
        phase -= f * a / fm * np.cos(2 * np.pi * fm * t + phi)
    x = 0.5 * np.sin(phase)
    if snr_db is not None:
        noise_rms = np.sqrt(0.125 / 10 ** (snr_db / 10))
        x = x + np.random.default_rng(seed).normal(0, noise_rms, len(x))
    return x


def expected_weighted(flutter: Flutter, rate: float = 4000.0) -> tuple[float, float]:
    """2σ peak and WRMS (in %) of the known modulation through the weighting."""
    t = np.arange(0, 400, 1 / rate)
    w = np.zeros_like(t)
    for a, fm, phi in flutter:
        h = weighting_response(np.array([fm]), rate)[0]
        w += a * abs(h) * np.sin(2 * np.pi * fm * t + phi + np.angle(h))
    return float(np.percentile(np.abs(w), 95) * 100), float(np.sqrt(np.mean(w * w)) * 100)


def at_dbfs(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x)) * 10 ** (dbfs / 20)


def song(seconds: float, rng: np.random.Generator, dbfs: float = -18.0) -> np.ndarray:
    """Stereo 'music': a few wavering tones over a little noise."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    x = 0.3 * rng.normal(size=n)
    for _ in range(6):
        f = rng.uniform(100, 2000)
        swell = 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t)
        x += np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * swell
    return np.stack([at_dbfs(x, dbfs), at_dbfs(np.roll(x, 50), dbfs)], axis=1)


def mixtape(layout: list[tuple[float, float]], hiss_dbfs: float = -60.0, lead_s: float = 3.0,
            tail_s: float = 3.0, quiet: tuple[float, float, float] | None = None,
            seed: int = 1) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Songs and gaps [(song_s, gap_after_s)] over tape hiss; returns audio and true tracks.

    `quiet` = (song index, offset s, level dBFS): a 1.5 s quiet passage inside that song.
    """
    rng = np.random.default_rng(seed)
    parts = [np.zeros((int(lead_s * RATE), 2))]
    truth, t = [], lead_s
    for i, (length, gap) in enumerate(layout):
        music = song(length, rng)
        if quiet is not None and quiet[0] == i:
            a = int(quiet[1] * RATE)
            b = a + int(1.5 * RATE)
            music[a:b] = at_dbfs(music[a:b], quiet[2])
        parts.append(music)
        truth.append((t, t + length))
        t += length
        parts.append(np.zeros((int(gap * RATE), 2)))
        t += gap
    parts.append(np.zeros((int(tail_s * RATE), 2)))
    audio = np.concatenate(parts)
    hiss = at_dbfs(rng.normal(size=len(audio)), hiss_dbfs)
    audio += np.stack([hiss, np.roll(hiss, 777)], axis=1)
    return audio.astype(np.float32), truth


def melody(seconds: float, seed: int, rate: int = RATE) -> np.ndarray:
    """Mono 'music' with notes: harmonic tones of random pitch and length, with decays."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    at = 0
    while at < len(out):
        length = int(rng.uniform(0.15, 0.6) * rate)
        t = np.arange(length) / rate
        f = 110 * 2 ** (rng.integers(0, 36) / 12)
        note = sum(np.sin(2 * np.pi * f * h * t) / h for h in range(1, 6))
        note = note * np.exp(-t * rng.uniform(2, 8)) * rng.uniform(0.3, 1.0)
        end = min(len(out), at + length)
        out[at:end] += note[:end - at]
        at += int(length * rng.uniform(0.6, 1.0))
    return at_dbfs(out, -18.0)


def played_at(x: np.ndarray, speed: float) -> np.ndarray:
    """`x` played `speed` times as fast (every tone higher, every note shorter)."""
    t = np.arange(int(len(x) / speed)) * speed
    return np.interp(t, np.arange(len(x)), x)
