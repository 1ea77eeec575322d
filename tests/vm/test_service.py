"""The player under real systemd in the virtual Pi: installed by tools/install, started from
its own unit, READY after the self-test, killed by the watchdog when its loop stalls and
restarted, its outputs low after every stop (ExecStopPost)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.vm.rig import Header, HeadSignal, load_chips, rest_lines
from tests.vm.test_player import EventLog, press

from capstan.control.client import ControlClient, DaemonUnreachable

GUARD = 300.0  # s: a failure guard, never a measurement (a starved TCG guest is slow)
UNIT = "capstan.service"


def sh(*cmd: str, check: bool = True) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=GUARD)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def show(prop: str) -> str:
    return sh("systemctl", "show", "-P", prop, UNIT).strip()


def journal() -> str:
    return sh("journalctl", "-b", "-u", UNIT, "--no-pager", "-o", "cat", check=False)


def wait_until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD  # a failure guard
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen; journal:\n{journal()[-4000:]}")
        time.sleep(0.2)


@pytest.fixture
def service(installed: None, header: Header, vpi: Any) -> Iterator[Header]:
    load_chips()
    header.drive(vpi.switches["cassette_in"].pin, False)
    with HeadSignal():
        sh("systemctl", "reset-failed", UNIT, check=False)
        yield header
        sh("systemctl", "stop", UNIT, check=False)
    rest_lines(header, vpi)


def high_outputs(header: Header, vpi: Any) -> list[str]:
    return [f"{name} (GPIO {o.pin})" for name, o in vpi.outputs.items()
            if header.level(o.pin) != 0]


def outputs_low(header: Header, vpi: Any) -> bool:
    return not high_outputs(header, vpi)


SAFE_MOTOR = "motor (GPIO 12): off"  # ExecStopPost's line for the motor


def start() -> None:
    r = subprocess.run(["systemctl", "start", UNIT], capture_output=True, text=True,
                       timeout=GUARD)
    if r.returncode != 0:
        devices = sh("ls", "-l", "/dev/gpiochip0", "/dev/i2c-0", check=False)
        raise AssertionError(f"{UNIT} did not start: {r.stderr}{devices}"
                             f"{sh('id', 'capstan', check=False)}{journal()[-3000:]}")


def test_the_unit_is_ready_only_after_the_self_test(service: Header) -> None:
    start()  # Type=notify: returns once READY=1 came
    assert show("ActiveState") == "active" and show("SubState") == "running"
    status = show("StatusText")
    assert status.startswith("self-test passed"), status
    assert show("User") == "capstan"


def test_a_stalled_loop_is_killed_by_the_watchdog_and_restarted(service: Header,
                                                                  vpi: Any) -> None:
    start()
    pid = int(show("MainPID"))
    os.kill(pid, signal.SIGSTOP)  # the whole daemon stalls: no more watchdog pings
    wait_until(lambda: show("MainPID") not in ("0", str(pid)) and show("SubState") == "running",
               "a restart after the watchdog")
    assert int(show("NRestarts")) >= 1
    assert "Watchdog timeout" in journal() or "watchdog" in journal().lower()
    # the restarted daemon holds every output at rest; on a starved guest its start may
    # still be settling, so the check waits (a guard only) rather than sampling once
    wait_until(lambda: outputs_low(service, vpi),
               f"every output low after the restart (high: {high_outputs(service, vpi)})")


class _Installed:
    """The installed daemon's control socket, for the event stream."""

    def client(self) -> ControlClient:
        return ControlClient(Path("/run/capstan/control.sock"), timeout=GUARD)


def follow_installed() -> tuple[EventLog, int]:
    """The installed daemon's event stream, and its PID. A starved guest can miss the
    watchdog just after a start, and systemd then restarts the daemon under the test's
    feet (the restart is printed): the stream is opened again on the new daemon."""
    for _attempt in range(3):
        pid = show("MainPID")
        try:
            return EventLog(_Installed()), int(pid)  # type: ignore[arg-type]  # its client()
        except DaemonUnreachable as exc:
            print(f"the daemon (PID {pid}) went while the test connected: {exc}; "
                  f"journal:\n{journal()[-2000:]}")
            wait_until(lambda gone=pid: show("MainPID") not in ("0", gone)
                       and show("SubState") == "running", "the daemon running again")
    raise AssertionError(f"the daemon kept going away; journal:\n{journal()[-4000:]}")


def frozen_in_play(header: Header, vpi: Any) -> int:
    """Press PLAY on the header, wait for the daemon to report playing, and freeze it there
    (SIGSTOP) with the head solenoid up: the moment of a crash in the middle of PLAY. With
    no reels turning on this bench the reel watch stops the tape after its grace; on a
    starved guest that may come before the freeze, and then the press is made again."""
    play, head = vpi.buttons["play"].pin, vpi.outputs["head_solenoid"].pin
    log, pid = follow_installed()
    try:
        for _attempt in range(3):
            seen = len(log.events)
            press(header, play)
            log.wait(lambda e: e.get("type") == "transport" and e.get("state") == "playing",
                     "transport playing after PLAY", start=seen)
            os.kill(pid, signal.SIGSTOP)
            if header.level(head) == 1:
                return pid
            os.kill(pid, signal.SIGCONT)  # the reel watch was quicker: let it settle, again
            log.wait(lambda e: e.get("type") == "transport" and e.get("state") == "stopped",
                     "transport stopped", start=seen)
    finally:
        log.close()
    raise AssertionError("the head solenoid was never up while the daemon played")


def test_every_output_is_low_after_the_daemon_is_killed(service: Header, vpi: Any) -> None:
    start()
    frozen_in_play(service, vpi)
    assert high_outputs(service, vpi), "nothing was high before the kill"
    # earlier stops in this boot wrote the same line: wait for one more of it
    stops_before = journal().count(SAFE_MOTOR)
    sh("systemctl", "kill", "--signal=SIGKILL", UNIT)  # a crash in the middle of PLAY
    wait_until(lambda: journal().count(SAFE_MOTOR) > stops_before,
               "ExecStopPost's safe-outputs after the kill")
    assert outputs_low(service, vpi), f"high after ExecStopPost: {high_outputs(service, vpi)}"
    assert "record_relay (GPIO 23): off" in journal()
