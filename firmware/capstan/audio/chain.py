"""The audio chain (foundation version): capture → volume → the active output.

The DAC's soft-mute line is held low (muted) until the chain runs and around
every transport change, so the jack never pops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from capstan.board.protocols import CaptureStream, PlaybackStream

Tap = Callable[[np.ndarray], None]


class AudioChain:
    def __init__(self, capture: CaptureStream, output: PlaybackStream, volume: float = 0.7) -> None:
        self.capture = capture
        self.output = output
        self.volume = volume
        self.taps: list[Tap] = []
        self.blocks = 0

    def start(self) -> None:
        self.capture.start(self._on_block)

    def _on_block(self, block: np.ndarray) -> None:
        self.blocks += 1
        for tap in self.taps:
            tap(block)
        self.output.write(block * np.float32(self.volume))

    def stop(self) -> None:
        self.capture.stop()
