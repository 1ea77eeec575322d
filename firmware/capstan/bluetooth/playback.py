"""Playback to headphones through BlueALSA's ``bluealsa:`` ALSA PCM.

The PCM is opened, written and closed on a writer thread of its own: the
``bluealsa`` ALSA plugin talks D-Bus through libdbus, and the lab's lesson is
to keep it off the thread (the event loop) that owns the firmware's D-Bus
connection. ``write()`` only converts and queues, so it never blocks the loop;
when the queue is full (the headphones stalled) the oldest block is dropped
and counted.
"""

from __future__ import annotations

import logging
import queue
import threading

import numpy as np

from capstan.bluetooth.defs import bluealsa_pcm_name
from capstan.board.alsa import encode
from capstan.errors import HardwareFault

log = logging.getLogger(__name__)

_CLOSE = None


class BlueAlsaPlayback:
    """A :class:`capstan.hardware.protocols.PlaybackStream` to headphones at ADDRESS."""

    def __init__(self, address: str, rate: int = 48000, channels: int = 2, period: int = 1024,
                 queue_blocks: int = 8, device: str | None = None) -> None:
        self.address = address.upper()
        self.device = device or bluealsa_pcm_name(self.address)
        self.rate = rate
        self.channels = channels
        self.period = period
        self.underruns = 0
        self.dropped = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=queue_blocks)
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"bluealsa {self.address}",
                                        daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._error is not None:
            raise HardwareFault(f"cannot open {self.device}: {self._error}; are the headphones "
                                f"connected and bluealsa running?") from self._error

    def write(self, block: np.ndarray) -> None:
        """float32 (frames, channels) -1..1; queued for the writer thread."""
        pcm = encode(block, "S16_LE")  # as the jack's PCM: the same level on both outputs
        while True:
            try:
                self._queue.put_nowait(pcm)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def close(self) -> None:
        """Play out what is queued, then close the PCM (waits for the writer thread)."""
        if self._thread.is_alive():
            self._queue.put(_CLOSE)
            self._thread.join()

    def _run(self) -> None:
        import alsaaudio  # lazy: a laptop without alsa-lib never imports it

        from capstan.board.alsa import open_pcm

        try:
            pcm = open_pcm(self.device, False, self.rate, self.channels, "S16_LE",
                           self.period, periods=None)
        except alsaaudio.ALSAAudioError as exc:
            self._error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            while (data := self._queue.get()) is not _CLOSE:
                try:
                    if pcm.write(data) < 0:
                        self.underruns += 1
                except alsaaudio.ALSAAudioError as exc:
                    self.underruns += 1
                    log.warning("writing to %s failed: %s", self.device, exc)
            if hasattr(pcm, "drain"):
                pcm.drain()
        finally:
            pcm.close()
