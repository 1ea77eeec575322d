"""Scenarios choose the mechanism profile and the auto-reverse mode ([board])."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstan.errors import ConfigError
from capstan.harness.runner import run_scenario
from capstan.harness.scenario import parse_scenario

C46_SIDE = 23 * 60 + 2 * 2.0  # s, leaders included (hardware/board.toml)


def run(text: str, tmp_path: Path) -> dict:
    path = tmp_path / "s.toml"
    return run_scenario(parse_scenario(text, path), tmp_path / "out")


def test_crp_one_round_from_near_the_end_of_a_to_the_end_of_b(tmp_path: Path) -> None:
    report = run(f"""
[board]
mechanism = "crp42602y"
reverse = "one_round"
[cassette]
length = "C46"
position = {C46_SIDE - 30}
[run]
until = {C46_SIDE + 60}
[[step]]
at = 1
press = "play"
""", tmp_path)
    moves = [(e["state"], e["side"], e["direction"]) for e in report["events"]
             if e["type"] == "transport"]
    assert moves == [("stopped", "A", "still"), ("playing", "A", "forward"),
                     ("playing", "B", "forward"), ("stopped", "B", "still")]
    assert report["final"]["side"] == "B" and report["final"]["transport"] == "stopped"
    assert report["final"]["position"] == 0.0  # side B played to its end
    safety = [e for e in report["events"] if e["type"] == "safety"]
    assert [e["side"] for e in safety] == ["A", "B"]


def test_the_board_file_reverse_mode_is_the_default(tmp_path: Path) -> None:
    report = run("""
[board]
mechanism = "crp42602y"
[cassette]
length = "C46"
position = 1370
[run]
until = 40
[[step]]
at = 1
press = "play"
""", tmp_path)
    assert report["final"]["reverse"] == "one_round"
    assert report["final"]["side"] == "B" and report["final"]["transport"] == "playing"


def test_a_jammed_gear_in_a_scenario_stops_with_a_safety_event(tmp_path: Path) -> None:
    report = run("""
[board]
mechanism = "crp42602y"
[cassette]
length = "C60"
[run]
until = 5
[[step]]
at = 0.5
fault = "gear_jam"
[[step]]
at = 1
press = "play"
""", tmp_path)
    assert report["final"]["transport"] == "stopped"
    assert any(e["type"] == "safety" and e["what"] == "gear" for e in report["events"])


def test_mechanical_keys_in_a_scenario(tmp_path: Path) -> None:
    report = run("""
[board]
mechanism = "mechanical"
[cassette]
length = "C46"
position = 1370
protected = ["A"]
[run]
until = 30
[[step]]
at = 1
press = "play"
[[step]]
at = 2
key = "rec"
""", tmp_path)
    kinds = [(e["type"], e.get("state") or e.get("action")) for e in report["events"]]
    assert ("refused", "play") in kinds  # the button: the keys move this mechanism
    assert ("refused", "record") in kinds  # REC key, no tab: it plays, never records
    assert ("transport", "playing") in kinds and ("transport", "recording") not in kinds
    assert report["final"]["transport"] == "stopped"  # the end stopped the motor


@pytest.mark.parametrize("text,message", [
    ('[board]\nmechanism = "tanashin"\n', 'board.mechanism = "tanashin": must be one of'),
    ('[board]\nreverse = "twice"\n', 'board.reverse = "twice": must be one of'),
    ('[board]\nreverse = "endless"\n', "only an auto-reverse mechanism"),
    ('[[step]]\nat = 1\nkey = "play"\n', "step[0].key: keys belong to a mechanism moved by"),
    ('[board]\nmechanism = "mechanical"\n[[step]]\nat = 1\nkey = "eject"\n',
     'step[0].key = "eject": must be one of'),
    ('[board]\nmechanism = "crp42602y"\n[[step]]\nat = 1\nflip = true\n',
     "step[0].flip: not simulated with the crp42602y mechanism"),
    ('[board]\nmechanism = "mechanical"\n[[step]]\nat = 1\nfault = "gear_jam"\n',
     'step[0].fault = "gear_jam": not a fault of the simulated mechanical mechanism'),
    ('[[step]]\nat = 1\nfault = "gear_jam"\n', 'step[0].fault = "gear_jam"'),
])
def test_bad_board_choices_are_refused_in_one_line(tmp_path: Path, text: str,
                                                   message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(text, tmp_path / "s.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_reference_transport_events_carry_side_and_direction(tmp_path: Path) -> None:
    report = run("""
[cassette]
length = "C60"
[run]
until = 3
[[step]]
at = 0.5
press = "play"
[[step]]
at = 2
press = "rew"
""", tmp_path)
    moves = [(e["state"], e["side"], e["direction"]) for e in report["events"]
             if e["type"] == "transport"]
    assert ("playing", "A", "forward") in moves and ("rewind", "A", "backward") in moves


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_crp42602y_example_plays_one_round(tmp_path: Path) -> None:
    from capstan.harness.scenario import load_scenario

    report = run_scenario(load_scenario(EXAMPLES / "crp42602y-one-round.toml"), tmp_path)
    moves = [(e["state"], e["side"]) for e in report["events"] if e["type"] == "transport"]
    assert moves == [("stopped", "A"), ("playing", "A"), ("playing", "B"), ("stopped", "B")]
    assert report["final"]["side"] == "B" and report["final"]["position"] == 0.0


def test_the_mechanical_example_follows_the_keys(tmp_path: Path) -> None:
    from capstan.harness.scenario import load_scenario

    report = run_scenario(load_scenario(EXAMPLES / "mechanical-keys.toml"), tmp_path)
    ev = report["events"]
    states = [e["state"] for e in ev if e["type"] == "transport"]
    assert states == ["stopped", "playing", "stopped", "rewind"]
    refused = [e["action"] for e in ev if e["type"] == "refused"]
    assert refused == ["play", "record"]
    ends = [e for e in ev if e["type"] == "safety"]
    assert [e["what"] for e in ends] == ["end"] and ends[0]["t"] < 20.0
    assert report["final"]["transport"] == "rewind"
