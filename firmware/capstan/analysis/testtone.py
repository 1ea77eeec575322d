"""The test tone for wow & flutter: a pure 3150 Hz (or 3000 Hz) sine as a WAV file.

`capstan analyze test-tone FILE.wav` writes it; recorded onto a blank cassette and played
back, it is what `capstan analyze wow-flutter` and the player's live meter read
(docs/analysis.md, "A test tone of your own").
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from capstan.errors import ConfigError
from capstan.wavfile import WavWriter

FADE_S = 0.02  # raised-cosine fade in and out: no click at either end
CHUNK_S = 1.0  # seconds generated at a time: memory stays small for an hour of tone


def tone_blocks(hz: float, seconds: float, rate: int, peak: float) -> Iterator[np.ndarray]:
    """The tone in blocks of CHUNK_S, (frames, 2) float32, phase-continuous."""
    total = round(seconds * rate)
    fade = max(1, round(FADE_S * rate))
    step = round(CHUNK_S * rate)
    for start in range(0, total, step):
        n = np.arange(start, min(total, start + step))
        x = peak * np.sin(2 * np.pi * hz * (n / rate))
        ramp = np.minimum(1.0, np.minimum(n + 1, total - n) / fade)
        x *= 0.5 - 0.5 * np.cos(np.pi * ramp)
        yield np.repeat(x[:, None], 2, axis=1).astype(np.float32)


def write_test_tone(path: Path, hz: float = 3150.0, seconds: float = 60.0, rate: int = 48000,
                    level_dbfs: float = -10.0, force: bool = False) -> Path:
    """Write the tone as 16-bit stereo PCM; the file appears whole or not at all."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; name the WAV file to write")
    if (path.exists() or path.is_symlink()) and not force:
        raise ConfigError(f"{path}: exists; not overwriting it (--force to replace it)")
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"{path}: no such directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{path}: {parent} is not writable")
    tmp = path.with_name(f".{path.name}.tmp")
    writer = WavWriter(tmp, rate)
    try:
        for block in tone_blocks(hz, seconds, rate, 10 ** (level_dbfs / 20)):
            writer.write(block)
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return path


def describe(hz: float, seconds: float, rate: int, level_dbfs: float) -> str:
    minutes = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
    return (f"{hz:g} Hz at {level_dbfs:g} dBFS peak, {minutes}, {rate} Hz 16-bit stereo "
            f"({math.ceil(seconds * rate * 4 / 1e6)} MB)")
