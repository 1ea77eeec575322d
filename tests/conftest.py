"""Shared fixtures: a simulated session in a temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from capstan.board.description import BoardDescription, load_board
from capstan.sim.session import SimSession

# Hypothesis times its examples and their generation on the wall clock; on a machine that
# is busy those limits fail good tests. Properties are asserted, never speed (bench/ does).
settings.register_profile("capstan", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("capstan")

# tests/vm runs inside the virtual Pi (tools/vm-test), which sets CAPSTAN_VIRTUAL_PI.
if not os.environ.get("CAPSTAN_VIRTUAL_PI"):
    collect_ignore = ["vm"]


@pytest.fixture(scope="session")
def board() -> BoardDescription:
    return load_board()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[SimSession]:
    s = SimSession(tmp_path / "session")
    yield s
    s.close()
