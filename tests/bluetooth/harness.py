"""A HeadphonesService under test: its events, its memory and a fake audio layer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from capstan.bluetooth.reconnect import Backoff
from capstan.bluetooth.service import BluetoothConfig, HeadphonesService
from capstan.events import EventBus
from capstan.harness.bluez.mock import BluezMock

QUICK = BluetoothConfig(dwell=0.2, backoff=Backoff(first=0.05, ceiling=0.2))


@dataclass
class AudioLayer:
    """Records what the route seam tells the audio layer."""

    calls: list[tuple] = field(default_factory=list)

    def headphones_ready(self, address: str, pcm: str) -> None:
        self.calls.append(("ready", address, pcm))

    def headphones_lost(self, address: str, pause: bool) -> None:
        self.calls.append(("lost", address, pause))


@dataclass
class Rig:
    service: HeadphonesService
    mock: BluezMock
    events: list[dict]
    memory: list[list[str]]
    audio: AudioLayer

    @property
    def agent_owner(self) -> str:
        return self.service._bus.unique_name  # the bus name BlueZ calls the agent on

    def what(self, what: str) -> list[dict]:
        return [e for e in self.events if e.get("what") == what]


async def until(condition: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    """Let the loop run until CONDITION holds; fail the test if it never does.

    The limit only turns a hang into a failure; nothing is asserted about time.
    """
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def rig(known: list[str] = (), config: BluetoothConfig = QUICK) -> AsyncIterator[Rig]:
    loop = asyncio.get_running_loop()
    bus = EventBus(loop.time)
    events: list[dict] = []
    bus.subscribe(lambda t, e: events.append(e.to_dict()))
    memory: list[list[str]] = [list(known)]
    service = HeadphonesService(bus, load=lambda: memory[-1],
                                save=lambda a: memory.append(list(a)), config=config)
    audio = AudioLayer()
    service.route.subscribe(audio)
    control = await MessageBus(bus_type=BusType.SYSTEM, negotiate_unix_fd=True).connect()
    await service.start()
    try:
        yield Rig(service, BluezMock(control), events, memory, audio)
    finally:
        await service.stop()
        control.disconnect()
