"""PCM streams over pyalsaaudio: capture in a reader thread that hands blocks to the
loop, playback through a writer thread that opens, writes and closes the PCM.

Overruns are never fatal. pyalsaaudio reports EPIPE as a negative length and
re-prepares the PCM itself; other read errors (EIO when the I2S clock stops)
are retried after reopening the PCM. A read that returns later than the PCM's
whole buffer after the previous one is also an overrun: a real device would
have overwritten the oldest period meanwhile (an `infile` FIFO that stalls
shows the same signature). Each is counted in `overruns`; the audio chain
turns the count into an `xrun` event.

The hand-off to the loop is bounded. Read blocks wait in an inbox of at most
BACKLOG seconds, and the loop takes them one per turn, so its timers, buttons
and sockets run between blocks. When the loop is so late that the inbox is full
(a starved CPU), the oldest block is dropped and counted as an overrun: the
audio has a gap, but the loop never spends longer and longer working off a queue
of audio it will never catch up with.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import threading
import time
from typing import Any

import numpy as np

from capstan.errors import BoardError
from capstan.hardware.protocols import BlockCallback

log = logging.getLogger(__name__)

PERIODS = 4  # periods in the ALSA buffer
BACKLOG = 0.25  # s of captured audio that may wait for a late loop; older blocks are dropped
# format → (numpy dtype, full scale, bits to shift left before scaling)
_FORMATS = {"S16_LE": ("<i2", 32768.0, 0), "S32_LE": ("<i4", 2.0**31, 0),
            "S24_LE": ("<i4", 2.0**31, 8)}
FORMATS = tuple(_FORMATS)


def _alsa() -> Any:
    import alsaaudio  # lazy: needs libasound

    return alsaaudio


def _check_format(fmt: str) -> None:
    if fmt not in _FORMATS:
        raise BoardError(f"ALSA sample format {fmt!r} is not supported: use one of "
                         f"{', '.join(FORMATS)} in [alsa] of hardware/board.toml")


def open_pcm(device: str, capture: bool, rate: int, channels: int, fmt: str, period: int,
             periods: int | None = PERIODS, nonblock: bool = False) -> Any:
    """A PCM set up in one call (pyalsaaudio 0.10 and later), or with the setters of
    Debian 12's pyalsaaudio 0.8.4, which takes neither these keywords nor `periods`.
    `nonblock`: a write the device has no room for returns 0 instead of waiting."""
    alsaaudio = _alsa()
    kind = alsaaudio.PCM_CAPTURE if capture else alsaaudio.PCM_PLAYBACK
    mode = alsaaudio.PCM_NONBLOCK if nonblock else alsaaudio.PCM_NORMAL
    pcm_format = getattr(alsaaudio, f"PCM_FORMAT_{fmt}")
    extra = {} if periods is None else {"periods": periods}
    try:
        return alsaaudio.PCM(type=kind, mode=mode, device=device, rate=rate,
                             channels=channels, format=pcm_format, periodsize=period, **extra)
    except TypeError:  # pyalsaaudio < 0.9: no such keywords
        pcm = alsaaudio.PCM(type=kind, mode=mode, device=device)
        pcm.setchannels(channels)
        pcm.setrate(rate)
        pcm.setformat(pcm_format)
        pcm.setperiodsize(period)
        return pcm


def _open(device: str, capture: bool, rate: int, channels: int, fmt: str, period: int) -> Any:
    return open_pcm(device, capture, rate, channels, fmt, period)


def decode(raw: bytes, fmt: str, channels: int) -> np.ndarray:
    """Interleaved PCM bytes → float32 (frames, channels) in -1..1."""
    dtype, scale, shift = _FORMATS[fmt]
    x = np.frombuffer(raw, dtype)
    if shift:  # 24 bits in the low three bytes of 32: sign-extend
        x = np.left_shift(x, shift)
    return (x.astype(np.float32) / np.float32(scale)).reshape(-1, channels)


def encode(block: np.ndarray, fmt: str) -> bytes:
    """float32 (frames, channels) → interleaved PCM bytes, clipped to full scale.

    Scaled, then clipped to the largest and smallest code, in float64 for the 32-bit
    formats (float32 cannot hold 2³¹ − 1: +1.0 would wrap round to the most negative
    code); np.minimum and np.maximum because numpy 1.24's np.clip costs four times more."""
    dtype, scale, shift = _FORMATS[fmt]
    x = np.multiply(block, scale, dtype=np.float64 if scale > 2.0**24 else np.float32)
    np.minimum(x, scale - 2.0 ** shift, out=x)
    np.maximum(x, -scale, out=x)
    x = x.astype(dtype)
    if shift:
        x = np.right_shift(x, shift)
    return x.tobytes()


