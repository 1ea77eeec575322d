"""A wrong board file is refused in one line naming the file and the key (exit 2), before
anything is written; every number is checked for type, finiteness and range."""

from __future__ import annotations

import copy
import math
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from capstan.cli import main
from capstan.errors import BoardFileError, ConfigError
from capstan.hardware.description import DEFAULT_PATH, MECHANISM_RANGES, parse_board

RAW = tomllib.loads(DEFAULT_PATH.read_text())


def edit(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        table = raw
        for name in path[:-1]:
            table = table[name]
        table[path[-1]] = value
    return apply


NAN, INF = math.nan, math.inf
TABLE = [
    (("mechanism", "nominal_speed"), NAN, "mechanism.nominal_speed = nan"),
    (("mechanism", "nominal_speed"), INF, "mechanism.nominal_speed = inf"),
    (("mechanism", "nominal_speed"), -0.04, "mechanism.nominal_speed = -0.04"),
    (("mechanism", "nominal_speed"), 0, "mechanism.nominal_speed = 0"),
    (("mechanism", "nominal_speed"), 1e300, "mechanism.nominal_speed = 1e+300"),
    (("mechanism", "nominal_speed"), "fast", 'mechanism.nominal_speed = "fast"'),
    (("mechanism", "nominal_speed"), True, "mechanism.nominal_speed = true"),
    (("mechanism", "hub_radius"), NAN, "mechanism.hub_radius = nan"),
    (("mechanism", "leader"), -INF, "mechanism.leader = -inf"),
    (("mechanism", "play_duty"), 0, "mechanism.play_duty = 0"),
    (("mechanism", "play_duty"), 1.5, "mechanism.play_duty = 1.5"),
    (("mechanism", "motor_time_constant"), NAN, "mechanism.motor_time_constant = nan"),
    (("mechanism", "wind_spindle_rpm"), 1e9, "mechanism.wind_spindle_rpm = 1000000000"),
    (("mechanism", "wind_duty"), NAN, "mechanism.wind_duty = nan"),
    (("mechanism", "cassettes", "C60", "minutes"), NAN, "mechanism.cassettes.C60.minutes"),
    (("mechanism", "cassettes", "C60", "thickness"), INF,
     "mechanism.cassettes.C60.thickness = inf"),
    (("mechanism", "cassettes", "C60"), 5, "mechanism.cassettes.C60 must be a table"),
    (("tachometers", "take_up", "pulses_per_turn"), 2.5,
     "tachometers.take_up.pulses_per_turn = 2.5"),
    (("tachometers", "take_up", "pulses_per_turn"), 0,
     "tachometers.take_up.pulses_per_turn = 0"),
    (("outputs", "motor", "frequency"), NAN, "outputs.motor.frequency = nan"),
    (("outputs", "motor", "frequency"), "1k", 'outputs.motor.frequency = "1k"'),
    (("outputs", "motor", "label"), 5, "outputs.motor.label = 5"),
    (("leds", "status", "channel"), 1.0, "leds.status.channel = 1.0"),
    (("leds", "status", "channel"), 16, "leds.status.channel = 16"),
    (("i2c", "bus"), -1, "i2c.bus = -1"),
    (("i2c", "charger", "address"), "0x6a", 'i2c.charger.address = "0x6a"'),
    (("buttons", "play", "pin"), 4.0, "buttons.play.pin"),
    (("alsa", "rate"), 48000.0, "alsa.rate"),
    (("mechanism",), 5, "mechanism must be a table"),
]


def write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "board.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@pytest.mark.parametrize("where, value, words", TABLE)
def test_a_bad_value_is_named(tmp_path: Path, where: tuple[str, ...], value: Any,
                              words: str) -> None:
    raw = copy.deepcopy(RAW)
    edit(where, value)(raw)
    with pytest.raises(BoardFileError) as exc:
        parse_board(raw, tmp_path / "board.toml")
    msg = str(exc.value)
    assert str(tmp_path / "board.toml") in msg and words in msg, msg
    assert isinstance(exc.value, ConfigError)  # bad input: exit 2


def snapshot(directory: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in sorted(directory.rglob("*"))}


@pytest.mark.parametrize("case", ["nan", "non_utf8", "deep", "directory", "fifo", "huge",
                                  "device", "big_int"])
def test_capstan_sim_refuses_a_bad_board_file_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        case: str) -> None:
    board = tmp_path / "board.toml"
    text = DEFAULT_PATH.read_text()
    if case == "nan":
        board.write_text(text.replace("nominal_speed = 0.047625", "nominal_speed = nan"))
        words = "mechanism.nominal_speed = nan"
    elif case == "non_utf8":
        board.write_bytes(text.replace('name = "', 'name = "\xff', 1).encode("latin-1"))
        words = "not UTF-8"
    elif case == "deep":
        board.write_text(text + "\n[extra]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
        words = "nested too deeply"
    elif case == "directory":
        board.mkdir()
        words = "is a directory"
    elif case == "fifo":
        os.mkfifo(board)
        words = "not a regular file"
    elif case == "huge":
        board.write_text(text + "#" * (2 << 20))
        words = "too big"
    elif case == "device":
        board.symlink_to("/dev/zero")
        words = "not a regular file"
    else:
        board.write_text(text.replace("bus = 1", "bus = 1" + "0" * 5000))
        words = "not valid TOML"
    scenario = tmp_path / "s.toml"
    scenario.write_text("[run]\nuntil = 1\n")
    monkeypatch.setenv("CAPSTAN_BOARD", str(board))
    before = snapshot(tmp_path)
    assert main(["sim", "--scenario", str(scenario), "--report",
                 str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(board) in err and words in err, err
    assert snapshot(tmp_path) == before


@given(name=st.sampled_from(sorted(MECHANISM_RANGES)),
       x=st.floats(allow_nan=True, allow_infinity=True))
def test_property_every_mechanism_number_is_checked(name: str, x: float) -> None:
    lo, hi, above, _ = MECHANISM_RANGES[name]
    raw = copy.deepcopy(RAW)
    raw["mechanism"][name] = x
    if math.isfinite(x) and (lo < x if above else lo <= x) and x <= hi:
        assert getattr(parse_board(raw).mechanism, name) == x
    else:
        with pytest.raises(BoardFileError, match=rf"mechanism\.{name} = "):
            parse_board(raw)
