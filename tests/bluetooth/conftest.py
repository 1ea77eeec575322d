"""Fixtures: a private system bus with the BlueZ mock (and the real BlueALSA), per test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from capstan.harness.bluez.daemons import (
    Daemon,
    start_bluealsa,
    start_bluez_mock,
    start_bus,
    stop_process,
)
from capstan.harness.bluez.mock import BluezMock


@pytest.fixture
def system_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    proc, address = start_bus(tmp_path)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    try:
        yield address
    finally:
        stop_process(proc)


@pytest.fixture
def bluez_mock(tmp_path: Path, system_bus: str) -> Iterator[Daemon]:
    """The BlueZ mock with one adapter, hci0."""
    mock = start_bluez_mock(tmp_path, system_bus)

    async def add_adapter() -> None:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        await BluezMock(bus).add_adapter()
        bus.disconnect()

    try:
        asyncio.run(add_adapter())
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def bluealsa(tmp_path: Path, system_bus: str, bluez_mock: Daemon) -> Iterator[Daemon]:
    """The real BlueALSA daemon, registered with the mock's adapter."""
    daemon = start_bluealsa(tmp_path, system_bus)
    try:
        yield daemon
    finally:
        daemon.stop()
