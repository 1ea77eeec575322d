"""The hardware boundary: small Protocols, each with a real and a simulated implementation.

Levels here are electrical (True = high); devices/ own polarity and vocabulary.
Callbacks always run inside the event loop; implementations that see edges on
other threads post them with ``call_soon_threadsafe``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

EdgeCallback = Callable[[bool, float], None]
"""Called in the loop with (level, time of the edge in loop seconds)."""

BlockCallback = Callable[[np.ndarray], None]
"""Called in the loop with one captured block: float32, shape (frames, channels), -1..1."""


class DigitalIn(Protocol):
    pin: int

    def read(self) -> bool:
        """The line's level now (True = high)."""
        ...

    def watch(self, callback: EdgeCallback | None) -> None:
        """Deliver every edge into the loop; None stops watching."""
        ...

    def close(self) -> None: ...


class DigitalOut(Protocol):
    def write(self, value: bool) -> None: ...

    @property
    def value(self) -> bool: ...

    def close(self) -> None: ...


class PwmOut(Protocol):
    def write(self, duty: float) -> None:
        """Duty cycle 0..1."""
        ...

    @property
    def value(self) -> float: ...

    def close(self) -> None: ...


class I2CBus(Protocol):
    """The subset of smbus2.SMBus that the chip drivers use. Failures raise OSError."""

    def read_byte_data(self, i2c_addr: int, register: int) -> int: ...

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None: ...

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]: ...

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None: ...

    def close(self) -> None: ...


class CaptureStream(Protocol):
    """A PCM capture stream delivering blocks into the loop."""

    rate: int
    channels: int
    period: int
    overruns: int
    # The time of the first frame of the block being delivered, on the loop's clock: from
    # the stream's sample count (its position), not from when the loop got to the block.
    block_start: float | None

    def start(self, on_block: BlockCallback) -> None: ...

    def stop(self) -> None: ...


class PlaybackStream(Protocol):
    """A PCM playback stream; write() never blocks the loop."""

    rate: int
    channels: int
    period: int
    underruns: int

    def write(self, block: np.ndarray) -> None:
        """float32 (frames, channels) -1..1."""
        ...

    def close(self) -> None: ...
