"""Durable state: corrupt files recovered, writes atomic at every step, few writes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from capstan.events import EventBus
from capstan.sim.clock import SimulatedTimeLoop
from capstan.state import StateRecovered, StateStore
from capstan.state.store import StateError, encode

from .powercut import PowerCut, PowerCutDisk

OLD = {"volume": 0.5, "headphones": ["00:11:22:33:44:55"], "name": "Dänish mix"}
NEW = {"volume": 0.8, "headphones": ["00:11:22:33:44:55", "AA:BB:CC:DD:EE:FF"],
       "name": "B-side"}
DEFAULT = {"volume": 0.7, "headphones": []}


def store_with_events(directory: Path) -> tuple[StateStore, list[Any]]:
    events: list[Any] = []
    bus = EventBus(lambda: 0.0)
    bus.subscribe(lambda t, e: events.append(e))
    return StateStore(directory, bus), events


def test_round_trip_and_missing_file_gives_a_copy_of_the_default(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    got = store.load("settings", DEFAULT)
    assert got == DEFAULT and got is not DEFAULT
    assert store.save("settings", OLD)
    assert StateStore(tmp_path / "state").load("settings", DEFAULT) == OLD


def test_every_truncation_of_a_state_file_is_recovered(tmp_path: Path) -> None:
    content = encode("settings", OLD)
    for cut in range(len(content)):
        directory = tmp_path / f"cut{cut}"
        directory.mkdir()
        (directory / "settings.json").write_bytes(content[:cut])
        store, events = store_with_events(directory)
        if content[:cut].rstrip() == content.rstrip():  # only the final newline is gone
            assert store.load("settings", DEFAULT) == OLD and not events
            continue
        assert store.load("settings", DEFAULT) == DEFAULT, cut
        assert len(events) == 1 and isinstance(events[0], StateRecovered), cut
        assert not (directory / "settings.json").exists()
        assert (directory / "settings.json.bad-1").read_bytes() == content[:cut]
        # and the store works on: the next save and load are normal
        assert store.save("settings", NEW)
        assert StateStore(directory).load("settings", DEFAULT) == NEW


@pytest.mark.parametrize("garbage", [
    b"\x00" * 512, b"\xff\xfe\x00garbage", b"[]", b"null", b"{}", b'"settings"',
    b'{"capstan-state": 1, "name": "settings", "sha256": "00", "data": {}}',
    b'{"capstan-state": 2, "name": "settings", "sha256": "00", "data": {}}',
    encode("counter", OLD),  # another name's file copied over this one
    encode("settings", OLD).replace(b"0.5", b"0.6"),  # a flipped bit in the data
    os.urandom(4096),
])
def test_garbage_files_are_moved_aside_and_defaults_used(tmp_path: Path, garbage: bytes) -> None:
    (tmp_path / "settings.json").write_bytes(garbage)
    store, events = store_with_events(tmp_path)
    assert store.load("settings", DEFAULT) == DEFAULT
    (event,) = events
    assert event.name == "settings" and event.moved_to.endswith("settings.json.bad-1")
    assert event.reason  # in words


def test_an_unreadable_file_gives_defaults_and_an_event(tmp_path: Path) -> None:
    (tmp_path / "settings.json").mkdir()  # reading it fails with EISDIR
    store, events = store_with_events(tmp_path)
    assert store.load("settings", DEFAULT) == DEFAULT
    assert "cannot be read" in events[0].reason


def test_only_the_last_few_bad_files_are_kept(tmp_path: Path) -> None:
    for _ in range(6):
        (tmp_path / "counter.json").write_bytes(b"junk")
        StateStore(tmp_path).load("counter", 0)
    kept = sorted(p.name for p in tmp_path.glob("counter.json.bad-*"))
    assert kept == ["counter.json.bad-4", "counter.json.bad-5", "counter.json.bad-6"]


def test_a_save_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save("settings", OLD)
    store.save("settings", dict(OLD))
    assert store.writes == 1
    again = StateStore(tmp_path)
    again.load("settings", DEFAULT)
    again.save("settings", OLD)
    assert again.writes == 0


def test_save_soon_coalesces_frequent_changes_into_one_write(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    store = StateStore(tmp_path, loop=loop)

    async def count_for_a_minute() -> None:
        import asyncio

        for tenth in range(600):  # the counter changes every 100 ms for a minute
            store.save_soon("counter", {"cassette": True, "position": tenth / 10}, within=30.0)
            await asyncio.sleep(0.1)

    loop.run_until_complete(count_for_a_minute())
    assert store.writes == 2  # pending data is what load sees
    assert store.load("counter", {}) == {"cassette": True, "position": 59.9}
    store.flush()
    assert StateStore(tmp_path).load("counter", {}) == {"cassette": True, "position": 59.9}
    loop.close()


def test_names_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="bad state name"):
        StateStore(tmp_path).save("../etc/passwd", {})


def test_a_failed_write_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store, events = store_with_events(blocker / "state")
    assert store.save("settings", OLD) is False
    assert events[0].type == "state_not_saved"


def save_steps(tmp_path: Path) -> int:
    directory = tmp_path / "count"
    StateStore(directory).save("settings", OLD)
    disk = PowerCutDisk(directory)
    StateStore(directory, disk=disk).save("settings", NEW)
    return disk.steps


def test_a_write_cut_at_every_step_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    steps = save_steps(tmp_path)
    assert steps >= 5  # create, write, fsync, rename, fsync dir
    seen = set()
    for cut in range(steps + 1):
        directory = tmp_path / f"live{cut}"
        StateStore(directory).save("settings", OLD)
        disk = PowerCutDisk(directory, cut_at=cut)
        if cut < steps:
            with pytest.raises(PowerCut):
                StateStore(directory, disk=disk).save("settings", NEW)
        else:
            assert StateStore(directory, disk=disk).save("settings", NEW)
        # the process died: what the system sees
        store, events = store_with_events(directory)
        crashed = store.load("settings", DEFAULT)
        # the power went: what the card holds
        store2, events2 = store_with_events(disk.after_power_cut(tmp_path / f"card{cut}"))
        cut_off = store2.load("settings", DEFAULT)
        for got, ev in ((crashed, events), (cut_off, events2)):
            assert got in (OLD, NEW), (cut, got)
            assert ev == [], (cut, ev)  # never a torn file to recover from
            seen.add(json.dumps(got, sort_keys=True))
        assert not list(directory.glob(".*.tmp"))  # the leftover temp file is cleaned up
    assert len(seen) == 2


def test_the_power_cut_model_catches_a_write_without_fsync(tmp_path: Path) -> None:
    """The test above has teeth: a store that skips the file's fsync tears the file."""

    class Careless(StateStore):
        def _write(self, path: Path, content: bytes) -> None:
            tmp = self._temp(path)
            fd = self.disk.create(tmp)
            self.disk.write(fd, content)
            self.disk.close(fd)
            self.disk.replace(tmp, path)
            self.disk.sync_dir(self.directory)

    directory = tmp_path / "live"
    StateStore(directory).save("settings", OLD)
    disk = PowerCutDisk(directory)
    Careless(directory, disk=disk).save("settings", NEW)
    store, events = store_with_events(disk.after_power_cut(tmp_path / "card"))
    assert store.load("settings", DEFAULT) == DEFAULT
    assert events and isinstance(events[0], StateRecovered)
