"""The tape into the USB gadget's sound card: what the computer records.

The gadget's UAC2 function makes an ALSA card on the player ("UAC2Gadget"); what the
player plays into it, the computer records (48 kHz, 16-bit stereo). `UsbAudio` takes
every block from the audio chain's analysis tap (after the tape EQ and the noise
reduction, before volume and mute: the same signal the digitizer writes), while the
jack plays as ever. The PCM is opened, written and closed by its own thread, non-
blocking, a card period (1024 frames) at a time into a 16-period buffer: the gadget's
card only moves while the computer records, and a block the card has no room for is
dropped and counted (`dropped`), never waited for; after an underrun the PCM is opened
afresh. A card that
is not there (the gadget is not up yet) is looked for again every RETRY seconds.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from capstan.board.alsa import encode

log = logging.getLogger(__name__)

DEVICE = "hw:CARD=UAC2Gadget,DEV=0"
FORMAT = "S16_LE"
RETRY = 5.0  # s between looks for a missing card
QUEUE = 8  # blocks


PCM_PERIOD = 1024  # frames: what the gadget's card takes; blocks are written in pieces
PCM_PERIODS = 16  # 341 ms of buffer (the card's most: 64 KiB), several player blocks


def open_gadget_pcm(device: str, rate: int, channels: int, period: int) -> Any:
    """A non-blocking playback PCM on the gadget's card (pyalsaaudio)."""
    from capstan.board.alsa import open_pcm

    return open_pcm(device, False, rate, channels, FORMAT, PCM_PERIOD, periods=PCM_PERIODS,
                    nonblock=True)


class UsbAudio:
    """Feed the tap's blocks to the gadget's PCM from a writer thread."""

    def __init__(self, tap: Any, rate: int, channels: int, period: int,
                 device: str = DEVICE,
                 opener: Callable[[str, int, int, int], Any] = open_gadget_pcm,
                 wait: Callable[[threading.Event, float], bool] | None = None) -> None:
        self.tap, self.device = tap, device
        self.rate, self.channels, self.period = rate, channels, period
        self._opener = opener
        self._wait = wait or (lambda ev, s: ev.wait(s))
        self.frames_written = 0
        self.dropped = 0
        self.opened = 0
        self.error: str | None = None
        self._queue: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="usb-audio", daemon=True)
        self._thread.start()
        self._unsubscribe = self.tap.subscribe(self._on_block)

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _on_block(self, block: np.ndarray, t: float) -> None:
        """In the loop: encode and queue (the oldest block goes if the queue is full)."""
        data = encode(block, FORMAT)
        with self._cond:
            if len(self._queue) >= QUEUE:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(data)
            self._cond.notify()

    def _run(self) -> None:
        pcm = None
        try:
            while not self._stop.is_set():
                if pcm is None:
                    try:
                        pcm = self._opener(self.device, self.rate, self.channels, self.period)
                        self.opened += 1
                        self.error = None
                        log.info("USB audio: playing the tape into %s", self.device)
                    except Exception as exc:
                        if self.error is None:
                            log.warning("USB audio: no gadget card %s yet (%s); looking "
                                        "again every %.0f s", self.device, exc, RETRY)
                        self.error = str(exc)
                        self._wait(self._stop, RETRY)
                        continue
                with self._cond:
                    while not self._queue and not self._stop.is_set():
                        self._cond.wait()
                    if self._stop.is_set():
                        break
                    data = self._queue.popleft()
                try:
                    n = self._write_pieces(pcm, data)
                except Exception as exc:  # the card went away (gadget down): look again
                    log.warning("USB audio: %s failed (%s)", self.device, exc)
                    self._close(pcm)
                    pcm = None
                    continue
                if n < 0:  # an underrun (the computer read faster): start afresh
                    self.dropped += 1
                    self._close(pcm)
                    pcm = None
                elif n == 0:  # no room: the computer is not recording
                    self.dropped += 1
        finally:
            if pcm is not None:
                self._close(pcm)

    def _write_pieces(self, pcm: Any, data: bytes) -> int:
        """Write `data` a PCM period at a time: frames taken, 0 if none, < 0 on an underrun."""
        step = PCM_PERIOD * 2 * self.channels
        taken = 0
        for i in range(0, len(data), step):
            n = pcm.write(data[i:i + step])
            if n < 0:
                return n
            if n == 0:
                break
            taken += n
            self.frames_written += n
        return taken

    @staticmethod
    def _close(pcm: Any) -> None:
        try:
            pcm.close()
        except Exception:
            pass

    def status(self) -> dict[str, Any]:
        return {"device": self.device, "open": self.error is None and self.opened > 0,
                "frames_written": self.frames_written, "dropped": self.dropped,
                "error": self.error}
