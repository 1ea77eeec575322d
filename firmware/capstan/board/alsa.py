"""PCM streams over pyalsaaudio: capture in a reader thread that posts into the loop.

Overruns (EPIPE, reported by pyalsaaudio as a negative length or an exception)
are recovered by the library's automatic re-prepare, counted, and never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import numpy as np

from capstan.board.protocols import BlockCallback

log = logging.getLogger(__name__)

_FORMATS = {"S16_LE": ("<i2", 32768.0), "S32_LE": ("<i4", 2.0**31)}


def _alsa() -> Any:
    import alsaaudio  # lazy: needs libasound

    return alsaaudio


def _open(device: str, capture: bool, rate: int, channels: int, fmt: str, period: int) -> Any:
    alsaaudio = _alsa()
    return alsaaudio.PCM(
        type=alsaaudio.PCM_CAPTURE if capture else alsaaudio.PCM_PLAYBACK,
        mode=alsaaudio.PCM_NORMAL, device=device, rate=rate, channels=channels,
        format=getattr(alsaaudio, f"PCM_FORMAT_{fmt}"), periodsize=period, periods=4,
    )


def decode(raw: bytes, fmt: str, channels: int) -> np.ndarray:
    dtype, scale = _FORMATS[fmt]
    return (np.frombuffer(raw, dtype).astype(np.float32) / scale).reshape(-1, channels)


def encode(block: np.ndarray, fmt: str) -> bytes:
    dtype, scale = _FORMATS[fmt]
    peak = (scale - 1) / scale
    return (np.clip(block, -1.0, peak) * scale).astype(dtype).tobytes()


class AlsaCapture:
    """A capture PCM read by its own thread; blocks enter the loop with call_soon_threadsafe."""

    def __init__(self, device: str, loop: asyncio.AbstractEventLoop, rate: int = 48000,
                 channels: int = 2, fmt: str = "S32_LE", period: int = 1024) -> None:
        self.device, self.loop = device, loop
        self.rate, self.channels, self.format, self.period = rate, channels, fmt, period
        self.overruns = 0
        self._pcm: Any = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._cb: BlockCallback | None = None

    def start(self, on_block: BlockCallback) -> None:
        self._cb = on_block
        self._pcm = _open(self.device, True, self.rate, self.channels, self.format, self.period)
        self._running.set()
        self._thread = threading.Thread(target=self._read, name="alsa-capture", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self._running.is_set():
            try:
                length, raw = self._pcm.read()
            except Exception as exc:
                self._overrun(str(exc))
                continue
            if length < 0:
                self._overrun(f"read returned {length}")
                continue
            if length == 0:
                continue
            block = decode(raw, self.format, self.channels)
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._deliver, block)

    def _overrun(self, why: str) -> None:
        self.overruns += 1
        log.warning("capture overrun on %s (%s): recovered", self.device, why)

    def _deliver(self, block: np.ndarray) -> None:
        if self._cb is not None:
            self._cb(block)

    def stop(self) -> None:
        self._running.clear()
        if self._thread:
            self._thread.join(timeout=2)
        if self._pcm is not None:
            self._pcm.close()
            self._pcm = None


class AlsaPlayback:
    """A playback PCM. write() hands the block to a writer thread so the loop never blocks."""

    def __init__(self, device: str, rate: int = 48000, channels: int = 2, fmt: str = "S16_LE",
                 period: int = 1024, queue_periods: int = 8) -> None:
        self.device, self.rate, self.channels, self.format = device, rate, channels, fmt
        self.period = period
        self.underruns = 0
        self.dropped = 0
        self._pcm = _open(device, False, rate, channels, fmt, period)
        self._queue: list[bytes] = []
        self._max = queue_periods
        self._cond = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._write, name="alsa-playback", daemon=True)
        self._thread.start()

    def write(self, block: np.ndarray) -> None:
        data = encode(block, self.format)
        with self._cond:
            if len(self._queue) >= self._max:
                self._queue.pop(0)
                self.dropped += 1
            self._queue.append(data)
            self._cond.notify()

    def _write(self) -> None:
        while True:
            with self._cond:
                while self._running and not self._queue:
                    self._cond.wait()
                if not self._queue and not self._running:
                    return
                data = self._queue.pop(0)
            try:
                if self._pcm.write(data) < 0:
                    self.underruns += 1
            except Exception:
                self.underruns += 1

    def drain(self) -> None:
        """Wait until everything written so far went to alsa-lib (used at shutdown and in tests)."""
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join(timeout=10)

    def close(self) -> None:
        self.drain()
        self._pcm.close()
