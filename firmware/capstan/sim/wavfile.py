"""WAV helpers for the simulator: stereo at the deck's rate, and sparse 16-bit tape tracks.

A side of a C120 is an hour of 48 kHz stereo: 690 MB as 16-bit samples. The
simulator keeps each side in a sparse WAV file read and written in place, so blank
tape costs no disk and no RAM.
"""

from __future__ import annotations

import collections
import os
import struct
import threading
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
    session does not grow with the tape it has played. Writes go behind: a thread of
    the track's own writes them to the file, and a read sees the writes still on their
    way, so the loop that records never waits for a disk that holds a write.
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
        self._pending: collections.deque[tuple[int, bytes]] = collections.deque()
        self._changed = threading.Condition()
        self._closing = False
        self._error: OSError | None = None
        self._writer: threading.Thread | None = None

    def __len__(self) -> int:
        return self.frames

    def _range(self, key: slice) -> tuple[int, int]:
        start, stop, step = key.indices(self.frames)
        if step != 1:
            raise ValueError("tape tracks are read in contiguous slices")
        return start, max(start, stop)

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop = self._range(key)
        with self._changed:  # before the read: what leaves the queue after it is on disk
            pending = list(self._pending)
        lo, hi = HEADER + start * 4, HEADER + stop * 4
        raw = os.pread(self._fd, hi - lo, lo)
        if pending:
            buf = bytearray(raw.ljust(hi - lo, b"\0"))
            for offset, data in pending:  # in the order written: the last one counts
                a, b = max(lo, offset), min(hi, offset + len(data))
                if a < b:
                    buf[a - lo:b - lo] = data[a - offset:b - offset]
            raw = bytes(buf)
        return np.frombuffer(raw, "<i2").reshape(-1, 2)

    def __setitem__(self, key: slice, value: np.ndarray) -> None:
        start, stop = self._range(key)
        data = np.ascontiguousarray(value, dtype="<i2").reshape(-1, 2)[: stop - start]
        self._raise_error()
        with self._changed:
            self._pending.append((HEADER + start * 4, data.tobytes()))
            self._changed.notify_all()
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_behind, daemon=True,
                                            name=f"tape {self.path.name}")
            self._writer.start()

    def _write_behind(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait()
                if not self._pending:
                    return
                offset, data = self._pending[0]
            try:
                os.pwrite(self._fd, data, offset)
            except OSError as exc:
                self._error = exc
            with self._changed:
                self._pending.popleft()
                self._changed.notify_all()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise OSError(f"{self.path}: a write to the tape failed: {error}") from error

    def _drain(self) -> None:
        with self._changed:
            while self._pending:
                self._changed.wait()

    def flush(self) -> None:
        """Every write on the file, and on the disk."""
        self._drain()
        self._raise_error()
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd < 0:
            return
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._writer is not None:
            self._writer.join()
        os.close(self._fd)
        self._fd = -1
        self._raise_error()


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
