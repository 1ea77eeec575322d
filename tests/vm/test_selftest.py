"""`capstan selftest --board pi` on the virtual Pi: healthy, then each fault named."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.vm.daemon import CONFIG
from tests.vm.rig import BOARD_FILE, Header, HeadSignal

GUARD = 120.0  # s: a failure guard


def selftest(board_file: Path = BOARD_FILE, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "capstan", "selftest", "--board", "pi",
                           "--board-file", str(board_file), "--config", str(CONFIG), *extra],
                          capture_output=True, text=True, timeout=GUARD)


def edited(tmp_path: Path, pattern: str, replacement: str) -> Path:
    text = BOARD_FILE.read_text()
    new, n = re.subn(pattern, replacement, text, count=1, flags=re.M)
    assert n == 1, pattern
    path = tmp_path / "board.toml"
    path.write_text(new)
    return path


def test_the_healthy_virtual_pi_passes(header: Header, chips: Any) -> None:
    with HeadSignal():
        r = selftest()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "self-test passed" in r.stdout
    assert "fuel gauge (MAX17048): answers at 0x36" in r.stdout


def test_a_button_line_held_low_is_named(header: Header, chips: Any, vpi: Any) -> None:
    header.drive(vpi.buttons["play"].pin, False)  # stuck, or shorted to ground
    with HeadSignal():
        r = selftest()
    assert r.returncode == 1
    assert "PLAY button: reads pressed on GPIO 5 with nobody touching it" in r.stdout


def test_a_chip_that_answers_nothing_is_named(tmp_path: Path, header: Header,
                                              chips: Any) -> None:
    board = edited(tmp_path, r"^fuel_gauge = .*$",
                   'fuel_gauge = { chip = "max17048", address = 0x37 }')
    with HeadSignal():
        r = selftest(board)
    assert r.returncode == 1
    assert "fuel gauge (MAX17048): no answer at 0x37 on I2C-0" in r.stdout


def test_a_missing_sound_card_is_named(tmp_path: Path, header: Header, chips: Any) -> None:
    board = edited(tmp_path, r'^capture  = ".*"$', 'capture  = "hw:CARD=capstan,DEV=0"')
    r = selftest(board)
    assert r.returncode == 1
    assert "FAIL  ADC (capture): cannot open hw:CARD=capstan,DEV=0" in r.stdout


def test_head_silence_is_named(header: Header, chips: Any) -> None:
    r = selftest()  # nobody plays into the loopback: the ADC's data line is dead
    assert r.returncode == 1
    assert "ADC (capture): delivers exact digital silence" in r.stdout
