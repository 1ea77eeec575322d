"""The control socket against a real daemon: `capstan run --board sim` in a subprocess.

The daemon runs in real time; the tests never assert on wall time. They wait for
READY on a NOTIFY_SOCKET of their own and for replies and events on the socket;
every timeout is only a guard against a hang.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capstan.cli import main as capstan
from capstan.control.client import ControlClient

GUARD = 60.0  # s: only ever a failure guard


class DaemonProcess:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.socket = base / "c.sock"
        self.state = base / "state"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(base / "notify"))
        self.notify.settimeout(0.5)  # to look whether the daemon died meanwhile
        self.heard: list[str] = []
        env = {**os.environ, "NOTIFY_SOCKET": str(base / "notify"), "WATCHDOG_USEC": "10000000",
               "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "capstan", "run", "--board", "sim", "--socket",
             str(self.socket), "--state-dir", str(self.state), "--cassette", "C60"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.wait_for("READY=1")

    def wait_for(self, assignment: str) -> None:
        deadline = time.monotonic() + GUARD  # a failure guard, not a measurement
        while not any(assignment in m.split("\n") for m in self.heard):
            try:
                self.heard.append(self.notify.recv(4096).decode())
                continue
            except TimeoutError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                out = self.proc.communicate()[0].decode()
                raise AssertionError(f"no {assignment} from the daemon; it said:\n{out}")

    def client(self) -> ControlClient:
        return ControlClient(self.socket, timeout=GUARD)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(GUARD)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def daemon() -> Iterator[DaemonProcess]:
    # Not under pytest's tmp_path: its parents are 0700, and one test needs another user
    # to reach the socket's directory so that only the socket's own mode can stop them.
    base = Path(tempfile.mkdtemp(prefix="capstan-ctl-"))
    base.chmod(0o711)
    d = DaemonProcess(base)
    yield d
    d.stop()
    shutil.rmtree(base, ignore_errors=True)


def follow_until(lines: Any, predicate: Any) -> list[dict[str, Any]]:
    seen = []
    for event in lines:
        seen.append(event)
        if predicate(event):
            return seen
    raise AssertionError(f"the stream ended before the event came: {seen}")


def test_status_on_the_simulated_board(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        status = c.request("status")["status"]
    assert status["board"] == "sim" and status["transport"] == "stopped"
    assert status["healthy"] is True


def test_press_drives_the_transport_and_events_follow(daemon: DaemonProcess) -> None:
    with daemon.client() as follower, daemon.client() as hands:
        events = follower.events(GUARD)
        hands.request("press", button="play")
        assert hands.request("status")["status"]["transport"] == "playing"
        seen = follow_until(events, lambda e: e.get("type") == "transport")
        assert seen[-1]["state"] == "playing"
        assert {"type": "button", "button": "play", "action": "press"}.items() <= seen[0].items()
        hands.request("press", button="stop")
        seen = follow_until(events, lambda e: e.get("type") == "transport")
        assert seen[-1]["state"] == "stopped"


def test_hold_keeps_the_button_down_for_its_seconds(daemon: DaemonProcess) -> None:
    with daemon.client() as follower, daemon.client() as hands:
        events = follower.events(GUARD)
        hands.request("hold", button="vol_up", seconds=0.3)  # replies after the release
        seen = follow_until(events, lambda e: e.get("action") == "release")
        press = next(e for e in seen if e.get("action") == "press")
        assert press["button"] == seen[-1]["button"] == "vol_up"
        assert seen[-1]["t"] - press["t"] >= 0.3 - 1e-3  # loop time, never early


@pytest.mark.parametrize("line, error", [
    (b"not json", "not a JSON line"),
    (b"\xff\xfe\x00", "not a JSON line"),
    (b"[1, 2]", "a request is a JSON object"),
    (b'{"cmd": 5}', "needs \"cmd\""),
    (b'{"cmd": "fly"}', "unknown command 'fly'"),
    (b'{"cmd": "press"}', "needs \"button\""),
    (b'{"cmd": "press", "button": "eject!"}', "unknown button"),
    (b'{"cmd": "hold", "button": "play", "seconds": "long"}', "seconds"),
    (b'{"cmd": "hold", "button": "play", "seconds": 1e308}', "seconds"),
    (b'{"cmd": "hold", "button": "play", "seconds": -1}', "seconds"),
])
def test_malformed_lines_get_an_error_and_the_daemon_keeps_running(
        daemon: DaemonProcess, line: bytes, error: str) -> None:
    with daemon.client() as c:
        c.send_line(b'{"cmd": "ping", "id": 7}')
        assert c.read() == {"ok": True, "id": 7}
        c.send_line(line)
        reply = c.read()
        assert reply["ok"] is False and error in reply["error"]
        assert c.request("status")["ok"]  # the same connection goes on
    assert daemon.proc.poll() is None


def test_an_overlong_line_is_refused_and_only_that_client_dropped(daemon: DaemonProcess) -> None:
    with daemon.client() as c:
        c.send_line(b'{"cmd": "status", "pad": "' + b"x" * 100_000 + b'"}')
        reply = c.read()
        assert reply["ok"] is False and "longer than" in reply["error"]
    with daemon.client() as c:
        assert c.request("status")["ok"]


def test_the_socket_is_for_owner_and_group_only(daemon: DaemonProcess) -> None:
    assert daemon.socket.stat().st_mode & 0o777 == 0o660
    probe = ("import socket, sys\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             "try:\n"
             f"    s.connect({str(daemon.socket)!r})\n"
             "except PermissionError:\n"
             "    sys.exit(13)\n"
             "s.sendall(b'{\"cmd\": \"ping\"}\\n')\n"
             "sys.exit(0 if b'\"ok\": true' in s.makefile('rb').readline() else 1)\n")

    def connect_as(uid: int, gid: int) -> int:
        return subprocess.run(["/usr/bin/python3", "-I", "-c", probe], user=uid, group=gid,
                              extra_groups=[], timeout=GUARD, check=False).returncode

    nobody = 65534
    assert connect_as(nobody, nobody) == 13  # another user is refused
    # The same user in the socket's group gets in: the mode bits decide, nothing else.
    group = 54321
    os.chown(daemon.socket, -1, group)
    try:
        assert connect_as(nobody, group) == 0
    finally:
        os.chown(daemon.socket, -1, 0)


def test_the_capstan_commands(daemon: DaemonProcess, capsys: pytest.CaptureFixture[str]) -> None:
    sock = ["--socket", str(daemon.socket)]
    assert capstan(["status", "--json", *sock]) == 0
    assert json.loads(capsys.readouterr().out)["board"] == "sim"
    assert capstan(["status", *sock]) == 0
    assert "transport" in capsys.readouterr().out
    assert capstan(["press", "ff", *sock]) == 0
    assert capstan(["press", "stop", *sock]) == 0
    assert capstan(["hold", "vol_down", "0.1", *sock]) == 0
    assert capstan(["pair", *sock]) == 0
    assert "pairing" in capsys.readouterr().out
    assert capstan(["digitize", "on", *sock]) == 0
    assert "digitizing on" in capsys.readouterr().out
    assert json.loads(_status_json(sock, capsys))["tape"]["digitizing"]["enabled"] is True
    assert capstan(["digitize", "off", *sock]) == 0
    capsys.readouterr()
    assert capstan(["press", "bogus", *sock]) == 1
    assert "unknown button 'bogus'" in capsys.readouterr().err
    assert capstan(["status", "--socket", str(daemon.base / "nobody-here.sock")]) == 1
    assert "no Capstan daemon" in capsys.readouterr().err


def _status_json(sock: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert capstan(["status", "--json", *sock]) == 0
    return capsys.readouterr().out


def test_sigterm_stops_cleanly_and_saves_state() -> None:
    base = Path(tempfile.mkdtemp(prefix="capstan-stop-"))
    try:
        d = DaemonProcess(base)
        with d.client() as c:
            c.request("press", button="play")
        d.proc.send_signal(signal.SIGTERM)
        d.wait_for("STOPPING=1")
        assert d.stop() == 0
        assert not d.socket.exists()
        from capstan.state import StateStore

        assert StateStore(d.state).load("counter", None) is not None  # saved at stop
        (base / "notify").unlink()
        again = DaemonProcess(base)  # starts again on the same socket path and state
        assert again.stop() == 0
    finally:
        shutil.rmtree(base, ignore_errors=True)
