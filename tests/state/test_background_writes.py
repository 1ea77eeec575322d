"""The daemon's saves on a writer thread: the loop never waits on a stalled card."""

from __future__ import annotations

import asyncio
import errno
import threading
from pathlib import Path
from typing import Any

from capstan.events import EventBus
from capstan.sim.clock import SimulatedTimeLoop
from capstan.state import StateStore
from capstan.state.disk import Disk


class StalledCard(Disk):
    """fsync holds until released (an SD card busy with its wear levelling)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.syncing = threading.Event()
        self.fail = False

    def sync(self, fd: int) -> None:
        self.syncing.set()
        assert self.release.wait(10), "the test never released the card"
        if self.fail:
            raise OSError(errno.EIO, "Input/output error")
        super().sync(fd)


def _store(tmp_path: Path, loop: asyncio.AbstractEventLoop,
           disk: Disk) -> tuple[StateStore, list[Any]]:
    events: list[Any] = []
    bus = EventBus(loop.time)
    bus.subscribe(lambda t, e: events.append(e))
    return StateStore(tmp_path, bus, loop, disk=disk, background=True), events


def test_a_save_returns_while_the_card_holds_the_write_and_lands_after(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    card = StalledCard()
    store, _ = _store(tmp_path, loop, card)
    ran: list[str] = []

    async def script() -> None:
        assert store.save("counter", {"cassette": True, "position": 1.0})
        assert card.syncing.wait(5)  # the writer thread is inside fsync now
        loop.call_soon(ran.append, "a button")
        await asyncio.sleep(0)
        assert ran == ["a button"]  # the loop ran on while the card held the write
        assert not (tmp_path / "counter.json").exists()
        assert store.load("counter", None) == {"cassette": True, "position": 1.0}
        card.release.set()
        while store.writes == 0 and loop.time() < 30:
            await asyncio.sleep(0.01)

    loop.run_until_complete(script())
    loop.close()
    assert StateStore(tmp_path).load("counter", None) == {"cassette": True, "position": 1.0}


def test_saved_again_while_writing_the_newest_wins_and_flush_waits(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    card = StalledCard()
    store, _ = _store(tmp_path, loop, card)

    async def script() -> None:
        store.save("counter", {"cassette": True, "position": 1.0})
        assert card.syncing.wait(5)
        store.save("counter", {"cassette": True, "position": 2.0})
        store.save("counter", {"cassette": True, "position": 3.0})
        assert store.load("counter", None) == {"cassette": True, "position": 3.0}
        card.release.set()
        store.flush()  # on stop: everything on disk before the daemon ends

    loop.run_until_complete(script())
    loop.close()
    assert store.writes == 2  # the first, then only the newest
    assert StateStore(tmp_path).load("counter", None) == {"cassette": True, "position": 3.0}


def test_a_failed_background_write_is_told_and_tried_again_next_time(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    card = StalledCard()
    card.fail = True
    card.release.set()
    store, events = _store(tmp_path, loop, card)

    async def script() -> None:
        store.save("settings", {"volume": 0.5})
        while not events:
            await asyncio.sleep(0.01)
        card.fail = False
        store.save("settings", {"volume": 0.5})  # the same data: not taken as on disk
        store.flush()

    loop.run_until_complete(script())
    loop.close()
    assert [e.type for e in events] == ["state_not_saved"]
    assert "settings" in str(events[0]) and "Input/output error" in str(events[0])
    assert StateStore(tmp_path).load("settings", None) == {"volume": 0.5}


def test_told_only_once_it_is_on_the_card(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    card = StalledCard()
    store, _ = _store(tmp_path, loop, card)
    told: list[bool] = []

    async def script() -> None:
        store.save("cassette-current", {"toc": {"A": {"marks": [[12.5, "recorded"]]}}})
        store.when_written("cassette-current", lambda: told.append(
            (tmp_path / "cassette-current.json").exists()))
        assert card.syncing.wait(5)
        await asyncio.sleep(0)
        assert told == []  # a track mark is not announced before it is durable
        card.release.set()
        while not told and loop.time() < 30:
            await asyncio.sleep(0.01)

    loop.run_until_complete(script())
    loop.close()
    assert told == [True]
