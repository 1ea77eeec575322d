"""Stand-ins for the PCM streams in the chain benchmarks: what the loop's thread does, no I/O.

The capture end only records the callback (the benchmark feeds blocks itself); the
playback end encodes each block as AlsaPlayback.write does on the loop's thread.
"""

from __future__ import annotations

import numpy as np

RATE = 48000


class Capture:
    rate, channels, period, overruns = RATE, 2, 1024, 0

    def start(self, cb: object) -> None:
        self.cb = cb

    def stop(self) -> None: ...


class DacBytes:
    """What AlsaPlayback.write does on the loop's thread: encode and hand over."""

    rate, channels, period, underruns = RATE, 2, 1024, 0

    def __init__(self) -> None:
        from capstan.board.alsa import encode

        self.encode, self.last = encode, b""

    def write(self, block: np.ndarray) -> None:
        self.last = self.encode(block, "S16_LE")

    def close(self) -> None: ...
