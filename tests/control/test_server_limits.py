"""The control server against clients that misbehave, on a simulated clock.

The server runs on a SimulatedTimeLoop with a small stand-in player; the clients
are real Unix sockets on the same loop. Idle timeouts are the loop's: the tests
move its clock, they never wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capstan.control.server import ControlServer, ControlSocketError
from capstan.events import EventBus, Refused
from capstan.service.loglimit import LogLimiter, limit_loop_errors
from capstan.sim.clock import SimulatedTimeLoop


class StandIn:
    """What the server needs of a Player: buttons, a bus, press, hold, status."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.bus = EventBus(loop.time)
        self.buttons = {"play": None, "stop": None}
        self.cassette = False

    def press(self, button: str) -> None:
        if button not in self.buttons:
            raise ValueError(f"unknown button {button!r}")
        if button == "play" and not self.cassette:
            self.bus.publish(Refused("play", "no cassette: insert one"))

    def hold(self, button: str, seconds: float) -> None:
        self.press(button)

    def status(self) -> dict[str, Any]:
        return {"transport": "no_cassette"}


class Rig:
    def __init__(self, tmp: Path, **limits: Any) -> None:
        self.loop = SimulatedTimeLoop()
        self.player = StandIn(self.loop)
        self.path = tmp / "c.sock"
        self.server = ControlServer(self.player, self.path, **limits)
        self.run(self.server.start())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def sleep(self, seconds: float) -> None:
        self.run(asyncio.sleep(seconds))

    def connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        self.run(self.loop.sock_connect(s, str(self.path)))
        self.sleep(0)  # the server accepts it
        return s

    def send(self, s: socket.socket, data: bytes) -> None:
        self.run(self.loop.sock_sendall(s, data))

    def line(self, s: socket.socket) -> dict[str, Any] | None:
        """The next reply line, or None at the end of the stream."""
        data = b""
        while not data.endswith(b"\n"):
            chunk = self.run(self.loop.sock_recv(s, 65536))
            if not chunk:
                return None if not data else json.loads(data)
            data += chunk
        return json.loads(data)

    def ask(self, s: socket.socket, request: dict[str, Any]) -> dict[str, Any] | None:
        self.send(s, json.dumps(request).encode() + b"\n")
        return self.line(s)

    def closed(self, s: socket.socket) -> bool:
        try:
            return s.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.run(self.server.stop())
        self.loop.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path, max_clients=4, idle_timeout=10.0)
    yield r
    r.close()


def test_a_client_that_never_finishes_a_line_is_closed_after_the_idle_timeout(
        rig: Rig) -> None:
    slow = rig.connect()
    rig.send(slow, b'{"cmd": "sta')  # and never the rest
    rig.sleep(9.5)
    assert not rig.closed(slow)
    rig.sleep(1.0)  # past 10 s of the loop's clock
    reply = rig.line(slow)
    assert reply is not None and reply["ok"] is False and "no complete request" in reply["error"]
    assert rig.line(slow) is None  # and closed
    # the clock runs from the last complete line: a client that talks stays
    talker = rig.connect()
    for _ in range(5):
        rig.sleep(8.0)
        assert rig.ask(talker, {"cmd": "ping"}) == {"ok": True}


def test_a_follower_is_never_idle(rig: Rig) -> None:
    follower = rig.connect()
    assert rig.ask(follower, {"cmd": "events"}) == {"ok": True, "following": True}
    rig.sleep(600.0)
    rig.player.bus.publish(Refused("play", "no cassette: insert one"))
    rig.sleep(0)
    event = rig.line(follower)
    assert event is not None and event["type"] == "refused" and event["t"] == pytest.approx(
        rig.loop.time(), abs=0.01)


def test_at_the_limit_the_client_idle_longest_makes_room(rig: Rig) -> None:
    clients = []
    for _ in range(4):
        clients.append(rig.connect())
        rig.sleep(1.0)
    rig.ask(clients[0], {"cmd": "ping"})  # the first is the most recent to talk
    newcomer = rig.connect()
    assert rig.ask(newcomer, {"cmd": "status"})["ok"]  # type: ignore[index]
    told = rig.line(clients[1])  # idle the longest
    assert told is not None and told["ok"] is False and "idle longest" in told["error"]
    assert rig.line(clients[1]) is None
    for s in (clients[0], clients[2], clients[3]):
        assert not rig.closed(s)
    assert rig.server.refused == 1


