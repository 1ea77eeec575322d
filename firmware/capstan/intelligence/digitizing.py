"""Digitizing: what plays goes to FLAC on the data partition, one file per track, the
take's TOC as a cue sheet. Off unless `[intelligence] digitize = true` (or
`TapeIntelligence.digitizer.enable()`, for the control socket).

A take is one continuous play, in its own directory `take-NNN/` under
`[intelligence] digitize_dir` ("" = <state_dir>/tapes). Audio is held back `HOLD_S`
so a boundary the track detector reports a little after the sound returned still
splits the files at the gap's end. Every file operation runs on one worker thread, in
order (fsync and FLAC encoding never stall the loop); capstan.analysis.digitizer makes
them safe against a power cut, and `recover()` runs over every take at start.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from capstan.analysis.digitizer import FlacEncoder, TrackWriter, WavEncoder, recover
from capstan.analysis.tracks import Track
from capstan.intelligence.events import Digitized

log = logging.getLogger(__name__)

HOLD_S = 0.5  # s of audio held back before it is written


class Digitizer:
    def __init__(self, ears: Any) -> None:
        self.ears = ears
        config = ears.config
        self.enabled = bool(config.get("digitize", False))
        chosen = str(config.get("digitize_dir", ""))
        self.directory = Path(chosen) if chosen else (
            Path(ears.player.config["player"]["state_dir"]) / "tapes")
        self.encoder = WavEncoder() if config.get("digitize_format") == "wav" else FlacEncoder()
        self._pool: ThreadPoolExecutor | None = None
        self._writer: TrackWriter | None = None
        self._take: Path | None = None
        self._tracks: list[list[float]] = []  # [start, end] tape positions, per file
        self._held: deque[tuple[np.ndarray, float]] = deque()
        self._end = 0.0

    # life ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.enabled:
            self._open()

    def enable(self, on: bool = True) -> None:
        """Turn digitizing on or off while the player runs (a take in progress ends)."""
        if not on:
            self.pause()
        self.enabled = on
        if on and self._pool is None:
            self._open()

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for take in sorted(p for p in self.directory.glob("take-*") if p.is_dir()):
            for path in recover(take, self.encoder):
                self.ears.publish(Digitized("recovered", str(path)))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="capstan-digitizer")

    def stop(self) -> None:
        self.pause()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def drain(self) -> None:
        """Wait until every file operation queued so far is done (a test's "now the disk")."""
        if self._pool is not None:
            self._pool.submit(lambda: None).result()

    def status(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "directory": str(self.directory),
                "take": None if self._take is None else str(self._take),
                "track": len(self._tracks) if self._writer is not None else None}

    # the work, in order on the worker ---------------------------------------------
    def _submit(self, fn: Any, *args: Any) -> None:
        assert self._pool is not None
        self._pool.submit(fn, *args).add_done_callback(_log_failure)

    def feed(self, block: np.ndarray, position: float) -> None:
        if (not self.enabled or self._pool is None or self.ears.search.active
                or position < self.ears.leader):  # the leader holds no music
            return
        if self._writer is None:
            self._begin(position)
        self._held.append((np.array(block, dtype=np.float32), position))
        self._end = position + len(block) / self.ears.rate
        while self._held and self._held[0][1] < self._end - HOLD_S:
            self._write(self._held.popleft()[0])

    def _write(self, block: np.ndarray) -> None:
        assert self._writer is not None
        self._submit(self._writer.write, block)

    def _begin(self, position: float) -> None:
        assert self._pool is not None
        numbers = [int(p.name.split("-")[1]) for p in self.directory.glob("take-*")
                   if p.name.split("-")[1].isdigit()]
        self._take = self.directory / f"take-{max(numbers, default=0) + 1:03d}"
        self._take.mkdir(parents=True)
        channels = self.ears.player.audio.capture.channels
        self._writer = TrackWriter(self._take, self.ears.rate, channels, self.encoder)
        self._tracks = [[position, position]]
        self._submit(self._writer.start_track, 1, round(position, 3))

    def boundary(self, start: float) -> None:
        """A track starts at tape position `start`: the file changes there."""
        writer = self._writer
        if writer is None or start <= self._tracks[-1][0] + 1.0:
            return
        while self._held:
            block, pos = self._held.popleft()
            split = round((start - pos) * self.ears.rate)
            if split >= len(block):
                self._write(block)
                continue
            if split > 0:
                self._write(block[:split])
            self._held.appendleft((block[max(0, split):], max(pos, start)))
            break
        number = len(self._tracks)
        self._tracks[-1][1] = start
        self._submit(writer.end_track)
        self.ears.publish(Digitized("track", str(self._take / f"{number:02d}"
                                                  f"{self.encoder.suffix}"), number))
        self._tracks.append([start, start])
        self._submit(writer.start_track, number + 1, round(start, 3))

    def pause(self) -> None:
        """Play stopped: the take ends (its last track and its cue sheet are written)."""
        writer = self._writer
        if writer is None:
            return
        while self._held:
            self._write(self._held.popleft()[0])
        number = len(self._tracks)
        self._tracks[-1][1] = self._end
        self._submit(writer.end_track)
        self.ears.publish(Digitized("track", str(self._take / f"{number:02d}"
                                                  f"{self.encoder.suffix}"), number))
        tracks = [Track(i + 1, s, e) for i, (s, e) in enumerate(self._tracks)]
        self._submit(writer.write_cue, tracks)
        self.ears.publish(Digitized("take", str(self._take / "side.cue"), number))
        self._writer, self._take = None, None


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("digitizing: %s (the take goes on; the file may be incomplete)", exc)
