"""WAV files that are not what they claim, for the tests of every reader of WAVs."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from capstan.wavfile import write_wav


def _fmt(tag: int, channels: int = 2, rate: int = 48000, bits: int = 16) -> bytes:
    align = channels * bits // 8
    return b"fmt " + struct.pack("<IHHIIHH", 16, tag, channels, rate, rate * align, align,
                                 bits)


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _data(payload: bytes, claimed: int | None = None) -> bytes:
    return b"data" + struct.pack("<I", len(payload) if claimed is None else claimed) + payload


def good(path: Path, seconds: float = 0.5) -> Path:
    t = np.arange(int(48000 * seconds)) / 48000
    write_wav(path, np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 48000)
    return path


# name -> bytes of a file that must be refused, and a word the refusal contains
BAD: dict[str, tuple[Callable[[], bytes], str]] = {
    "text": (lambda: b"I am a song, honest.\n" * 20, "not a WAV"),
    "empty": (lambda: b"", "empty"),
    "riff_only": (lambda: b"RIFF\x00\x00\x00\x00WAVE", "no data chunk"),
    "truncated": (lambda: _riff(_fmt(1), _data(b"\x00" * 4000))[:2000], "truncated"),
    "float32": (lambda: _riff(_fmt(3, bits=32), _data(b"\x00" * 800)), "floating-point"),
    "header_claims_4gb": (lambda: _riff(_fmt(1), _data(b"\x00" * 1024, 0xFFFFFF00)),
                          "header"),
    "no_frames": (lambda: _riff(_fmt(1), _data(b"")), "no audio"),
    "mp3_in_wav": (lambda: _riff(_fmt(0x55), _data(b"\x00" * 800)), "not PCM"),
    "twelve_bits": (lambda: _riff(_fmt(1, bits=12), _data(b"\x00" * 800)), "12-bit"),
    "zero_channels": (lambda: _riff(_fmt(1, channels=0), _data(b"\x00" * 800)), "channels"),
    "rate_1hz": (lambda: _riff(_fmt(1, rate=1), _data(b"\x00" * 800)), "sample rate"),
    "data_before_fmt": (lambda: _riff(_data(b"\x00" * 800), _fmt(1)), "before the fmt"),
}


def write_bad(directory: Path, name: str) -> Path:
    path = directory / f"{name}.wav"
    path.write_bytes(BAD[name][0]())
    return path