def test_when_every_client_is_busy_a_newcomer_is_told_so(rig: Rig) -> None:
    holders = [rig.connect() for _ in range(4)]
    for s in holders:
        rig.send(s, b'{"cmd": "hold", "button": "stop", "seconds": 5}\n')
    rig.sleep(0.1)
    newcomer = rig.connect()
    told = rig.line(newcomer)
    assert told is not None and told["ok"] is False and "busy with 4 clients" in told["error"]
    assert told["closed"] is True  # the commands then exit 3, as for a daemon not answering
    assert rig.line(newcomer) is None
    rig.sleep(5.0)
    assert all(rig.line(s) == {"ok": True} for s in holders)  # their holds went on


def test_a_refused_press_gets_the_refusal(rig: Rig) -> None:
    s = rig.connect()
    reply = rig.ask(s, {"cmd": "press", "button": "play", "id": "a"})
    assert reply == {"ok": False, "refused": True, "id": "a",
                     "error": "refused: play: no cassette: insert one"}
    rig.player.cassette = True
    assert rig.ask(s, {"cmd": "press", "button": "play"}) == {"ok": True}


NASTY = [
    b"[" * 5000 + b"]" * 5000,
    b'{"cmd": "status", "x": ' + b"[" * 7000 + b"]" * 7000 + b"}",
    b'{"cmd": "hold", "button": "play", "seconds": ' + b"9" * 5000 + b"}",
    b'{"cmd": "hold", "button": "play", "seconds": ' + b"9" * 4000 + b"}",
    b'{"cmd": "hold", "button": "play", "seconds": NaN}',
    b'{"cmd": "hold", "button": "play", "seconds": -Infinity}',
    b"\xff\xfe\xfd",
    b'"status"', b"42", b"null", b"true", b"[]",
    b'{"cmd": "status", "id": ' + b"[" * 500 + b"]" * 500 + b"}",
    b'{"cmd": "status", "id": true}',
    b'{"cmd": "\\ud800"}',
    b'{"cmd": "press", "button": ["play"]}',
    b"{" * 3 + b"\n",
]


def test_a_subsystems_own_command_is_answered_and_listed(tmp_path: Path) -> None:
    def wind(request: dict[str, Any]) -> dict[str, Any]:
        turns = request.get("turns")
        if not isinstance(turns, int):
            raise ValueError("wind takes \"turns\": a whole number")
        return {"ok": True, "wound": turns}

    r = Rig(tmp_path, commands={"wind": wind})
    try:
        s = r.connect()
        assert r.ask(s, {"cmd": "wind", "turns": 3}) == {"ok": True, "wound": 3}
        assert r.ask(s, {"cmd": "wind"}) == {"ok": False,
                                             "error": "wind takes \"turns\": a whole number"}
        assert "wind" in r.ask(s, {"cmd": "help"})["commands"]  # type: ignore[index]
        unknown = r.ask(s, {"cmd": "fly"})
        assert unknown is not None and "wind" in unknown["error"]
        s.close()
    finally:
        r.close()
    with pytest.raises(ValueError, match="status"):  # no subsystem takes a server's command
        ControlServer(StandIn(SimulatedTimeLoop()), tmp_path / "x.sock",
                      commands={"status": wind})


@pytest.mark.parametrize("line", NASTY, ids=range(len(NASTY)))
def test_every_malformed_line_gets_an_error_reply_and_the_connection_goes_on(
        rig: Rig, line: bytes, caplog: pytest.LogCaptureFixture) -> None:
    s = rig.connect()
    rig.send(s, line.rstrip(b"\n") + b"\n")
    reply = rig.line(s)
    assert reply is not None and reply["ok"] is False and reply["error"], reply
    assert "id" not in reply or isinstance(reply["id"], str | int)
    assert rig.ask(s, {"cmd": "ping", "id": 1}) == {"ok": True, "id": 1}
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged


