"""Shared fixtures: a simulated session in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capstan.board.description import BoardDescription, load_board
from capstan.sim.session import SimSession


@pytest.fixture(scope="session")
def board() -> BoardDescription:
    return load_board()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[SimSession]:
    s = SimSession(tmp_path / "session")
    yield s
    s.close()
