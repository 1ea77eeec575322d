"""`capstan run --board pi` with hardware/virtual-pi.toml: buttons pulled on gpio-sim lines
go through the kernel's edge events into the player; its outputs are read back.

Real time: every wait is on an event (NOTIFY_SOCKET, the event stream, a line's level)
with a timeout that only guards against a hang.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.vm.daemon import GUARD, PiDaemon
from tests.vm.rig import Header, HeadSignal


@pytest.fixture
def player(tmp_path: Path, header: Header, chips: Any, vpi: Any) -> Iterator[PiDaemon]:
    header.drive(vpi.switches["cassette_in"].pin, False)  # a cassette is in
    with HeadSignal():
        d = PiDaemon(tmp_path)
        try:
            d.wait_for("READY=1")
            yield d
        finally:
            d.stop()


class EventLog:
    """The daemon's event stream, gathered on a thread."""

    def __init__(self, daemon: PiDaemon) -> None:
        self.events: list[dict[str, Any]] = []
        self._daemon = daemon
        self._client = daemon.client()
        self._stream = self._client.events(GUARD)
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        try:
            for event in self._stream:
                with self._changed:
                    self.events.append(event)
                    self._changed.notify_all()
        except Exception:
            pass

    def wait(self, predicate: Any, what: str, start: int = 0) -> dict[str, Any]:
        """The first event from index `start` on that satisfies `predicate`."""
        deadline = time.monotonic() + GUARD  # a failure guard
        with self._changed:
            while True:
                for e in self.events[start:]:
                    if predicate(e):
                        return e
                if not self._changed.wait(max(0.0, deadline - time.monotonic())):
                    said = getattr(self._daemon, "output", lambda: "")()[-3000:]
                    raise AssertionError(f"no {what} among {self.events}; the daemon said:\n"
                                         f"{said}")

    def close(self) -> None:
        self._client._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
        self._thread.join(GUARD)
        self._client.close()


def press(header: Header, pin: int, hold: float = 0.3) -> None:
    """A finger on the button: the line low for a while, then released."""
    header.drive(pin, False)
    time.sleep(hold)  # the press itself lasts this long in real time
    header.drive(pin, True)


def watch_line(header: Header, pin: int, seconds: float) -> set[int]:
    """Every level the line showed while sampled for `seconds` of real time."""
    seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.add(header.level(pin))
        time.sleep(0.01)  # a relay that rose would stay up far longer
    return seen


def test_play_drives_the_motor_line_and_no_reel_pulses_stop_it(
        player: PiDaemon, header: Header, vpi: Any) -> None:
    motor = vpi.outputs["motor"].pin
    log = EventLog(player)
    try:
        assert watch_line(header, motor, 0.3) == {0}
        press(header, vpi.buttons["play"].pin)
        log.wait(lambda e: e.get("type") == "transport" and e.get("state") == "playing",
                 "transport playing")
        assert header.wait_level(motor, 1), "PLAY did not drive the motor line"
        assert header.level(vpi.outputs["head_solenoid"].pin) == 1
        # no reel turns on this bench: the reel watch stops the tape and says why
        log.wait(lambda e: e.get("type") == "transport" and e.get("state") == "stopped",
                 "transport stopped")
        assert watch_line(header, motor, 0.3) == {0}
        assert header.level(vpi.outputs["head_solenoid"].pin) == 0
    finally:
        log.close()


def test_a_protected_side_never_raises_the_record_relay(
        player: PiDaemon, header: Header, vpi: Any) -> None:
    # side A's tab switch open: the tab is broken out
    relay, rec, play = (vpi.outputs["record_relay"].pin, vpi.buttons["rec"].pin,
                        vpi.buttons["play"].pin)
    log = EventLog(player)
    seen: set[int] = set()
    watcher = threading.Thread(target=lambda: seen.update(watch_line(header, relay, 2.5)))
    try:
        watcher.start()
        header.drive(rec, False)  # REC held, PLAY pressed: the chord
        time.sleep(0.3)
        press(header, play)
        time.sleep(0.5)
        header.drive(rec, True)
        refusal = log.wait(lambda e: e.get("type") == "refused", "the refusal")
        watcher.join()
    finally:
        log.close()
    assert seen == {0}, "the record relay rose on a protected side"
    assert refusal["type"] == "refused" and refusal["action"] == "record"
    assert "side A is write-protected" in refusal["reason"]
