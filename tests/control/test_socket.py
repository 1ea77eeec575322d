"""The control socket against a real daemon: `capstan run --board sim` in a subprocess.

The daemon runs in real time; the tests never assert on wall time. They wait for
READY on a NOTIFY_SOCKET of their own and for replies and events on the socket;
every timeout is only a guard against a hang.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstan.cli import main as capstan
from capstan.control.client import ControlClient

GUARD = 60.0  # s: only ever a failure guard


class DaemonProcess:
    def __init__(self, base: Path, cassette: bool = True, open_files: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.base = base
        self.socket = base / "c.sock"
        self.state = base / "state"
        self.log = base / "daemon.log"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(base / "notify"))
        self.notify.settimeout(0.5)  # to look whether the daemon died meanwhile
        self.heard: list[str] = []
        given = env or {}
        env = {**os.environ, "NOTIFY_SOCKET": str(base / "notify"), "WATCHDOG_USEC": "10000000",
               "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("JOURNAL_STREAM", None)  # the test's own journal, if any, is not the daemon's
        env.update(given)

        def limit_files() -> None:  # as systemd's LimitNOFILE does
            if open_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "capstan", "run", "--board", "sim", "--socket",
                 str(self.socket), "--state-dir", str(self.state),
                 *(["--cassette", "C60"] if cassette else [])],
                env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=limit_files)
        self.wait_for("READY=1")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

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
                self.proc.wait()
                raise AssertionError(f"no {assignment} from the daemon; it said:\n"
                                     f"{self.output()}")

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
    assert capstan(["press", "ff", *sock]) == 0
    assert capstan(["press", "stop", *sock]) == 0
    assert capstan(["hold", "vol_down", "0.1", *sock]) == 0
    assert capstan(["digitize", "on", *sock]) == 0
    assert "digitizing on" in capsys.readouterr().out
    digitizing = json.loads(_status_json(sock, capsys))["tape"]["digitizing"]
    assert digitizing["enabled"] is True
    assert Path(digitizing["directory"]) == daemon.state / "tapes"  # follows --state-dir
    assert capstan(["digitize", "off", *sock]) == 0
    capsys.readouterr()
    assert capstan(["press", "bogus", *sock]) == 1
    assert "unknown button 'bogus'" in capsys.readouterr().err
    assert capstan(["status", "--socket", str(daemon.base / "nobody-here.sock")]) == 3
    assert "no Capstan daemon" in capsys.readouterr().err


def test_the_status_a_person_reads(daemon: DaemonProcess,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    sock = ["--socket", str(daemon.socket)]
    with daemon.client() as c:
        c.request("press", button="play")
        c.request("hold", button="vol_up", seconds=0.05)  # a moment of play
    assert capstan(["status", *sock]) == 0
    out = capsys.readouterr().out
    assert capstan(["press", "stop", *sock]) == 0
    labels = dict(line.split("  ", 1) for line in out.splitlines())
    assert labels["Player"].strip() == "playing"
    assert re.fullmatch(r"\d+:\d\d .*", labels["Counter"].strip())  # minutes:seconds
    assert re.fullmatch(r"\d+ %, (on battery|power source not known yet), about (\d+ h )?"
                        r"\d+ min of play left", labels["Power"].strip())
    assert "passed" in labels["Self-test"] and "not checked" in labels["Self-test"]
    assert labels["State in"].strip() == str(daemon.state)
    for raw in ("None", "null", "{", "[", "True", "False", "_"):
        assert raw not in out.replace(str(daemon.base), ""), (raw, out)


def test_status_into_a_closed_pipe_says_nothing_more(daemon: DaemonProcess) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "capstan", "status", "--socket",
                             str(daemon.socket)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    assert proc.wait(GUARD) == 141 and err == ""


def test_a_stuck_daemon_is_reported_as_not_answering(daemon: DaemonProcess,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    daemon.proc.send_signal(signal.SIGSTOP)  # its loop stands still
    try:
        for command in (["status"], ["press", "play"], ["events"], ["pair"]):
            assert capstan([*command, "--socket", str(daemon.socket), "--timeout", "0.3"]) == 3
            err = capsys.readouterr().err
            assert "does not answer" in err and str(daemon.socket) in err, err
    finally:
        daemon.proc.send_signal(signal.SIGCONT)
    with daemon.client() as c:
        assert c.request("status")["ok"]


@pytest.fixture(scope="module")
def empty_daemon() -> Iterator[DaemonProcess]:
    """A daemon with no cassette in, and no Bluetooth (the simulated board's default)."""
    base = Path(tempfile.mkdtemp(prefix="capstan-empty-"))
    d = DaemonProcess(base, cassette=False)
    yield d
    d.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_refusals_are_printed_and_exit_1(empty_daemon: DaemonProcess,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    sock = ["--socket", str(empty_daemon.socket)]
    assert capstan(["press", "play", *sock]) == 1
    assert capsys.readouterr().err == ("capstan: the player refused press: play: no cassette: "
                                       "insert one\n")
    assert capstan(["hold", "ff", "0.2", *sock]) == 1
    assert "no cassette: insert one" in capsys.readouterr().err
    assert capstan(["pair", *sock]) == 1
    out, err = capsys.readouterr()
    assert "pairing mode" not in out and "has no Bluetooth" in err
    assert capstan(["press", "stop", *sock]) == 0  # nothing to refuse
    assert capstan(["status", *sock]) == 0
    assert re.match(r"Player +no cassette\n", capsys.readouterr().out)


def _status_json(sock: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert capstan(["status", "--json", *sock]) == 0
    return capsys.readouterr().out


def test_events_says_when_the_daemon_goes_away() -> None:
    base = Path(tempfile.mkdtemp(prefix="capstan-gone-"))
    d = DaemonProcess(base)
    follower = subprocess.Popen([sys.executable, "-m", "capstan", "events", "--socket",
                                 str(d.socket)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert follower.stdout is not None and follower.stderr is not None
        seen = b""
        deadline = time.monotonic() + GUARD  # a failure guard
        with d.client() as c:  # an event, to know the follower follows
            while b'"button"' not in seen:  # a press before it subscribed prints nothing
                assert time.monotonic() < deadline, "the follower printed no button event"
                c.request("press", button="vol_up")
                if select.select([follower.stdout], [], [], 0.5)[0]:
                    seen += os.read(follower.stdout.fileno(), 65536)
        d.proc.kill()  # the daemon dies
        d.stop()
        code, err = follower.wait(GUARD), follower.stderr.read()
        assert code == 3 and b"ended the event stream" in err, (code, err)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
        d.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_run_says_where_it_runs_and_how_the_self_test_went(daemon: DaemonProcess) -> None:
    out = daemon.output()
    start = next(line for line in out.splitlines() if "starting on the simulated board" in line)
    assert str(daemon.socket) in start and str(daemon.state) in start
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO ", start)  # a terminal's
    assert re.search(r"INFO capstan.service.daemon: self-test passed \(\d+ checks, "
                     r"\d+ not checked\)", out)


def test_under_journald_the_log_has_no_timestamps_of_its_own(tmp_path: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="capstan-journal-"))
    try:
        log = base / "daemon.log"
        log.touch()
        info = log.stat()  # the daemon's stderr is this file: JOURNAL_STREAM names it
        d = DaemonProcess(base, env={"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
        d.stop()
        lines = [line for line in d.output().splitlines() if line.startswith("<")]
        assert any(re.fullmatch(r"<6>capstan.service.daemon: capstan \S+ starting on the "
                                r"simulated board: .*", line) for line in lines), lines
        assert not re.search(r"\d\d:\d\d:\d\d", d.output())
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_run_refuses_a_socket_path_that_is_not_a_stale_socket(tmp_path: Path,
                                                              kind: str) -> None:
    target = tmp_path / "taken"
    if kind == "file":
        target.write_text("precious")
    else:
        target.mkdir()
    proc = subprocess.run([sys.executable, "-m", "capstan", "run", "--board", "sim",
                           "--socket", str(target), "--state-dir", str(tmp_path / "state")],
                          capture_output=True, text=True, timeout=GUARD, check=False)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("capstan:")]
    assert errors == [f"capstan: {target} is a {'regular file' if kind == 'file' else kind}, "
                      "not a control socket: it is left alone; choose another place with "
                      "--socket"], proc.stderr
    assert "Traceback" not in proc.stderr
    assert target.read_text() == "precious" if kind == "file" else target.is_dir()


def test_a_second_daemon_on_a_live_socket_is_refused(daemon: DaemonProcess,
                                                     tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "capstan", "run", "--board", "sim",
                           "--socket", str(daemon.socket), "--state-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=GUARD, check=False)
    assert proc.returncode == 1 and "already listening" in proc.stderr
    with daemon.client() as c:
        assert c.request("status")["ok"]  # the first one is untouched


def test_status_answers_with_1100_idle_clients_under_1024_open_files() -> None:
    base = Path(tempfile.mkdtemp(prefix="capstan-crowd-"))
    crowd: list[socket.socket] = []
    d = DaemonProcess(base, open_files=1024)
    try:
        for i in range(1100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(GUARD)
            deadline = time.monotonic() + GUARD  # a failure guard
            while True:
                try:
                    s.connect(str(d.socket))
                    break
                except BlockingIOError:  # its listen queue is full: the daemon is accepting
                    assert time.monotonic() < deadline, "the daemon stopped accepting"
                    time.sleep(0.001)
            if i % 2:
                s.sendall(b'{"cmd": "sta')  # a line begun and never finished
            crowd.append(s)
        with d.client() as c:
            status = c.request("status")["status"]
        assert status["healthy"] is True
        told = crowd[0].makefile("rb").readline()  # the first was closed to make room
        assert b"idle longest" in told
        assert d.proc.poll() is None
        log = d.output()
        assert "Traceback" not in log
        assert log.count("\n") < 60, log[-3000:]  # rate-limited, not a line per client
    finally:
        for s in crowd:
            s.close()
        d.stop()
        shutil.rmtree(base, ignore_errors=True)


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


def test_a_fifo_and_a_link_into_dev_zero_in_the_state_directory_do_not_stop_the_daemon(
        ) -> None:
    base = Path(tempfile.mkdtemp(prefix="capstan-fifo-"))
    try:
        state = base / "state"
        state.mkdir()
        os.mkfifo(state / "counter.json")  # a read would wait for a writer for ever
        (state / "cassette-current.json").symlink_to("/dev/zero")  # a read would never end
        (state / "cassettes.json").write_bytes(b"[" * 100_000)
        d = DaemonProcess(base)  # READY: it started
        try:
            with d.client() as c:
                assert c.request("status")["status"]["healthy"] is True
        finally:
            assert d.stop() == 0  # and SIGTERM stops it
        for name in ("counter", "cassette-current", "cassettes"):
            assert (state / f"{name}.json.bad-1").exists() or \
                (state / f"{name}.json.bad-1").is_symlink(), name
        log = d.output()
        assert "it is a FIFO" in log and "symbolic link" in log and "Traceback" not in log
    finally:
        shutil.rmtree(base, ignore_errors=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")).filter(bytes.strip)
       | st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["cmd", "id", "button", "seconds",
                                                         "on", "x"]), inner, max_size=4),
                      max_leaves=10).map(lambda v: json.dumps(v).encode()))
def test_any_line_gets_one_reply_and_the_connection_goes_on(daemon: DaemonProcess,
                                                            line: bytes) -> None:
    if b'"hold"' in line or b'"events"' in line or b'"record"' in line or b'"digitize"' in line:
        return  # commands with lasting effects are tested above
    with daemon.client() as c:
        c.send_line(line)
        reply = c.read()
        assert isinstance(reply.get("ok"), bool)
        assert reply["ok"] or reply["error"]
        assert c.request("ping")["ok"]
