"""State files of any shape and of any kind never stop the player.

Data of another layout (a list where an object belongs, a newer firmware's keys,
NaN-free but absurd numbers), JSON nested too deep to read, integers past Python's
digit limit, huge files, FIFOs, links into /dev/zero, directories and sockets in
a state file's place: each is moved aside with a `state_recovered` event, the
defaults are used, and the daemon starts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstan.analysis.fingerprint import Fingerprint
from capstan.board import open_board
from capstan.cassettes import CassetteMemory
from capstan.config import load_config
from capstan.deck.counter import TapeCounter
from capstan.events import EventBus
from capstan.hardware.description import load_board
from capstan.service.daemon import Daemon
from capstan.service.notify import Notifier
from capstan.sim.cassette import Cassette
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck
from capstan.state import StateRecovered, StateStore
from capstan.state.layouts import LAYOUTS, layout
from capstan.state.schema import SchemaError
from capstan.state.store import MAX_FILE, StateError

PRINT = base64.b64encode(bytes(range(32))).decode()  # two frames of a fingerprint
NAMES = ("counter", "volumes", "headphones", "cassettes", "cassette-current", "cassette-c1",
         "speed-trim", "update-shown", "nr-reference")
VALID: dict[str, Any] = {
    "counter": {"cassette": True, "length": "C60", "calibrated": True, "position": 312.5,
                "played": 40.0},
    "volumes": {"jack": 0.7, "00:11:22:33:44:55": 90},
    "headphones": ["00:11:22:33:44:55"],
    "cassettes": {"known": [{"id": "c1", "fingerprint": PRINT + "," + PRINT}], "next": 2},
    "cassette-current": {"toc": {"A": {"marks": [[61.0, "recorded"]], "start": 2.0,
                                       "end": None}, "B": None}},
    "cassette-c1": {"toc": {"A": {"marks": [], "start": None, "end": None}},
                    "speed_trim": 0.004, "nr": True},
    "speed-trim": {"speed_trim": -0.002},
    "update-shown": {"result": "ab" * 32},
    "nr-reference": {"reference": {"reference_dbfs": -12.04, "calibrated_at": 1780000000}},
}

json_leaf = (st.none() | st.booleans() | st.integers(-(10**20), 10**20)
             | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_data = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                         max_leaves=24)


def envelope(name: str, body: bytes) -> bytes:
    """A well-formed state file around raw JSON `body`, with its true checksum."""
    digest = hashlib.sha256(body).hexdigest()
    return (b'{"capstan-state": 1, "name": "' + name.encode() + b'", "sha256": "'
            + digest.encode() + b'", "data": ' + body + b"}")


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def recording_store(directory: Path) -> tuple[StateStore, list[StateRecovered]]:
    events: list[Any] = []
    bus = EventBus(lambda: 0.0)
    bus.subscribe(lambda t, e: events.append(e))
    return StateStore(directory, bus), events


def replace_somewhere(data: Any, new: Any, pick: int) -> Any:
    """`data` with one of its values (chosen by `pick`) replaced by `new`."""
    spots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            spots.append((node, key))
            walk(value)

    data = json.loads(json.dumps(data))
    walk(data)
    if not spots:
        return new
    node, key = spots[pick % len(spots)]
    node[key] = new
    return data


def consumers_work(directory: Path) -> None:
    """What the player does with its state at start, on what the store returns."""
    store = StateStore(directory)
    memory = CassetteMemory(store)
    memory.recall("c1")
    for _, text in memory.known_fingerprints():
        for part in text.split(","):
            Fingerprint.from_text(part)
    counter = TapeCounter(load_board().mechanism)
    saved = store.load("counter", None)
    if saved and saved.get("cassette"):
        counter.restore(saved)
    counter.reading()
    levels = store.load("volumes", {})
    assert all(isinstance(v, int | float) for v in levels.values())
    assert all(isinstance(a, str) for a in store.load("headphones", []))
    trim = store.load("speed-trim", {}).get("speed_trim")
    assert trim is None or abs(trim) <= 0.5
    store.load("update-shown", {}).get("result")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), new=json_data, pick=st.integers(0, 1000),
       whole=st.booleans())
def test_data_of_any_shape_is_taken_only_if_it_fits_else_moved_aside(
        tmp_path_factory: pytest.TempPathFactory, name: str, new: Any, pick: int,
        whole: bool) -> None:
    directory = tmp_path_factory.mktemp("state")
    data = new if whole else replace_somewhere(VALID[name], new, pick)
    content = envelope(name, json.dumps(data, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False).encode())
    path = directory / f"{name}.json"
    path.write_bytes(content)
    store, events = recording_store(directory)
    got = store.load(name, "DEFAULT")
    schema = layout(name)
    assert schema is not None
    try:
        schema.validate(data, "")
        fits = True
    except SchemaError:
        fits = False
    if fits:
        assert got == data and not events and path.read_bytes() == content
    else:
        assert got == "DEFAULT"
        (event,) = events
        assert event.name == name and "layout" in event.reason
        assert not path.exists()
        assert Path(event.moved_to).read_bytes() == content  # nothing lost: kept aside
    path.write_bytes(content)
    consumers_work(directory)  # whatever was taken, the player can use it


@pytest.mark.parametrize("name, data, says", [
    ("counter", [1, 2, 3], "data: an object, not list"),
    ("counter", {"cassette": True, "length": ["C60"]}, "length"),
    ("counter", {"cassette": True, "position": 1e300}, "position"),
    ("cassette-current", {"toc": {"A": [12.5]}}, "toc.A"),
    ("cassette-current", {"toc": {"A": {"marks": [[1.0, "psychic"]]}}}, "toc.A.marks[0][1]"),
    ("cassette-current", {"toc": {}, "layout": 2}, "layout"),  # a newer firmware's key
    ("cassettes", {"known": {}, "next": 1}, "known"),
    ("cassettes", {"known": [], "next": 1.5}, "next"),
    ("cassettes", {"known": [{"id": "c1", "fingerprint": "0a1b"}], "next": 2}, "fingerprint"),
    ("cassettes", {"known": [{"id": "c1", "fingerprint": "AAAA"}], "next": 2}, "whole frames"),
    ("volumes", {"jack": "loud"}, "jack"),
    ("headphones", "00:11:22:33:44:55", "headphones"),
    ("speed-trim", {"speed_trim": True}, "speed_trim"),
])
def test_another_layout_is_named_in_the_event(tmp_path: Path, name: str, data: Any,
                                              says: str) -> None:
    (tmp_path / f"{name}.json").write_bytes(envelope(name, json.dumps(data).encode()))
    store, events = recording_store(tmp_path)
    assert store.load(name, None) is None
    (event,) = events
    assert says in event.reason and event.moved_to.endswith(f"{name}.json.bad-1")


@pytest.mark.parametrize("depth", [40, 1000, 5000, 200_000])
def test_json_nested_too_deep_is_moved_aside(tmp_path: Path, depth: int) -> None:
    (tmp_path / "counter.json").write_bytes(envelope("counter", deep(depth)))
    store, events = recording_store(tmp_path)
    assert store.load("counter", None) is None
    assert len(events) == 1 and not (tmp_path / "counter.json").exists()


def test_an_integer_past_the_digit_limit_is_moved_aside(tmp_path: Path) -> None:
    body = b'{"cassette": true, "position": ' + b"9" * 5000 + b"}"
    (tmp_path / "counter.json").write_bytes(envelope("counter", body))
    store, events = recording_store(tmp_path)
    assert store.load("counter", None) is None
    assert "not readable JSON" in events[0].reason


def make_fifo(p: Path) -> None:
    os.mkfifo(p)


def make_socket(p: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    s.close()


def make_huge(p: Path) -> None:
    with open(p, "wb") as f:  # sparse: no disk used
        f.truncate(MAX_FILE + 1)


def make_link(target: str) -> Callable[[Path], None]:
    return lambda p: p.symlink_to(target)


KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (make_fifo, "a FIFO"),
    "dev-zero": (make_link("/dev/zero"), "symbolic link"),
    "dev-urandom": (make_link("/dev/urandom"), "symbolic link"),
    "dangling": (make_link("/nonexistent/capstan"), "symbolic link"),
    "link-to-etc": (make_link("/etc/passwd"), "symbolic link"),
    "directory": (lambda p: p.mkdir(), "a directory"),
    "socket": (make_socket, "a socket"),
    "huge": (make_huge, "more than"),
    "empty": (lambda p: p.write_bytes(b""), "not valid JSON"),
    "binary": (lambda p: p.write_bytes(os.urandom(1000)), "not"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_what_is_not_a_regular_file_is_moved_aside_without_waiting(tmp_path: Path,
                                                                    kind: str) -> None:
    make, says = KINDS[kind]
    path = tmp_path / "cassette-current.json"
    make(path)
    store, events = recording_store(tmp_path)
    assert store.load("cassette-current", {}) == {}  # at once: a FIFO would block a read
    (event,) = events
    assert says in event.reason, event.reason
    assert not os.path.lexists(path)
    assert os.path.lexists(event.moved_to)
    assert store.save("cassette-current", VALID["cassette-current"])  # and it works on
    assert StateStore(tmp_path).load("cassette-current", {}) == VALID["cassette-current"]


def test_the_store_never_writes_what_it_would_move_aside(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    with pytest.raises(StateError, match="counter does not fit its layout"):
        store.save("counter", [1, 2])
    assert not (tmp_path / "counter.json").exists()
    for name, data in VALID.items():
        assert store.save(name, data)
        assert StateStore(tmp_path).load(name, None) == data


def test_every_layout_has_a_valid_example() -> None:
    assert {layout(n) for n in NAMES} == set(LAYOUTS.values())


def hostile(kind: str, name: str) -> Callable[[Path], None]:
    if kind in KINDS:
        return KINDS[kind][0]
    shapes: dict[str, bytes] = {"list": b"[1,2]", "deep": deep(100_000),
                                "digits": b"9" * 5000, "newer": b'{"layout": 2}'}
    return lambda p: p.write_bytes(envelope(name, shapes[kind]))


KIND_NAMES = [*KINDS, "list", "deep", "digits", "newer"]
AT_START = ("counter", "volumes", "cassettes", "cassette-current")  # the simulated daemon's


def start_daemon(tmp: Path) -> tuple[Daemon, list[Any], bool]:
    """One daemon start on the simulated board with a cassette in: (daemon, its events,
    whether it became ready). Stopped again before returning."""
    loop = SimulatedTimeLoop()
    description = load_board()
    deck = SimDeck(description, loop)
    deck.insert(Cassette.create(tmp / "tape", description.mechanism, "C60", position=300.0))
    board = open_board("sim", description, loop, 1024, deck=deck)
    deck.start()
    notifier = Notifier(None, 0)
    daemon = Daemon(board, load_config(overrides={"player": {"board": "sim"}}), loop,
                    socket_path=tmp / "c.sock", notifier=notifier, state_dir=tmp / "state")
    events: list[Any] = []
    daemon.bus.subscribe(lambda t, e: events.append(e))
    stop = asyncio.Event()
    task = loop.create_task(daemon.run(stop))
    try:
        loop.run_until_complete(asyncio.sleep(3.0))
        assert not task.done(), task
        ready = daemon.ready and daemon.player.started
        stop.set()
        assert loop.run_until_complete(task) == 0
    finally:
        deck.close()
        board.close()
        notifier.close()
        loop.close()
    return daemon, events, ready


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.sampled_from(AT_START),
                             st.sampled_from(KIND_NAMES), min_size=1))
def test_the_daemon_starts_whatever_is_in_its_state_directory(
        tmp_path_factory: pytest.TempPathFactory, files: dict[str, str]) -> None:
    tmp = tmp_path_factory.mktemp("daemon")
    state = tmp / "state"
    state.mkdir()
    for name, kind in files.items():
        hostile(kind, name)(state / f"{name}.json")
    _, events, ready = start_daemon(tmp)
    assert ready
    recovered = {e.name for e in events if isinstance(e, StateRecovered)}
    assert recovered == set(files)
    for name in files:
        assert list(state.glob(f"{name}.json.bad-*")), name  # moved aside, kept
    # and the next start is clean: what the first wrote is of its layout
    _, again, ready = start_daemon(tmp)
    assert ready and not [e for e in again if isinstance(e, StateRecovered)]


@pytest.mark.parametrize("saved", [[1, 2], "C60", {"cassette": True, "length": ["C60"]},
                                   {"cassette": True, "length": "C60", "position": "far"},
                                   {"cassette": True, "played": "long"}])
def test_the_player_starts_whatever_its_counter_loader_returns(tmp_path: Path,
                                                               saved: Any) -> None:
    from capstan.harness.session import SimSession

    session = SimSession(tmp_path / "s")
    try:
        session.make_cassette("C60", position=300.0)
        session.player.load_counter = lambda: saved
        session.loop.run_until_complete(session.player.start())
        assert session.player.started and session.player.counter is not None
        session.loop.run_until_complete(session.player.stop())
    finally:
        session.close()
