"""The self-test on the simulated board: what it finds, in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from capstan.cli import main
from capstan.harness.session import SimSession
from capstan.selftest import run_selftest
from capstan.sim.i2c import RegisterModel


def selftest(session: SimSession, **kw: Any) -> Any:
    return session.loop.run_until_complete(run_selftest(session.board, **kw))


def finding(report: Any, part: str) -> Any:
    return next(f for f in report.findings if f.part.startswith(part))


def test_a_healthy_simulated_board(session: SimSession) -> None:
    session.deck.start()
    report = selftest(session)
    for part in ("PLAY button", "cassette switch", "ADC (capture)", "DAC (playback)",
                 "take_up reel tachometer", "supply reel tachometer", "outputs"):
        assert finding(report, part).ok, finding(report, part)
    assert not report.critical
    # chips answer when the simulator models them, and say where to look when not
    for dev in session.description.i2c.values():
        f = next(f for f in report.findings if f"0x{dev.address:02x}" in f.message)
        assert f.ok == (dev.address in session.deck.i2c.devices)
        if not f.ok:
            assert "no answer" in f.message and "SDA (GPIO 2)" in f.message


def test_a_stuck_button_and_a_shorted_tab_switch(session: SimSession) -> None:
    session.deck.start()
    session.deck.set_button("ff", True)
    tab = session.description.switches["tab_a"]
    session.deck.factory.gpio(tab.pin).drive(not tab.active_low)
    report = selftest(session)
    ff = finding(report, "FF button")
    assert not ff.ok and "GPIO 13" in ff.message and "stuck" in ff.message
    tab_finding = finding(report, "tab_a switch")
    assert not tab_finding.ok and "no cassette" in tab_finding.message
    assert not report.passed and "FF button" in report.summary()


def test_a_chip_with_the_wrong_identity(session: SimSession) -> None:
    session.deck.start()
    gauge = RegisterModel()
    gauge.registers.update({0x08: 0x12, 0x09: 0x34})
    session.deck.i2c.attach(session.description.i2c["fuel_gauge"].address, gauge)
    f = finding(selftest(session), "fuel gauge")
    assert not f.ok and "VERSION register reads 0x1234" in f.message


def test_a_dead_adc_is_critical(session: SimSession) -> None:
    session.deck.start()
    session.deck.overruns_pending = 10**6
    report = selftest(session)
    adc = finding(report, "ADC (capture)")
    assert not adc.ok and adc.critical and "I2S" in adc.message


def test_the_motor_check_turns_both_reels_with_a_cassette(session: SimSession) -> None:
    session.make_cassette("C60", position=300.0)
    session.deck.start()
    report = selftest(session, motor=True)
    assert finding(report, "take_up reel in PLAY").ok
    assert finding(report, "supply reel in PLAY").ok
    assert all(v == 0 for r, v in session.deck.outputs.items() if not r.startswith("led_"))


def test_a_stalled_reel_is_named(session: SimSession) -> None:
    session.make_cassette("C60", position=300.0)
    session.deck.start()
    session.deck.fault("stall_take_up")
    f = finding(selftest(session, motor=True), "take_up reel in PLAY")
    assert not f.ok and "did not turn" in f.message and "GPIO 10" in f.message


def test_what_was_not_checked_is_said_so(session: SimSession) -> None:
    session.deck.start()
    report = selftest(session, motor=True)  # no cassette in
    motor = finding(report, "motor and reels")
    assert not motor.checked and "no cassette" in motor.message
    assert "--    motor and reels in PLAY: not checked: no cassette in" in report.text()
    assert "ok  " not in motor.line()
    assert report.passed and report.summary().endswith(", 2 not checked)")
    assert finding(report, "state directory").checked is False  # none was given
    without = selftest(session)
    assert "--motor" in finding(without, "motor and reels").message


def test_selftest_on_the_simulated_board_checks_the_simulators_state_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code = main(["selftest", "--board", "sim"])
    out = capsys.readouterr().out
    assert f"ok    state directory: {tmp_path / 'capstan-sim'} is writable" in out
    assert "/var/lib/capstan" not in out
    assert "--    motor and reels in PLAY: not checked: run `capstan selftest --motor`" in out
    assert code == (0 if "FAIL" not in out and "warn" not in out else 1)
    assert main(["selftest", "--board", "sim", "--state-dir", str(tmp_path / "d"),
                 "--json"]) in (0, 1)
    findings = json.loads(capsys.readouterr().out)["findings"]
    state = next(f for f in findings if f["part"] == "state directory")
    assert state["checked"] and str(tmp_path / "d") in state["message"]


def test_the_crp42602y_board_drives_its_solenoid_line_off_and_leaves_the_motor_to_bringup(
        tmp_path: Path) -> None:
    import copy
    import tomllib

    from capstan.hardware.description import DEFAULT_PATH, parse_board

    raw = copy.deepcopy(tomllib.loads(DEFAULT_PATH.read_text()))
    raw["mechanism"]["profile"] = "crp42602y"
    s = SimSession(tmp_path / "s", board=parse_board(raw))
    try:
        s.make_cassette("C60")
        s.deck.start()
        s.board.signals["solenoid"].write(True)  # left pulled by a crashed daemon
        report = selftest(s, motor=True)
        assert s.deck.outputs["solenoid"] == 0.0
        assert finding(report, "outputs").ok
        motor = finding(report, "motor and reels in PLAY")
        assert not motor.checked and "BRINGUP.md" in motor.message
        assert not any("tachometer" in f.part for f in report.findings)  # it has none
        assert not report.critical
    finally:
        s.close()
