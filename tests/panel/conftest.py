"""Fixtures for the front panel's tests: cassettes on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from capstan.hardware.description import BoardDescription
from capstan.sim.cassette import Cassette


@pytest.fixture
def make_cassette(tmp_path: Path, board: BoardDescription) -> Callable[..., Path]:
    def make(length: str = "C60", position: float = 0.0, name: str = "test") -> Path:
        c = Cassette.create(tmp_path / "cassettes" / name, board.mechanism, length, "I",
                            position=position)
        return c.directory

    return make