def test_socket_paths_that_are_not_a_stale_socket_are_left_alone(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    player = StandIn(loop)

    def start(path: Path) -> None:
        loop.run_until_complete(ControlServer(player, path).start())

    regular = tmp_path / "file"
    regular.write_text("my notes")
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "inside").write_text("kept")
    link = tmp_path / "link"
    link.symlink_to(regular)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, what in ((regular, "a regular file"), (directory, "a directory"),
                       (link, "a symbolic link"), (fifo, "a FIFO")):
        with pytest.raises(ControlSocketError, match=f"is {what}, not a control socket"):
            start(path)
    assert regular.read_text() == "my notes" and (directory / "inside").read_text() == "kept"
    assert link.is_symlink() and fifo.exists()
    # a live socket is another daemon's
    live = ControlServer(player, tmp_path / "live.sock")
    loop.run_until_complete(live.start())
    with pytest.raises(ControlSocketError, match="already listening"):
        start(tmp_path / "live.sock")
    loop.run_until_complete(live.stop())
    # a stale one (its daemon died) is replaced
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "stale.sock"))
    stale.close()
    server = ControlServer(player, tmp_path / "stale.sock")
    loop.run_until_complete(server.start())
    loop.run_until_complete(server.stop())
    # under a file: a one-line error, not a traceback
    with pytest.raises(ControlSocketError, match="cannot make the directory"):
        start(regular / "c.sock")
    loop.close()


def test_the_log_is_rate_limited() -> None:
    now = [0.0]
    logger = logging.getLogger("capstan.test.limiter")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Keep())
    logger.propagate = False
    limiter = LogLimiter(logger, lambda: now[0], burst=5, per=60.0)
    for i in range(10_000):
        now[0] = i * 0.002  # 10 000 in 20 s
        limiter.warning("accept", "trouble %d", i)
    assert len(records) == 5
    now[0] = 61.0
    limiter.warning("accept", "trouble again")
    assert [r.getMessage() for r in records[5:]] == [
        "(9995 more like the next were not logged in 61 s)", "trouble again"]
    limiter.warning("other", "another kind")  # kinds are counted apart
    assert records[-1].getMessage() == "another kind"


def test_out_of_file_descriptors_a_client_is_told_and_the_log_stays_short(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    r = Rig(tmp_path, max_clients=1000)
    clients = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(40)]
    for s in clients:
        s.setblocking(False)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 3, hard))
    try:
        for s in clients:
            r.run(r.loop.sock_connect(s, str(r.path)))
            r.sleep(0.1)
        r.sleep(1.0)
        replies = [r.line(s) for s in clients]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    # the few the spare descriptors allow are served (idle: at most told so, later); every
    # other one is told why it is turned away (how many fit depends on what else of the
    # process holds descriptors at that moment, so the count is a bound, not exact)
    told = [x for x in replies if x is not None and "no file descriptor to spare" in x["error"]]
    served = [x for x in replies if x not in told]
    assert all(x is None or "no complete request" in x["error"] for x in served), served
    assert len(told) >= 30
    out_of_files = [rec for rec in caplog.records if "file descriptors" in rec.getMessage()]
    assert 1 <= len(out_of_files) <= 5
    for s in clients:
        s.close()
    r.sleep(0.5)
    again = r.connect()
    assert r.ask(again, {"cmd": "ping"}) == {"ok": True}  # served again once there are some
    again.close()
    r.close()


def test_clients_that_never_read_their_replies_do_not_lock_anyone_out(rig: Rig) -> None:
    flooders = [rig.connect() for _ in range(4)]
    for s in flooders:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            while True:  # until its own send buffer is full: requests it never reads
                s.send(b'{"cmd": "status"}\n' * 64)
        except BlockingIOError:
            pass
    rig.sleep(1.0)
    newcomer = rig.connect()
    assert rig.ask(newcomer, {"cmd": "status"})["ok"]  # type: ignore[index]
    rig.sleep(20.0)  # past the write timeout: the flooders are gone

    def ended(s: socket.socket) -> bool:
        try:
            while s.recv(65536):
                pass
            return True  # the end of the stream: the server closed it
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True

    assert all(ended(s) for s in flooders)
    assert rig.ask(rig.connect(), {"cmd": "ping"}) == {"ok": True}
    assert len(rig.server._clients) == 1  # no connection left behind


def test_the_loops_own_error_reports_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    loop = SimulatedTimeLoop()
    limit_loop_errors(loop, logging.getLogger("capstan.test.loop"))

    def broken() -> None:
        raise RuntimeError("a callback that fails every time")

    async def flood() -> None:
        for _ in range(2000):
            loop.call_soon(broken)
            await asyncio.sleep(0.01)  # 2000 failures in 20 s of the loop's clock

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        loop.run_until_complete(flood())
    loop.close()
    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 5 and "a callback that fails" in str(failures[0].exc_info[1])
