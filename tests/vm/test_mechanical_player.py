"""`capstan run --board pi` with the mechanical profile on the virtual Pi: the production
player reads the keys' leaf switches through the kernel's line events, runs only the motor
line, and the one rotation sensor's auto-stop cuts it (the key stays down, the event says
so). REC down with the tab broken out plays and never raises the record relay's line. The
keys' switches take the pins of the PLAY/FF/REW/REC buttons, as in hardware/board.toml.

Real time: every wait is on an event or a line's level, with a timeout that only guards
against a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.vm.daemon import PiDaemon
from tests.vm.rig import BOARD_FILE, Header, HeadSignal
from tests.vm.test_player import EventLog, press, watch_line

KEY_PLAY, KEY_FF, KEY_REW, KEY_REC, ROTATION = 5, 13, 26, 27, 10
MECHANICAL_TABLE = f"""
[mechanism.mechanical]
key_play      = {{ pin = {KEY_PLAY}, active = "low" }}
key_ff        = {{ pin = {KEY_FF}, active = "low" }}
key_rew       = {{ pin = {KEY_REW}, active = "low" }}
key_rec       = {{ pin = {KEY_REC}, active = "low" }}
rotation_sens = {{ pin = {ROTATION}, active = "low" }}
pulses_per_turn = 8
stop_window = 0.4
"""


def following(daemon: PiDaemon, header: Header, vpi: Any) -> EventLog:
    """The event log, once the daemon is seen to send it events (a VOL+ tap's)."""
    log = EventLog(daemon)
    press(header, vpi.buttons["vol_up"].pin)
    log.wait(lambda e: e.get("type") == "button" and e.get("button") == "vol_up", "VOL+")
    return log


@pytest.fixture
def walkman(tmp_path: Path, header: Header, chips: Any, vpi: Any) -> Iterator[PiDaemon]:
    text = BOARD_FILE.read_text().replace('profile = "direct-drive"', 'profile = "mechanical"')
    board = tmp_path / "mechanical.toml"
    board.write_text(text + MECHANICAL_TABLE)
    for line in (KEY_PLAY, KEY_FF, KEY_REW, KEY_REC, ROTATION):
        header.drive(line, True)  # every key up, no slot at the sensor
    header.drive(vpi.switches["cassette_in"].pin, False)  # a cassette is in
    with HeadSignal():
        d = PiDaemon(tmp_path, board_file=board)
        try:
            d.wait_for("READY=1")
            yield d
        finally:
            d.stop()
            for line in (KEY_PLAY, KEY_REC):
                header.drive(line, True)


def test_the_play_key_runs_the_motor_and_the_quiet_sensor_cuts_it(
        walkman: PiDaemon, header: Header, vpi: Any) -> None:
    motor = vpi.outputs["motor"].pin
    log = following(walkman, header, vpi)
    try:
        assert header.level(motor) == 0
        header.drive(KEY_PLAY, False)  # the user pressed PLAY on the mechanism: it latches
        assert header.wait_level(motor, 1), "the PLAY key did not run the motor"
        playing = log.wait(lambda e: e.get("type") == "transport"
                           and e.get("state") == "playing", "transport playing")
        assert playing["direction"] == "forward"
        log.wait(lambda e: e.get("type") == "keys" and e.get("down") == ["play"], "keys")
        # no slot passes the rotation sensor on this bench: the auto-stop cuts the motor
        stop = log.wait(lambda e: e.get("type") == "safety", "the auto-stop")
        assert stop["what"] == "end" and "press STOP on the mechanism" in stop["reason"]
        assert header.wait_level(motor, 0)
        assert 1 not in watch_line(header, motor, 1.0)  # the key still down: it stays off
        header.drive(KEY_PLAY, True)  # STOP on the mechanism releases the key
        log.wait(lambda e: e.get("type") == "keys" and e.get("down") == [], "keys up")
    finally:
        log.close()


def test_the_rec_key_with_the_tab_out_never_raises_the_relay(
        walkman: PiDaemon, header: Header, vpi: Any) -> None:
    relay = vpi.outputs["record_relay"].pin
    header.drive(vpi.switches["tab_a"].pin, True)  # the tab broken out: its switch open
    log = following(walkman, header, vpi)
    try:
        header.drive(KEY_REC, False)  # REC goes down with PLAY
        header.drive(KEY_PLAY, False)
        refused = log.wait(lambda e: e.get("type") == "refused", "the refusal")
        assert "write-protected" in refused["reason"]
        assert 1 not in watch_line(header, relay, 1.5)
        assert not [e for e in log.events if e.get("type") == "transport"
                    and e.get("state") == "recording"]
    finally:
        log.close()
