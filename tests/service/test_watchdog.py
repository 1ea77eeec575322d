"""The daemon under systemd, in simulated time, heard on a NOTIFY_SOCKET of the test's own.

Each datagram is stamped with the loop's time when the loop reads it; the loop
polls its sockets before it moves its clock, so the stamp is the time it was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capstan.board import open_board
from capstan.config import load_config
from capstan.selftest import run_selftest
from capstan.service.daemon import Daemon
from capstan.service.notify import Notifier
from capstan.service.watchdog import Watchdog
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck

WATCHDOG_USEC = 4_000_000  # WatchdogSec=4: a ping every 2 s


class Systemd:
    """Listens on a NOTIFY_SOCKET like systemd; `heard` is [(loop time, message)]."""

    def __init__(self, loop: SimulatedTimeLoop, path: Path) -> None:
        self.loop, self.path = loop, path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.heard: list[tuple[float, str]] = []
        loop.add_reader(self.sock.fileno(), self._read)

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            self.heard.append((self.loop.time(), data.decode()))

    def times(self, assignment: str) -> list[float]:
        return [t for t, m in self.heard if assignment in m.split("\n")]

    def first(self, assignment: str) -> float:
        times = self.times(assignment)
        assert times, f"systemd never heard {assignment}: {self.heard}"
        return times[0]


class Rig:
    def __init__(self, tmp: Path, selftest: Any = run_selftest) -> None:
        self.loop = SimulatedTimeLoop()
        from capstan.hardware.description import load_board

        description = load_board()
        self.deck = SimDeck(description, self.loop)
        self.board = open_board("sim", description, self.loop, 1024, deck=self.deck)
        self.deck.start()
        self.systemd = Systemd(self.loop, tmp / "notify")
        self.notifier = Notifier(str(tmp / "notify"), WATCHDOG_USEC)
        config = load_config(overrides={"player": {"board": "sim"}})
        self.daemon = Daemon(self.board, config, self.loop, socket_path=tmp / "c.sock",
                             notifier=self.notifier, state_dir=tmp / "state", selftest=selftest)
        self.stop = asyncio.Event()
        self.task = self.loop.create_task(self.daemon.run(self.stop))

    def run_until(self, t: float) -> None:
        self.loop.run_until_complete(asyncio.sleep(t - self.loop.time()))
        if self.task.done():
            self.task.result()  # raise what the daemon raised

    def pings_between(self, t0: float, t1: float) -> list[float]:
        return [t for t in self.systemd.times("WATCHDOG=1") if t0 < t < t1]

    def close(self) -> None:
        if not self.task.done():
            self.stop.set()
            self.loop.run_until_complete(self.task)
        self.deck.close()
        self.board.close()
        self.notifier.close()
        self.loop.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def test_ready_only_after_the_self_test(tmp_path: Path) -> None:
    finished: list[float] = []

    async def slow_selftest(board: Any, **kw: Any) -> Any:
        report = await run_selftest(board, **kw)
        await asyncio.sleep(5.0)  # a self-test that takes its time
        finished.append(asyncio.get_running_loop().time())
        return report

    r = Rig(tmp_path, slow_selftest)
    try:
        r.run_until(20.0)
        status = r.systemd.first("STATUS=self-test")
        ready = r.systemd.first("READY=1")
        assert status < finished[0] <= ready
        assert not [t for t in r.systemd.times("WATCHDOG=1") if t < ready]
        ready_message = next(m for t, m in r.systemd.heard if "READY=1" in m)
        assert "STATUS=self-test" in ready_message  # the self-test's summary comes with READY
    finally:
        r.close()


def test_no_ready_while_the_self_test_has_not_finished(tmp_path: Path) -> None:
    async def stuck_selftest(board: Any, **kw: Any) -> Any:
        await asyncio.Event().wait()

    r = Rig(tmp_path, stuck_selftest)
    try:
        r.run_until(60.0)
        assert r.systemd.times("STATUS=self-test")
        assert not r.systemd.times("READY=1") and not r.systemd.times("WATCHDOG=1")
        assert not r.daemon.ready
    finally:
        r.task.cancel()
        r.loop.run_until_complete(asyncio.gather(r.task, return_exceptions=True))
        r.close()


def test_no_ready_when_the_self_test_finds_the_player_cannot_play(tmp_path: Path) -> None:
    async def dead_adc_selftest(board: Any, **kw: Any) -> Any:
        report = await run_selftest(board, **kw)
        report.add("adc", False, "no audio from the ADC", critical=True)
        return report

    r = Rig(tmp_path, dead_adc_selftest)
    try:
        r.run_until(20.0)
        # systemd's start timeout restarts it; an update on trial is never confirmed
        assert not r.systemd.times("READY=1") and not r.daemon.ready
        said = " ".join(m for _, m in r.systemd.heard)
        assert "self-test failed" in said and "ADC" in said.upper()
    finally:
        r.close()


def test_a_healthy_daemon_pings_within_every_watchdog_period(rig: Rig) -> None:
    rig.run_until(30.0)
    pings = [rig.systemd.first("READY=1"), *rig.systemd.times("WATCHDOG=1")]
    assert len(pings) > 10
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) < WATCHDOG_USEC / 1e6


def test_a_stalled_loop_stops_the_pings(rig: Rig) -> None:
    rig.run_until(10.0)
    stall_at, stall = 10.5, 12.0

    def blocking_call() -> None:  # a callback that keeps the loop for 12 s
        rig.loop.advance(stall)

    rig.loop.call_at(stall_at, blocking_call)
    rig.run_until(40.0)
    assert rig.pings_between(stall_at, stall_at + stall - 1e-6) == []
    before = max(rig.pings_between(0, stall_at))
    after = min(rig.pings_between(stall_at, 40.0))
    assert after - before > WATCHDOG_USEC / 1e6  # systemd would have restarted it
    assert rig.daemon.watchdog.max_lag >= stall - 2.0
    assert len(rig.pings_between(stall_at + stall, 40.0)) > 5  # and it recovers if it lives


def test_a_dead_adc_stops_the_pings_and_says_why(rig: Rig) -> None:
    rig.run_until(10.0)
    rig.deck.overruns_pending = 10**9  # the capture stream delivers nothing from now on
    rig.run_until(30.0)
    assert rig.pings_between(16.0, 30.0) == []
    status = [m for t, m in rig.systemd.heard if "unhealthy" in m]
    assert status and "the ADC delivered no audio" in status[0]
    assert rig.daemon.status()["healthy"] is False
    rig.deck.overruns_pending = 0  # the ADC comes back
    rig.run_until(40.0)
    assert rig.pings_between(31.0, 40.0)
    assert any("healthy again" in m for t, m in rig.systemd.heard)


def test_stopping_is_announced_and_outputs_end_safe(rig: Rig) -> None:
    rig.run_until(5.0)
    rig.stop.set()
    rig.run_until(6.0)
    assert rig.task.done() and rig.task.result() == 0
    assert rig.systemd.first("STOPPING=1") > rig.systemd.first("READY=1")
    assert all(v == 0 for role, v in rig.deck.outputs.items() if not role.startswith("led_"))


def test_without_watchdog_sec_nothing_pings(tmp_path: Path) -> None:
    loop = SimulatedTimeLoop()
    systemd = Systemd(loop, tmp_path / "notify")
    dog = Watchdog(loop, Notifier(str(tmp_path / "notify"), None))
    dog.start()
    loop.run_until_complete(asyncio.sleep(10))
    assert systemd.heard == []
    loop.close()


def test_notifier_reads_systemds_environment(tmp_path: Path) -> None:
    import os

    n = Notifier.from_environment({"NOTIFY_SOCKET": "@capstan-test", "WATCHDOG_USEC": "3000000",
                                   "WATCHDOG_PID": str(os.getpid())})
    assert n.enabled and n.watchdog_interval == 1.5
    n.close()
    other = Notifier.from_environment({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "3000000",
                                       "WATCHDOG_PID": "1"})
    assert other.watchdog_interval is None
    other.close()
    quiet = Notifier.from_environment({})
    assert not quiet.enabled and quiet.ready("x") is False


def test_abstract_notify_socket(tmp_path: Path) -> None:
    name = f"capstan-test-{os_getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    listener.settimeout(5)  # a failure guard only
    n = Notifier("@" + name)
    assert n.ready("hello")
    assert listener.recv(100) == b"READY=1\nSTATUS=hello"
    n.close()
    listener.close()


def os_getpid() -> int:
    import os

    return os.getpid()


def test_a_critical_battery_ends_the_daemon_on_the_simulated_board(tmp_path: Path) -> None:
    r = Rig(tmp_path)
    try:
        r.deck.set_battery(4.0, charger=False)
        r.run_until(30.0)
        assert r.task.done() and r.task.result() == 0  # powered "off": the daemon ended
        assert r.systemd.first("STOPPING=1") > r.systemd.first("READY=1")
        assert all(r.deck.outputs[o] == 0.0 for o in ("motor", "record_relay"))
    finally:
        r.close()
