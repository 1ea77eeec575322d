"""Scenario files: strict parsing, `capstan sim` exit codes, and the report's contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capstan.errors import ConfigError
from capstan.harness.scenario import parse_scenario

GOOD = """
[cassette]
length = "C46"
type = "II"
protected = ["B"]
speed_error = 0.01
[run]
until = 8
[[step]]
at = 1
press = "play"
[[step]]
at = 5
hold = "stop"
for = 0.5
"""


def parse(text: str, tmp_path: Path):
    return parse_scenario(text, tmp_path / "s.toml")


def test_a_good_scenario_parses(tmp_path: Path) -> None:
    sc = parse(GOOD, tmp_path)
    assert sc.cassette["length"] == "C46" and sc.cassette["protected"] == ["B"]
    assert [(s.at, s.action, s.value) for s in sc.steps] == [(1, "press", "play"),
                                                            (5, "hold", "stop")]
    assert sc.steps[1].duration == 0.5 and sc.until == 8


@pytest.mark.parametrize("text, key", [
    ("[casette]\nlength = \"C60\"", "casette"),
    ("[cassette]\nlenght = \"C60\"", "cassette.lenght"),
    ("[cassette]\nlength = \"C61\"", "cassette.length"),
    ("[cassette]\ntype = 2", "cassette.type"),
    ("[cassette]\nprotected = \"B\"", "cassette.protected"),
    ("[cassette]\nside_a = \"missing.wav\"", "cassette.side_a"),
    ("[line_in]\nat = 3", "line_in.file"),
    ("[run]\nuntil = -1", "run.until"),
    ("[[step]]\nat = 1\npress = \"playy\"", "step[0].press"),
    ("[[step]]\npress = \"play\"", "step[0].at"),
    ("[[step]]\nat = 1\npress = \"play\"\neject = true", "step[0]"),
    ("[[step]]\nat = 1\nhold = \"pair\"", "step[0].for"),
    ("[[step]]\nat = 1\nfault = \"meltdown\"", "step[0].fault"),
    ("[[headphones]]\nname = \"X\"\naddress = \"nope\"", "headphones.address"),
    ("[run\nuntil = 3", "not valid TOML"),
    ("[[step]]\nat = 1\nheadphones = \"drop\"", "step[0].address"),
    ("[[step]]\nat = 1\nheadphones = \"sing\"\naddress = \"00:1B:66:0A:0B:0C\"",
     "step[0].headphones"),
])
def test_a_mistake_is_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse(text, tmp_path)


def capstan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capstan", *args], capture_output=True,
                          text=True, timeout=300)


def test_an_invalid_scenario_exits_2_and_runs_nothing(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[cassette]\nlength = \"C60\"\nflutter = \"lots\"\n")
    report = tmp_path / "r.json"
    done = capstan("sim", "--scenario", str(scenario), "--report", str(report))
    assert done.returncode == 2
    assert "cassette.flutter" in done.stderr
    assert not report.exists() and not (tmp_path / "r-out").exists()


def test_the_report_keeps_its_contract(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(GOOD)
    report_path = tmp_path / "r.json"
    done = capstan("sim", "--scenario", str(scenario), "--report", str(report_path),
                   "--seed", "4")
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    events = report["events"]
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert all({"t", "type"} <= set(e) for e in events)
    states = [e["state"] for e in events if e["type"] == "transport"]
    assert states[:3] == ["stopped", "playing", "stopped"]
    pins = [e for e in events if e["type"] == "pin"]
    assert {"role", "value"} <= set(pins[0])
    motor = [e["value"] for e in pins if e["role"] == "motor"]
    assert motor[0] > 0 and motor[-1] == 0
    assert not any(e["role"] == "record_relay" and e["value"] for e in pins)
    final = report["final"]
    assert {"transport", "side", "position", "counter"} <= set(final)
    assert final["side"] == "A" and 3.5 < final["position"] < 4.5
    assert Path(report["outputs"]["jack"]).stat().st_size > 44
    assert (Path(report["cassette"]) / "cassette.toml").is_file()
    # deterministic for a given seed
    again = tmp_path / "r2.json"
    capstan("sim", "--scenario", str(scenario), "--report", str(again), "--seed", "4")
    assert json.loads(again.read_text())["events"] == events
