"""WAV files in and out, as float32 frames.

The one WAV reader and writer of the firmware, the analysis tools and the
simulator (whose sparse tape tracks are in capstan.sim.wavfile).

Reading is strict and checked before any audio is used (`probe_wav`): a regular,
non-empty file, RIFF/WAVE, integer PCM of 8, 16, 24 or 32 bits (plain or
WAVE_FORMAT_EXTENSIBLE), 1 to 8 channels, 8 to 192 kHz, and a data chunk that the file
really holds. Anything else (text, a truncated file, 32-bit float, a header that claims
more audio than there is) is a WavError naming the file: bad input, exit 2.

Writing never leaves a wrong header: `write_wav` refuses what does not fit in a WAV
(4 GiB of data at most), and `WavWriter`, which streams, continues in a new file
`<name>-2.wav`, `<name>-3.wav`, ... when one reaches that limit (6.2 hours of 48 kHz
16-bit stereo); each file is a complete WAV with its own correct header.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from capstan.errors import ConfigError

MAX_DATA = 0xFFFFFFFF - 36  # bytes of audio a WAV's 32-bit RIFF size can describe
PCM, EXTENSIBLE, FLOAT = 1, 0xFFFE, 3
_PCM_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
CONVERT = "convert it to 16- or 24-bit PCM WAV"


class WavError(ConfigError):
    """A file is not a PCM WAV this firmware reads (bad input: exit 2)."""


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    bits: int
    frames: int
    data_offset: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def probe_wav(path: str | Path) -> WavInfo:
    """Check a WAV file's header against the file; what it holds, or a WavError."""
    path = Path(path)

    def bad(why: str) -> WavError:
        return WavError(f"{path}: {why}")

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except IsADirectoryError:
        raise bad("is a directory, not a WAV file") from None
    except OSError as exc:
        raise bad(f"cannot read it ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise bad("is a directory, not a WAV file")
        if not stat.S_ISREG(st.st_mode):
            raise bad("is not a regular file")
        size = st.st_size
        if size == 0:
            raise bad("is empty (0 bytes), not a WAV file")
        head = os.pread(fd, 12, 0)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise bad(f"not a WAV file (no RIFF/WAVE header); {CONVERT}")
        fmt: bytes | None = None
        offset, chunks = 12, 0
        while offset + 8 <= size and chunks < 256:
            cid, length = struct.unpack("<4sI", os.pread(fd, 8, offset))
            body = offset + 8
            chunks += 1
            if cid == b"fmt ":
                fmt = os.pread(fd, min(length, 64), body)
                if len(fmt) < 16 or length > size - body:
                    raise bad("its fmt chunk is truncated")
            elif cid == b"data":
                if fmt is None:
                    raise bad("its data chunk comes before the fmt chunk")
                info = _format(fmt, bad)
                if length > size - body:
                    raise bad(f"the header says {length} bytes of audio but the file holds "
                              f"{size - body}: it is truncated or its header is wrong")
                block = info[1] * info[2] // 8
                frames = length // block
                if frames == 0:
                    raise bad("holds no audio (0 frames)")
                return WavInfo(info[0], info[1], info[2], frames, body)
            offset = body + length + (length & 1)
        raise bad("no audio (no data chunk); it is truncated or not a WAV file")
    finally:
        os.close(fd)


def _format(fmt: bytes, bad: Callable[[str], WavError]) -> tuple[int, int, int]:
    """(rate, channels, bits) of a fmt chunk this firmware reads."""
    tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == EXTENSIBLE and len(fmt) >= 40:
        sub = struct.unpack("<H", fmt[24:26])[0]
        tag = sub if fmt[26:40] == _PCM_GUID_TAIL else -1
    if tag == FLOAT:
        raise bad(f"{bits}-bit floating-point samples are not read; {CONVERT}")
    if tag != PCM:
        raise bad(f"not PCM audio (format 0x{tag & 0xFFFF:04x}); {CONVERT}")
    if bits not in (8, 16, 24, 32):
        raise bad(f"{bits}-bit samples are not read; {CONVERT}")
    if not 1 <= channels <= 8:
        raise bad(f"{channels} channels: a WAV of 1 to 8 channels is read")
    if not 8000 <= rate <= 192000:
        raise bad(f"a sample rate of {rate} Hz: 8000 to 192000 Hz is read")
    if align != channels * bits // 8:
        raise bad("its fmt chunk is inconsistent (block size)")
    return rate, channels, bits


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Samples as float32 (frames, channels) in [-1, 1), and the sample rate."""
    info = probe_wav(path)
    width = info.bits // 8
    try:
        with open(path, "rb") as f:
            f.seek(info.data_offset)
            raw = f.read(info.frames * info.channels * width)
    except OSError as exc:
        raise WavError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(raw) != info.frames * info.channels * width:
        raise WavError(f"{path}: the file changed while it was read")
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        data = ints.astype(np.float32) / 8388608
    else:
        data = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648).astype(np.float32)
    return data.reshape(-1, info.channels), info.rate


def header(frames: int, rate: int, channels: int, bits: int = 16) -> bytes:
    """The canonical 44-byte header of a PCM WAV; refuses what a WAV cannot describe."""
    align = channels * bits // 8
    data = frames * align
    if data > MAX_DATA:
        raise WavError(f"{data} bytes of audio do not fit in a WAV (at most {MAX_DATA})")
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, PCM, channels, rate, rate * align,
                                    align, bits)
            + b"data" + struct.pack("<I", data))


def write_wav(path: str | Path, samples: np.ndarray, rate: int, bits: int = 16) -> None:
    """Write float samples (frames,) or (frames, channels) as 16- or 24-bit PCM."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    if bits not in (16, 24):
        raise ValueError("bits must be 16 or 24")
    head = header(len(samples), rate, samples.shape[1], bits)  # before anything is written
    full = float(1 << (bits - 1))
    ints = np.clip(np.round(samples * full), -full, full - 1).astype(np.int32)
    if bits == 16:
        raw = ints.astype("<i2").tobytes()
    else:
        raw = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    with open(path, "wb") as f:
        f.write(head)
        f.write(raw)


def resample(samples: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Linear-interpolation resampling of (frames, channels) float samples."""
    if rate == to or not len(samples):
        return samples
    n = round(len(samples) * to / rate)
    src = np.arange(n) * (rate / to)
    idx = np.arange(len(samples))
    return np.stack([np.interp(src, idx, samples[:, c]) for c in range(samples.shape[1])],
                    axis=1).astype(np.float32)


def to_int16(block: np.ndarray) -> np.ndarray:
    """float samples (-1..1) as 16-bit codes: rounded, clipped to the largest and smallest."""
    return np.clip(np.round(np.asarray(block) * 32768), -32768, 32767).astype("<i2")


class WavWriter:
    """Streams float blocks to 16-bit WAV files; each header is right when it is closed.

    At `max_data` bytes (WAV's limit) the file is closed and the stream goes on in
    `<stem>-2.wav`, `<stem>-3.wav`, ...: `paths` lists them, `frames` counts them all.
    """

    def __init__(self, path: str | Path, rate: int, channels: int = 2,
                 max_data: int = MAX_DATA) -> None:
        self.path = Path(path)
        self.rate = rate
        self.channels = channels
        self.frames = 0
        self.paths: list[Path] = []
        self._align = 2 * channels
        self._max_frames = max(1, min(max_data, MAX_DATA) // self._align)
        self._file_frames = 0
        self._f: BinaryIO | None = None
        self._open(self.path)

    def _open(self, path: Path) -> None:
        self._f = open(path, "wb")  # closed in _finish()
        self._f.write(header(0, self.rate, self.channels))
        self._file_frames = 0
        self.paths.append(path)

    def _finish(self) -> None:
        f = self._f
        assert f is not None
        try:
            f.seek(0)
            f.write(header(self._file_frames, self.rate, self.channels))
        finally:
            f.close()
            self._f = None

    def write(self, block: np.ndarray) -> None:
        ints = to_int16(block).reshape(-1, self.channels)
        while len(ints):
            if self._file_frames >= self._max_frames:
                self._finish()
                self._open(self.path.with_name(
                    f"{self.path.stem}-{len(self.paths) + 1}{self.path.suffix}"))
            take = ints[: self._max_frames - self._file_frames]
            assert self._f is not None
            self._f.write(take.tobytes())
            self._file_frames += len(take)
            self.frames += len(take)
            ints = ints[len(take):]

    def close(self) -> None:
        if self._f is not None:
            self._finish()
