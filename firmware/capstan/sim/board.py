"""The simulated board: the same pins, bus and PCM streams, wired to capstan.sim.deck.SimDeck.

`open_sim_board()` is what `board.open_board("sim")` returns: the gpiozero pin layer
over the deck's pin factory (`board.open_gpio`, the same as the Pi's), the LED driver
chip on the deck's I2C bus, and the capture and playback streams below.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from capstan.board import Board, leds_on_driver, open_gpio
from capstan.chips.pca9685 import LedDriver
from capstan.hardware.description import BoardDescription
from capstan.hardware.protocols import BlockCallback
from capstan.sim.deck import SimDeck
from capstan.sim.wavfile import WavWriter


def open_sim_board(description: BoardDescription, loop: asyncio.AbstractEventLoop,
                   period: int, jack_wav: Path | None = None, deck: Any = None,
                   seed: int = 0) -> Board:
    """The board on a simulated deck (`deck`, else a new one with `seed`)."""
    deck = deck or SimDeck(description, loop, seed=seed)
    pins = open_gpio(deck.factory, description, loop)  # the deck's pins tick in its own time
    # The factory's pull-ups would otherwise override the levels the deck set up.
    deck.resync_inputs()
    return Board(
        kind="sim", description=description,
        leds=leds_on_driver(LedDriver, deck.i2c, description),
        i2c=deck.i2c, capture=SimCapture(deck, loop, period),
        playback=SimPlayback(deck, loop, period, jack_wav), deck=deck,
        edges_until=deck.edges_until, **pins,
    )


class SimCapture:
    """Capture from the simulated ADC: one block per period of simulated time."""

    def __init__(self, deck: SimDeck, loop: asyncio.AbstractEventLoop, period: int) -> None:
        self.deck = deck
        self.loop = loop
        self.rate = deck.rate
        self.channels = 2
        self.period = period
        self.overruns = 0
        self._cb: BlockCallback | None = None
        self._next = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.block_start: float | None = None  # the time of the delivered block's first frame

    def start(self, on_block: BlockCallback) -> None:
        self._cb = on_block
        self._next = self.loop.time() + self.period / self.rate
        self._timer = self.loop.call_at(self._next, self._tick)

    def _tick(self) -> None:
        dt = self.period / self.rate
        t0 = self._next - dt
        self._next += dt
        self._timer = self.loop.call_at(self._next, self._tick)
        if self.deck.overruns_pending:
            self.deck.overruns_pending -= 1
            self.overruns += 1
            return
        block = self.deck.render_capture(t0, self.period)
        if self._cb is not None:
            self.block_start = t0  # its place on the sample clock, however late the loop is
            self._cb(block)

    def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None


class SimPlayback:
    """Playback into the simulated DAC: heard at the jack (a WAV file) and fed to the record amp."""

    def __init__(self, deck: SimDeck, loop: asyncio.AbstractEventLoop, period: int,
                 wav: Path | None = None, feeds_record_head: bool = True,
                 dac_pin: str | None = "dac_unmute") -> None:
        """`dac_pin`: the soft-mute output that silences this stream (None: not a DAC)."""
        self.deck = deck
        self.loop = loop
        self.rate = deck.rate
        self.channels = 2
        self.period = period
        self.underruns = 0
        self.feeds_record_head = feeds_record_head
        self.dac_pin = dac_pin
        self._writer = WavWriter(wav, self.rate) if wav else None
        self._start = loop.time()
        self._frames = 0

    @property
    def path(self) -> Path | None:
        return self._writer.path if self._writer else None

    def write(self, block: np.ndarray) -> None:
        now = self.loop.time()
        due = int((now - self._start) * self.rate) - self.period
        if self._frames < due:  # the stream ran dry: the DAC played silence meanwhile
            self.underruns += 1  # (what went on tape meanwhile was past the head already)
            self._emit(np.zeros((due - self._frames, 2), np.float32), now, record=False)
        if self.dac_pin and not self.deck.outputs.get(self.dac_pin):
            block = np.zeros_like(block)
        self._emit(block, now)

    def _emit(self, block: np.ndarray, now: float, record: bool = True) -> None:
        if self._writer:
            self._writer.write(block)
        self._frames += len(block)
        if record and self.feeds_record_head:
            self.deck.play_out(now, block)

    def close(self) -> None:
        if self._writer:
            self._writer.close()
