"""`capstan run --board pi` with the CRP42602Y profile on the virtual Pi: the production
player drives the solenoid line through its pull sequence, reads GEAR_STATUS_SW and
CASSETTE_DETECT_SW through the kernel's line events, and the one rotation sensor's
auto-stop stops the motor line. The CRP42602Y's table takes the pins of the reference parts
it does without, as in hardware/board.toml.

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
from tests.vm.test_player import EventLog, press

SOLENOID, GEAR, ROTATION, CASSETTE, REC_A, REC_B = 17, 22, 10, 7, 14, 15
CRP_TABLE = f"""
[mechanism.crp42602y]
solenoid           = {{ pin = {SOLENOID} }}
gear_status_sw     = {{ pin = {GEAR}, active = "low" }}
rotation_sens      = {{ pin = {ROTATION}, active = "low" }}
cassette_detect_sw = {{ pin = {CASSETTE}, active = "low" }}
rec_a_sw           = {{ pin = {REC_A}, active = "low" }}
rec_b_sw           = {{ pin = {REC_B}, active = "low" }}
unhook = 0.020
head_dir_end = 0.100
lift_start = 0.150
lift_end = 0.300
reel_end = 0.400
return_pull = 0.020
return_turn = 0.360
margin = 0.020
retries = 1
pulses_per_turn = 8
stop_window = 0.4
reverse = "one_way"
"""


@pytest.fixture
def crp_player(tmp_path: Path, header: Header, chips: Any) -> Iterator[PiDaemon]:
    text = BOARD_FILE.read_text().replace('profile = "direct-drive"', 'profile = "crp42602y"')
    board = tmp_path / "crp.toml"
    board.write_text(text + CRP_TABLE)
    for line in (GEAR, ROTATION, REC_A, REC_B):
        header.drive(line, True)  # open: gear at rest, no slot, both tabs broken out
    header.drive(CASSETTE, False)  # a cassette is in
    with HeadSignal():
        d = PiDaemon(tmp_path, board_file=board)
        try:
            d.wait_for("READY=1")
            yield d
        finally:
            d.stop()
            header.drive(GEAR, True)


def test_play_pulls_the_gear_into_play_and_the_quiet_sensor_stops_the_motor(
        crp_player: PiDaemon, header: Header, vpi: Any) -> None:
    motor = vpi.outputs["motor"].pin
    log = EventLog(crp_player)
    try:
        assert header.level(SOLENOID) == 0 and header.level(motor) == 0
        press(header, vpi.buttons["play"].pin)
        assert header.wait_level(motor, 1), "PLAY did not run the motor"
        assert header.wait_level(SOLENOID, 1), "no pull of the solenoid"
        header.drive(GEAR, False)  # the gear turned into its function: the switch closes
        playing = log.wait(lambda e: e.get("type") == "transport"
                           and e.get("state") == "playing", "transport playing")
        assert (playing["side"], playing["direction"]) == ("A", "forward")
        # no slot passes the rotation sensor on this bench: the auto-stop cuts the motor
        stop = log.wait(lambda e: e.get("type") == "safety", "the auto-stop")
        assert stop["what"] == "end"
        assert header.wait_level(motor, 0) and header.level(SOLENOID) == 0
    finally:
        log.close()
