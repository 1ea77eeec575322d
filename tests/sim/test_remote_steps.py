"""Scenario steps for the headphones' own buttons and volume: parsing and their checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from capstan.errors import ConfigError
from capstan.harness.scenario import parse_scenario

CANS = "00:1B:66:0A:0B:0C"
PAIRED = f"""
[[headphones]]
name = "Cans"
address = "{CANS}"
pairing_at = 1.0
[[step]]
at = 2
hold = "pair"
for = 2.5
"""


def parse(text: str, tmp_path: Path):
    return parse_scenario(text, tmp_path / "s.toml")


def test_button_and_volume_steps_parse(tmp_path: Path) -> None:
    sc = parse(PAIRED + f"""
[[step]]
at = 12
headphones_button = "next"
[[step]]
at = 13
headphones_volume = 0.25
address = "{CANS.lower()}"
""", tmp_path)
    steps = [(s.at, s.action, s.value, s.address) for s in sc.steps][1:]
    assert steps == [(12, "headphones_button", "next", ""),
                     (13, "headphones_volume", 0.25, CANS)]


@pytest.mark.parametrize("step, key", [
    ('headphones_button = "rewind"', "step[1].headphones_button"),
    ("headphones_volume = 1.5", "step[1].headphones_volume"),
    ('headphones_volume = "loud"', "step[1].headphones_volume"),
    ('press = "play"\naddress = "00:1B:66:0A:0B:0C"', "step[1].address"),
    ('headphones_button = "play"\naddress = "11:22:33:44:55:66"', "step[1].address"),
])
def test_a_bad_step_is_named(tmp_path: Path, step: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse(PAIRED + f"[[step]]\nat = 12\n{step}\n", tmp_path)


@pytest.mark.parametrize("text", [
    '[[step]]\nat = 12\nheadphones_button = "play"\n',  # no [[headphones]] at all
    f'[[headphones]]\nname = "C"\naddress = "{CANS}"\n'
    '[[step]]\nat = 12\nheadphones_volume = 0.5\n',  # never paired: no PAIR hold
    PAIRED + '[[step]]\nat = 3\nheadphones_button = "play"\n',  # before the PAIR hold ends
    PAIRED.replace("pairing_at = 1.0", "pairing_at = 100.0")
    + '[run]\nuntil = 180\n[[step]]\nat = 120\nheadphones_button = "play"\n',  # pairing mode
    # after the window
])
def test_a_step_for_headphones_not_connected_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="connect"):
        parse(text, tmp_path)


def test_capstan_sim_exits_2_before_the_run(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[cassette]\nlength = "C46"\n[[step]]\nat = 5\n'
                        'headphones_button = "play"\n')
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "capstan", "sim", "--scenario", str(scenario),
                           "--report", str(report)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert "step[0].headphones_button" in done.stderr and "[[headphones]]" in done.stderr
    assert not report.exists() and not (tmp_path / "r-out").exists()