class AlsaCapture:
    """A capture PCM read by its own thread; blocks reach the loop through a bounded inbox."""

    def __init__(self, device: str, loop: asyncio.AbstractEventLoop, rate: int = 48000,
                 channels: int = 2, fmt: str = "S32_LE", period: int = 1024) -> None:
        _check_format(fmt)
        self.device, self.loop = device, loop
        self.rate, self.channels, self.format, self.period = rate, channels, fmt, period
        self.overruns = 0
        self.blocks = 0
        self._pcm: Any = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._cb: BlockCallback | None = None
        self.block_start: float | None = None  # the time of the delivered block's first frame
        self.late_drops = 0  # blocks dropped because the loop did not take them in time
        self._inbox: collections.deque[tuple[np.ndarray, float]] = collections.deque()
        self._inbox_lock = threading.Lock()
        self._drain_posted = False
        self._dropping = 0  # blocks dropped since the inbox was last empty

    @property
    def buffer_time(self) -> float:
        return PERIODS * self.period / self.rate

    @property
    def backlog_blocks(self) -> int:
        """How many read blocks may wait for the loop before the oldest is dropped."""
        return max(2, math.ceil(BACKLOG * self.rate / self.period))

    def start(self, on_block: BlockCallback) -> None:
        self._cb = on_block
        try:
            self._pcm = _open(self.device, True, self.rate, self.channels, self.format,
                              self.period)
        except Exception as exc:
            raise BoardError(f"cannot open ALSA capture {self.device!r} ({exc}): is the ADC's "
                             "overlay in /boot/firmware/config.txt?") from exc
        self._running.set()
        self._thread = threading.Thread(target=self._read, name="alsa-capture", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        last: float | None = None
        origin: float | None = None  # when frame 0 of this unbroken run was captured
        frames = 0
        while self._running.is_set():
            try:
                length, raw = self._pcm.read()
            except Exception as exc:
                self._overrun(str(exc))
                self._reopen()
                last = origin = None
                continue
            now = time.monotonic()
            if length < 0:
                self._overrun(f"read returned {length}")  # EPIPE: already re-prepared
                last = origin = None
                continue
            if length == 0:
                continue
            if last is not None and now - last > self.buffer_time:
                self._overrun(f"{(now - last) * 1000:.0f} ms between periods")
                origin = None
            last = now
            if origin is None:  # the block's last frame was captured about now
                origin, frames = now - length / self.rate, 0
            start = origin + frames / self.rate  # the sample clock, not the read's arrival
            frames += length
            self.blocks += 1
            self._offer(decode(raw, self.format, self.channels), start)

    def _offer(self, block: np.ndarray, start: float) -> None:
        """On the reader thread: into the inbox, and wake the loop if nothing woke it yet."""
        with self._inbox_lock:
            dropped = len(self._inbox) >= self.backlog_blocks
            if dropped:
                self._inbox.popleft()
                self._dropping += 1
            first_drop = dropped and self._dropping == 1
            self._inbox.append((block, start))
            post = not self._drain_posted
            self._drain_posted = True
        if dropped:
            self.late_drops += 1
            self.overruns += 1
            if first_drop:
                log.warning("capture %s: the loop is more than %.2f s behind; dropping the "
                            "oldest blocks until it catches up", self.device, BACKLOG)
        if post and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """In the loop: deliver one block, and come back on the next turn for the next."""
        with self._inbox_lock:
            item = self._inbox.popleft() if self._inbox else None
            more = bool(self._inbox)
            self._drain_posted = more
            caught_up = 0
            if not more:  # the inbox is empty: whatever was dropped is behind us
                caught_up, self._dropping = self._dropping, 0
        if more:
            self.loop.call_soon(self._drain)
        if caught_up:
            log.warning("capture %s: the loop caught up; %d blocks were dropped", self.device,
                        caught_up)
        if item is not None:
            self._deliver(*item)

    def _overrun(self, why: str) -> None:
        self.overruns += 1
        log.warning("capture overrun on %s (%s): recovered", self.device, why)

    def _reopen(self) -> None:
        """After a hard read error: wait a period, then open the PCM afresh."""
        time.sleep(self.period / self.rate)
        try:
            self._pcm.close()
            self._pcm = _open(self.device, True, self.rate, self.channels, self.format,
                              self.period)
        except Exception as exc:
            log.error("cannot reopen capture %s (%s): retrying", self.device, exc)

    def _deliver(self, block: np.ndarray, start: float) -> None:
        if self._cb is not None and self._running.is_set():
            self.block_start = start
            self._cb(block)

    def stop(self) -> None:
        """Stop reading; the PCM is closed once the reader thread is out of its read."""
        self._running.clear()
        if self._thread:
            self._thread.join(timeout=2)
            if self._thread.is_alive():
                log.error("capture %s: reader stuck in read(); leaving the PCM open",
                          self.device)
                return
        if self._pcm is not None:
            self._pcm.close()
            self._pcm = None
        with self._inbox_lock:
            self._inbox.clear()
            self._dropping = 0


class AlsaPlayback:
    """A playback PCM. write() queues for the writer thread, which owns the PCM from open to close.

    Opening on the writer thread keeps plugins that talk D-Bus (bluealsa:) off
    the loop's thread. A full queue (the device stalled) drops the oldest block
    and counts it in `dropped`.
    """

    def __init__(self, device: str, rate: int = 48000, channels: int = 2, fmt: str = "S16_LE",
                 period: int = 1024, queue_periods: int = 8) -> None:
        _check_format(fmt)
        self.device, self.rate, self.channels, self.format = device, rate, channels, fmt
        self.period = period
        self.underruns = 0
        self.dropped = 0
        self.frames_written = 0
        self._pcm: Any = None
        self._queue: list[bytes] = []
        self._max = queue_periods
        self._cond = threading.Condition()
        self._running = True
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name="alsa-playback", daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._error is not None:
            raise BoardError(f"cannot open ALSA playback {device!r} ({self._error}): is the "
                             "DAC's overlay in /boot/firmware/config.txt?") from self._error

    def write(self, block: np.ndarray) -> None:
        data = encode(block, self.format)
        with self._cond:
            if len(self._queue) >= self._max:
                self._queue.pop(0)
                self.dropped += 1
            self._queue.append(data)
            self._cond.notify()

    def _write(self) -> None:
        try:
            self._pcm = _open(self.device, False, self.rate, self.channels, self.format,
                              self.period)
        except Exception as exc:
            self._error = exc
            return
        finally:
            self._opened.set()
        frame_bytes = self.channels * np.dtype(_FORMATS[self.format][0]).itemsize
        while True:
            with self._cond:
                while self._running and not self._queue:
                    self._cond.wait()
                if not self._queue and not self._running:
                    break
                data = self._queue.pop(0)
            try:
                if self._pcm.write(data) < 0:
                    self.underruns += 1
                else:
                    self.frames_written += len(data) // frame_bytes
            except Exception:
                self.underruns += 1
        self._pcm.close()
        self._pcm = None

    def drain(self) -> None:
        """Wait until everything written so far went to alsa-lib, then close the PCM."""
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join(timeout=10)

    def close(self) -> None:
        self.drain()
