"""WAV files in and out with the standard library's `wave`, as float32 frames.

The one WAV reader and writer of the firmware, the analysis tools and the
simulator (whose sparse tape tracks are in capstan.sim.wavfile).
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from capstan.errors import CapstanError


class WavError(CapstanError):
    """A file is not a PCM WAV this firmware reads."""


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples as float32 (frames, channels) in [-1, 1), and the sample rate."""
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise WavError(f"cannot read {path} as a PCM WAV file ({exc}); "
                            "convert it to 16- or 24-bit PCM WAV") from exc
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        data = ints.astype(np.float32) / 8388608
    elif width == 4:
        data = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648).astype(np.float32)
    else:
        raise WavError(f"{path}: {8 * width}-bit samples are not supported; use 16 or 24 bits")
    return data.reshape(-1, channels), rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int, bits: int = 16) -> None:
    """Write float samples (frames,) or (frames, channels) as 16- or 24-bit PCM."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    full = float(1 << (bits - 1))
    ints = np.clip(np.round(samples * full), -full, full - 1).astype(np.int32)
    if bits == 16:
        raw = ints.astype("<i2").tobytes()
    elif bits == 24:
        raw = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raise ValueError("bits must be 16 or 24")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(bits // 8)
        w.setframerate(rate)
        w.writeframes(raw)


def resample(samples: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Linear-interpolation resampling of (frames, channels) float samples."""
    if rate == to or not len(samples):
        return samples
    n = round(len(samples) * to / rate)
    src = np.arange(n) * (rate / to)
    idx = np.arange(len(samples))
    return np.stack([np.interp(src, idx, samples[:, c]) for c in range(samples.shape[1])],
                    axis=1).astype(np.float32)


class WavWriter:
    """Streams float blocks to a 16-bit WAV; the header is fixed up on close."""

    def __init__(self, path: str | Path, rate: int, channels: int = 2) -> None:
        self.path = Path(path)
        self.rate = rate
        self.frames = 0
        self._w = wave.open(str(self.path), "wb")
        self._w.setnchannels(channels)
        self._w.setsampwidth(2)
        self._w.setframerate(rate)

    def write(self, block: np.ndarray) -> None:
        ints = np.clip(np.round(np.asarray(block) * 32768), -32768, 32767).astype("<i2")
        self._w.writeframesraw(ints.tobytes())
        self.frames += len(block)

    def close(self) -> None:
        if self._w is not None:
            self._w.close()  # writes the final sizes into the header
            self._w = None
