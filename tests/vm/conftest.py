"""Fixtures of the virtual Pi (tools/vm-test): its header, I2C stub and loopback card.

These tests run only inside the guest, as root, on the kernel's gpio-sim, i2c-stub and
snd-aloop; tests/conftest.py keeps them out of the host's run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.vm.rig import BOARD_FILE, Header, load_chips, rest_inputs, stub_bus

from capstan.board.description import BoardDescription, load_board


@pytest.fixture(scope="session")
def vpi() -> BoardDescription:
    """hardware/virtual-pi.toml."""
    return load_board(BOARD_FILE)


@pytest.fixture
def header(vpi: BoardDescription) -> Iterator[Header]:
    """The gpio-sim header; every input back at rest after the test."""
    h = Header()
    rest_inputs(h, vpi)
    yield h
    rest_inputs(h, vpi)


@pytest.fixture
def chips() -> Iterator[dict[int, object]]:
    """The gauge's and the charger's power-on registers in i2c-stub (again after the test)."""
    models = load_chips()
    yield models
    load_chips()


@pytest.fixture
def i2c_bus() -> int:
    return stub_bus()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable working directory (lgpio makes its notification FIFO there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
