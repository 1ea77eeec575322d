"""A capture the test drives by hand and an output that keeps what it was given."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RATE = 48000


class HandCapture:
    rate, channels, period = RATE, 2, 1024

    def __init__(self) -> None:
        self.overruns = 0
        self.cb: Callable[[np.ndarray], None] | None = None

    def start(self, on_block: Callable[[np.ndarray], None]) -> None:
        self.cb = on_block

    def stop(self) -> None:
        self.cb = None

    def feed(self, block: np.ndarray) -> None:
        assert self.cb is not None
        self.cb(block)


class KeptOutput:
    rate, channels, period = RATE, 2, 1024

    def __init__(self, log: list[str] | None = None, name: str = "out") -> None:
        self.blocks: list[np.ndarray] = []
        self.underruns = 0
        self.log, self.name = log, name

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(np.array(block, np.float32))
        if self.log is not None:
            self.log.append(f"write {self.name}")

    def close(self) -> None: ...

    @property
    def signal(self) -> np.ndarray:
        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, 2), np.float32)


def tone(seconds: float, freq: float = 1000.0, dbfs: float = -12.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x], axis=1)


def largest_step(x: np.ndarray) -> float:
    return float(np.abs(np.diff(x, axis=0)).max()) if len(x) > 1 else 0.0
