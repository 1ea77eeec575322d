"""Blocks of any length into whole analysis frames, filled in place."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


class FrameFiller:
    """Cuts a stream of blocks (frames, channels) into frames of `size` samples.

    The frame is one buffer, samples along its last axis, filled in place by `copy(part,
    into)` (which also converts: the mean of the channels, the channels as rows), so what
    is already in it is never copied again. `feed` yields the buffer each time it is full;
    it is overwritten by the next one.
    """

    def __init__(self, frame: np.ndarray,
                 copy: Callable[[np.ndarray, np.ndarray], None]) -> None:
        self.frame = frame
        self.size = frame.shape[-1]
        self._copy = copy
        self._fill = 0

    def feed(self, block: np.ndarray) -> Iterator[np.ndarray]:
        pos, n = 0, len(block)
        while pos < n:
            take = min(self.size - self._fill, n - pos)
            self._copy(block[pos:pos + take], self.frame[..., self._fill:self._fill + take])
            self._fill += take
            pos += take
            if self._fill == self.size:
                self._fill = 0
                yield self.frame
