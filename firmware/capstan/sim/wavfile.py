"""WAV helpers for the simulator: stereo at the deck's rate, and sparse 16-bit tape tracks.

A side of a C120 is an hour of 48 kHz stereo: 690 MB as 16-bit samples. The
simulator keeps each side in a sparse WAV file read and written in place, so blank
tape costs no disk and no RAM.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from capstan import wavfile as wav

HEADER = 44


def _header(frames: int, rate: int, channels: int = 2) -> bytes:
    data = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2,
                                    channels * 2, 16)
            + b"data" + struct.pack("<I", data))


def create_sparse(path: Path, frames: int, rate: int) -> None:
    """A silent 16-bit stereo WAV of `frames` frames that takes no space until written."""
    with open(path, "wb") as f:
        f.write(_header(frames, rate))
        f.truncate(HEADER + frames * 4)


class TapeTrack:
    """A 16-bit stereo WAV written by create_sparse(), read and written in place by slices.

    Uses pread/pwrite rather than a memory map, so the resident memory of a long
    session does not grow with the tape it has played.
    """

    def __init__(self, path: Path, rate: int) -> None:
        self.path = Path(path)
        with open(path, "rb") as f:
            head = f.read(HEADER)
        if len(head) < HEADER or head[:4] != b"RIFF" or head[36:40] != b"data":
            raise ValueError(f"{path}: not a canonical 16-bit WAV")
        channels, file_rate, bits = struct.unpack("<H I 6x H", head[22:36])
        if channels != 2 or bits != 16 or file_rate != rate:
            raise ValueError(f"{path}: expected {rate} Hz 16-bit stereo")
        self.frames = struct.unpack("<I", head[40:44])[0] // 4
        self._fd = os.open(path, os.O_RDWR)

    def __len__(self) -> int:
        return self.frames

    def _range(self, key: slice) -> tuple[int, int]:
        start, stop, step = key.indices(self.frames)
        if step != 1:
            raise ValueError("tape tracks are read in contiguous slices")
        return start, max(start, stop)

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop = self._range(key)
        raw = os.pread(self._fd, (stop - start) * 4, HEADER + start * 4)
        return np.frombuffer(raw, "<i2").reshape(-1, 2)

    def __setitem__(self, key: slice, value: np.ndarray) -> None:
        start, stop = self._range(key)
        data = np.ascontiguousarray(value, dtype="<i2").reshape(-1, 2)[: stop - start]
        os.pwrite(self._fd, data.tobytes(), HEADER + start * 4)

    def flush(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_wav(path: Path, rate: int) -> np.ndarray:
    """Any PCM WAV as float32 stereo (frames, 2) at `rate`."""
    x, file_rate = wav.read_wav(path)
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    elif x.shape[1] > 2:
        x = x[:, :2]
    return np.ascontiguousarray(wav.resample(x, file_rate, rate), dtype=np.float32)


WavWriter = wav.WavWriter
to_int16 = wav.to_int16


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """A float array (frames,) or (frames, 2) as a 16-bit stereo WAV."""
    if samples.ndim == 1:
        samples = np.stack([samples, samples], axis=1)
    wav.write_wav(path, samples, rate)
