"""`capstan run --board pi` where the Pi's hardware is not there: each missing part is
named in words (logged, and in the STATUS line systemd shows), and the daemon stops
with EXIT_NO_HARDWARE, which capstan.service does not restart on: no crash loop.

Runs the real daemon in a subprocess on this machine, which has no Pi GPIO library
opened on a Pi, no such I2C bus and no such sound card (the board file says which)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from capstan.service.census import EXIT_NO_HARDWARE

ROOT = Path(__file__).resolve().parents[2]
NO_BUS = 29  # the highest but two the board file takes: no PC or Pi has it


def no_hardware_board(tmp_path: Path) -> Path:
    text = (ROOT / "hardware" / "board.toml").read_text()
    text, buses = re.subn(r"(?m)^bus = 1$", f"bus = {NO_BUS}", text)
    text, cards = re.subn(r"CARD=capstan,", "CARD=capstantest,", text)
    assert buses == 1 and cards == 2, "hardware/board.toml changed: update this test"
    path = tmp_path / "board.toml"
    path.write_text(text)
    return path


def test_the_daemon_names_what_is_missing_and_stops_for_good(tmp_path: Path) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"),
           "PYTHONPATH": str(ROOT / "firmware")}
    proc = subprocess.run(
        [sys.executable, "-m", "capstan", "run", "--board", "pi", "--board-file",
         str(no_hardware_board(tmp_path)), "--state-dir", str(tmp_path / "state"),
         "--socket", str(tmp_path / "sock")],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert not Path(f"/dev/i2c-{NO_BUS}").exists(), f"this machine has /dev/i2c-{NO_BUS}"
    if "opened with" in proc.stderr and "GPIO header" in proc.stderr:
        pytest.fail("this machine opened a Pi's GPIO: run this test off a Pi")
    assert proc.returncode == EXIT_NO_HARDWARE, proc.stderr
    err = proc.stderr
    assert re.search(r"FAIL  GPIO header: cannot open the Pi's GPIO \(.+\)", err), err
    assert f"FAIL  I2C-{NO_BUS}: no bus /dev/i2c-{NO_BUS}" in err, err
    for chip in ("fuel gauge (MAX17048)", "charger (BQ25895)", "LED driver (PCA9685)"):
        assert f"--    {chip}: not checked: no I2C-{NO_BUS}" in err, err
    assert "FAIL  ADC (capture): no ALSA device hw:CARD=capstantest,DEV=0" in err, err
    assert "FAIL  DAC (playback): no ALSA device hw:CARD=capstantest,DEV=0" in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("capstan: self-test: 4 problem(s): GPIO header: "), last
    assert last.endswith("Not restarting: the hardware is missing "
                         "(`sudo systemctl restart capstan` once it is there)"), last
    heard = []
    notify.setblocking(False)
    while True:
        try:
            heard.append(notify.recv(4096).decode())
        except BlockingIOError:
            break
    assert any(m.startswith("STATUS=self-test failed: self-test: 4 problem(s): GPIO header")
               for m in heard), heard
    assert not any("READY=1" in m for m in heard), heard
    assert not (tmp_path / "sock").exists()


def test_the_unit_does_not_restart_on_missing_hardware() -> None:
    unit = (ROOT / "system" / "systemd" / "capstan.service").read_text()
    assert re.search(r"(?m)^Restart=on-failure$", unit)
    assert re.findall(r"(?m)^RestartPreventExitStatus=(.*)$", unit) == [str(EXIT_NO_HARDWARE)]
