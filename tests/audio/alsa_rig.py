"""Real alsa-lib for tests: an asoundrc of `file` plugins over `null`, and a FIFO writer thread.

The capture's `infile` is a FIFO, which a writer thread fills at real-time pace: the
only real-time waiting in the audio tests, and each use is at most ~2 s of audio. (A
regular file would be read as fast as the CPU allows, with nothing to pace it.)
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest


def write_asoundrc(directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """PCMs: cap_fifo (infile = a FIFO) and play_file (→ out.raw)."""
    paths = {"fifo": directory / "capture.fifo", "out": directory / "out.raw"}
    os.mkfifo(paths["fifo"])
    rc = directory / "asoundrc"
    rc.write_text(
        f'pcm.cap_fifo {{ type file; slave.pcm {{ type null }}; file "/dev/null"; '
        f'infile "{paths["fifo"]}"; format "raw" }}\n'
        f'pcm.play_file {{ type file; slave.pcm {{ type null }}; file "{paths["out"]}"; '
        f'format "raw"; truncate true }}\n')
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(rc))
    return paths


class FifoWriter(threading.Thread):
    """Writes `data` into a FIFO one period at a time at real-time pace, then silence until
    stop(). `stall` = (after this many bytes, for this many seconds) holds the FIFO still."""

    def __init__(self, fifo: Path, data: bytes, period_bytes: int, period_seconds: float,
                 stall: tuple[int, float] | None = None) -> None:
        super().__init__(name="fifo-writer", daemon=True)
        self.fifo, self.data, self.period_bytes = fifo, data, period_bytes
        self.period_seconds, self.stall = period_seconds, stall
        self._halt = threading.Event()
        self.written = 0

    def run(self) -> None:
        with open(self.fifo, "wb", buffering=0) as f:  # blocks until the PCM opens its infile
            due = time.monotonic()
            pos, stalled = 0, False
            while not self._halt.is_set():
                if self.stall and not stalled and pos >= self.stall[0]:
                    stalled = True
                    time.sleep(self.stall[1])
                    due = time.monotonic()
                chunk = self.data[pos:pos + self.period_bytes]
                if len(chunk) < self.period_bytes:
                    chunk += bytes(self.period_bytes - len(chunk))
                try:
                    f.write(chunk)
                except BrokenPipeError:
                    return
                pos += self.period_bytes
                self.written = pos
                due += self.period_seconds
                time.sleep(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
