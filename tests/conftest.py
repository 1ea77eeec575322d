"""Shared fixtures: a simulated session in a temporary directory, and boards and sessions
on a mechanism profile other than the reference."""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from capstan.hardware.description import DEFAULT_PATH, BoardDescription, load_board, parse_board
from capstan.harness.session import SimSession

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


@pytest.fixture(scope="session")
def profile_board() -> Callable[..., BoardDescription]:
    """The reference board file on another mechanism profile, with some of its
    [mechanism.<profile>] keys changed: `profile_board("crp42602y", reverse="one_round")`."""
    raw = tomllib.loads(DEFAULT_PATH.read_text())

    def build(profile: str, **table: object) -> BoardDescription:
        changed = copy.deepcopy(raw)
        changed["mechanism"]["profile"] = profile
        changed["mechanism"][profile].update(table)
        return parse_board(changed)
    return build


@pytest.fixture
def profile_session(tmp_path: Path, profile_board: Callable[..., BoardDescription]
                    ) -> Iterator[Callable[..., SimSession]]:
    """Simulated sessions on a profile's board (`profile_session("mechanical")`), closed
    at the end of the test."""
    made: list[SimSession] = []

    def build(profile: str, **table: object) -> SimSession:
        s = SimSession(tmp_path / f"s{len(made)}", board=profile_board(profile, **table))
        made.append(s)
        return s
    yield build
    for s in made:
        s.close()
