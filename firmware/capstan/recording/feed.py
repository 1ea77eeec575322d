"""The record feed: the audio chain's insert while the recorder is armed or recording.

    line-in (or the playlist) ─► listen (track marks, sync start) ─► RecordLevel ─► gate ─► chain

The chain (audio/chain.py) calls the insert on every captured block, right after
its front end, so the meters read the record level and the DAC, which feeds both
the jack and the record amplifier, plays what goes on tape. The gate is the record
sequence's fader: shut while the relay is not yet engaged, faded in over
FEED_FADE once it is, faded out before the relay is released.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from capstan.audio.gain import GainRamp
from capstan.recording.level import RecordLevel

FEED_FADE = 0.03  # s: the record feed fades in and out over this

Listener = Callable[[np.ndarray, float], None]


class BlockSource:
    """Something that replaces line-in: `read(frames)` -> (frames, channels) float32."""

    def read(self, frames: int) -> np.ndarray:  # pragma: no cover - an interface
        raise NotImplementedError


class RecordFeed:
    def __init__(self, rate: int, channels: int = 2, clock: Callable[[], float] | None = None,
                 tape_type: str = "I",
                 block_start: Callable[[], float | None] | None = None) -> None:
        """`block_start()`: the time of the block's first frame by the capture's sample clock
        (None: `clock()` minus the block's length, the time it arrived)."""
        self.rate, self.channels = rate, channels
        self.clock = clock or (lambda: 0.0)
        self.block_start = block_start
        self.level = RecordLevel(rate, channels, tape_type)
        self.gate = GainRamp(0.0, FEED_FADE, rate)
        # the B-type encoder (audio/noise_reduction.py) when the cassette records with NR:
        # after the level and the fader, so the tape holds exactly the encoded feed
        self.encoder: Callable[[np.ndarray], np.ndarray] | None = None
        self.source: BlockSource | None = None
        self.listen: Listener | None = None
        self.blocks = 0

    def __call__(self, block: np.ndarray) -> np.ndarray:
        n = len(block)
        self.blocks += 1
        if self.source is not None:
            block = self.source.read(n)
        if self.listen is not None:
            start = self.block_start() if self.block_start is not None else None
            self.listen(block, start if start is not None else self.clock() - n / self.rate)
        y = self.level(block)
        gain = self.gate.render(n)
        if isinstance(gain, float):
            y = y if gain == 1.0 else y * np.float32(gain)
        else:
            y = y * gain
        return y if self.encoder is None else self.encoder(y)

    # the gate -------------------------------------------------------------
    def open(self) -> None:
        """Fade the feed in (the relay is engaged, or nothing is recorded: monitoring)."""
        self.gate.set(1.0)

    def close(self) -> None:
        """Fade the feed out over FEED_FADE."""
        self.gate.set(0.0)

    def shut(self) -> None:
        """Silence at once: only while the chain is muted anyway (a transport change)."""
        self.gate.jump(0.0)

    def monitor(self) -> None:
        """Open at once: only while the chain is muted anyway (it fades itself back in)."""
        self.gate.jump(1.0)

    @property
    def is_open(self) -> bool:
        return self.gate.target == 1.0
