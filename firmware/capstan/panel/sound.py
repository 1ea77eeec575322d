"""The laptop's speaker: a tee on the simulated jack, and the jack's level meter.

The simulated board's jack (SimPlayback) feeds the record head and, in a
scenario, a WAV file. On the panel `JackTee` stands in its place: every block
goes to the simulated jack as before, then — muted exactly when the DAC's
soft-mute line is low — to the laptop's sound card (ALSA "default") or, when
that cannot be opened, to a WAV file, and through a peak/RMS meter.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from capstan.hardware.protocols import PlaybackStream
from capstan.sim.wavfile import WavWriter

log = logging.getLogger(__name__)

FLOOR_DB = -60.0  # the bottom of the meter scale
FALL_DB_PER_S = 24.0  # how fast a peak reading falls back (a PPM-like return)


class Speaker(Protocol):
    def write(self, block: np.ndarray) -> None: ...

    def close(self) -> None: ...


class WavSpeaker:
    """What would have gone to the sound card, written to a WAV file instead."""

    def __init__(self, path: Path, rate: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._writer = WavWriter(path, rate)

    def write(self, block: np.ndarray) -> None:
        self._writer.write(block)

    def close(self) -> None:
        self._writer.close()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """alsa-lib prints its complaints on fd 2, straight across a full-screen terminal."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def open_speaker(device: str | None, rate: int, period: int,
                 fallback: Path) -> tuple[Speaker, str]:
    """The sound card's `device` if it opens, else a WAV file at `fallback`; and words for it."""
    if device:
        try:
            from capstan.board.alsa import AlsaPlayback

            with _quiet_stderr():
                pcm = AlsaPlayback(device, rate=rate, channels=2, fmt="S16_LE", period=period)
            return pcm, f"sound card (ALSA {device})"
        except Exception as exc:  # no card, no alsa-lib, device busy: a file will do
            log.info("ALSA %s did not open (%s): writing %s", device, exc, fallback)
    return WavSpeaker(fallback, rate), f"file {fallback}"


class LevelMeter:
    """Peak (with a falling return) and RMS of each channel, in dBFS."""

    def __init__(self, clock: Callable[[], float], channels: int = 2) -> None:
        self._clock = clock
        self.peak_db = [FLOOR_DB] * channels
        self.rms_db = [FLOOR_DB] * channels
        self._t = clock()
        self.blocks = 0

    def feed(self, block: np.ndarray) -> None:
        now = self._clock()
        fall = FALL_DB_PER_S * max(now - self._t, 0.0)
        self._t = now
        self.blocks += 1
        for ch in range(min(block.shape[1], len(self.peak_db))):
            x = block[:, ch]
            peak = _db(float(np.max(np.abs(x))) if len(x) else 0.0)
            rms = _db(math.sqrt(float(np.mean(np.square(x, dtype=np.float64)))) if len(x)
                      else 0.0)
            self.peak_db[ch] = max(peak, self.peak_db[ch] - fall)
            self.rms_db[ch] = rms


def _db(x: float) -> float:
    return max(FLOOR_DB, 20 * math.log10(x)) if x > 0 else FLOOR_DB


class JackTee:
    """A PlaybackStream: the simulated jack, plus the laptop's speaker and a meter."""

    def __init__(self, jack: PlaybackStream, speaker: Speaker, meter: LevelMeter,
                 muted: Callable[[], bool]) -> None:
        self.jack, self.speaker, self.meter, self._muted = jack, speaker, meter, muted
        self.rate, self.channels, self.period = jack.rate, jack.channels, jack.period
        self.headphones_block: np.ndarray | None = None

    @property
    def underruns(self) -> int:
        return self.jack.underruns

    def write(self, block: np.ndarray) -> None:
        self.jack.write(block)
        heard = np.zeros_like(block) if self._muted() else block
        self.meter.feed(heard)
        extra, self.headphones_block = self.headphones_block, None
        if extra is not None and extra.shape == heard.shape:
            heard = heard + extra  # the headphones' block of this period (HeadphonesTee)
        try:
            self.speaker.write(heard)
        except Exception:  # the sound card went away: the deck plays on
            log.exception("the speaker failed; the panel goes on without sound")
            self.speaker = _Silent()

    def close(self) -> None:
        try:
            self.speaker.close()
        finally:
            self.jack.close()


class HeadphonesTee:
    """A PlaybackStream: the simulated headphones' output on the panel.

    Each block goes through the headphones' meter and to the laptop's speaker. The
    speaker has one writer, the jack's tee: the chain writes the active output first and
    then the jack (silence while the headphones play), so the block waits here for the
    tee to mix it into that same period's write.
    """

    underruns = 0

    def __init__(self, tee: JackTee, meter: LevelMeter) -> None:
        self.tee, self.meter = tee, meter
        self.rate, self.channels, self.period = tee.rate, tee.channels, tee.period

    def write(self, block: np.ndarray) -> None:
        self.meter.feed(block)
        self.tee.headphones_block = block

    def close(self) -> None:
        self.tee.headphones_block = None


class _Silent:
    def write(self, block: np.ndarray) -> None:
        pass

    def close(self) -> None:
        pass
