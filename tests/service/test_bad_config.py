"""A wrong configuration is refused in one line naming the file and the key (exit 2), the
daemon does not start on it and nothing is written; every number is checked."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capstan.cli import main
from capstan.config import POWER_SCHEMA, SCHEMA, load_config
from capstan.errors import ConfigError

TABLE = [
    ("player = 5", "player = 5: must be a table"),
    ('player = "sim"', 'player = "sim": must be a table'),
    ("[player]\nperiod = 0", "player.period = 0"),
    ("[player]\nperiod = -1024", "player.period = -1024"),
    ("[player]\nperiod = 1024.0", "player.period = 1024.0"),
    ("[player]\nperiod = 100000", "player.period = 100000"),
    ("[player]\nperiod = true", "player.period = true"),
    ('[player]\nboard = "mac"', 'player.board = "mac"'),
    ("[player]\nboard = 5", "player.board = 5"),
    ('[player]\nstate_dir = ""', 'player.state_dir = ""'),
    ("[player]\nsocket = 5", "player.socket = 5"),
    ("[audio]\nvolume = nan", "audio.volume = nan"),
    ("[audio]\nvolume = inf", "audio.volume = inf"),
    ("[audio]\nvolume = -0.1", "audio.volume = -0.1"),
    ("[audio]\nvolume = 1e308", "audio.volume = 1e+308"),
    ('[audio]\nvolume = "loud"', 'audio.volume = "loud"'),
    ("[audio]\nvolume = false", "audio.volume = false"),
    ('[intelligence]\ndigitize_format = "mp3"', 'intelligence.digitize_format = "mp3"'),
    ("[intelligence]\ndigitize = 1", "intelligence.digitize = 1"),
    ('[transport]\nauto_rewind = "false"', 'transport.auto_rewind = "false"'),
    ('[bluetooth]\nenabled = "no"', 'bluetooth.enabled = "no"'),
    ("[audio]\nloudness = 1", "unknown key audio.loudness"),
    ("[amp]\ngain = 1", "unknown section [amp]"),
    ('[power]\npoll_interval = "2"', 'power.poll_interval = "2"'),
    ('[power]\nwatchdog_timeout = "40"', 'power.watchdog_timeout = "40"'),
    ("[power]\npoll_interval = 0", "power.poll_interval = 0"),
    ("[power]\npoll_interval = nan", "power.poll_interval = nan"),
    ("[power]\ncapacity_mah = inf", "power.capacity_mah = inf"),
    ("[power]\ncritical_voltage = -3", "power.critical_voltage = -3"),
    ("[power]\nconfirm_readings = 2.5", "power.confirm_readings = 2.5"),
    ("[power]\ntypical_current = 0.3", "power.typical_current = 0.3"),
    ("[power]\ntypical_current = { wired = nan, bluetooth = 0.4, recording = 0.5 }",
     "power.typical_current.wired = nan"),
    ("[power]\ntypical_current = { wired = 0.3 }", "power.typical_current.bluetooth is missing"),
    ("[power]\nwatchdog_timeout = 50", "power.watchdog_timeout"),
    ("[power]\nwarning_percent = 3", "power.warning_percent"),
    ("power = 1", "power = 1: must be a table"),
    ("x = " + "[" * 3000 + "]" * 3000, "nested too deeply"),
    ("[player]\nperiod = 1" + "0" * 5000, "not valid TOML"),
]


@pytest.mark.parametrize("text, words", TABLE)
def test_config_check_names_the_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             text: str, words: str) -> None:
    path = tmp_path / "capstan.toml"
    path.write_text(text + "\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and words in err, err


@pytest.mark.parametrize("case", ["non_utf8", "directory", "fifo", "device", "missing"])
def test_a_config_that_is_not_a_text_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    path = tmp_path / "capstan.toml"
    words = {"non_utf8": "not UTF-8", "directory": "is a directory",
             "fifo": "not a regular file", "device": "not a regular file",
             "missing": "no such configuration file"}[case]
    if case == "non_utf8":
        path.write_bytes(b'[player]\nstate_dir = "/var/lib/\xfe"\n')
    elif case == "directory":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "device":
        path.symlink_to("/dev/zero")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and words in err, err


def test_the_daemon_refuses_a_bad_config_before_it_writes_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "capstan.toml"
    path.write_text("[player]\nperiod = 0\n")
    state = tmp_path / "state"
    assert main(["run", "--board", "sim", "--config", str(path), "--state-dir", str(state),
                 "--socket", str(tmp_path / "s.sock")]) == 2
    assert "player.period = 0" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capstan.toml"]


NUMBERS = {f"{section}.{key}": check for section, keys in SCHEMA.items()
           for key, check in keys.items() if hasattr(check, "accepts")
           and "number" in check.accepts}
NUMBERS.update({f"power.{key}": check for key, check in POWER_SCHEMA.items()
                if hasattr(check, "accepts") and "number" in check.accepts})


def toml_number(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


@given(key=st.sampled_from(sorted(NUMBERS)),
       x=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-10**6, 10**6)))
def test_property_a_number_is_taken_only_in_its_range(
        tmp_path_factory: pytest.TempPathFactory, key: str, x: float) -> None:
    section, name = key.split(".")
    path = tmp_path_factory.getbasetemp() / "c.toml"
    path.write_text(f"[{section}]\n{name} = {toml_number(x)}\n")
    try:
        NUMBERS[key](key, x)
        in_range = True
    except ConfigError:
        in_range = False
    if in_range:
        try:
            config = load_config(path)
        except ConfigError as exc:  # only how [power] values relate may still refuse it
            assert section == "power", exc
            return
        assert config[section][name] == x
    else:
        with pytest.raises(ConfigError) as exc:
            load_config(path)
        assert f"{key} = " in str(exc.value) and str(path) in str(exc.value)


def test_docs_configuration_lists_what_every_key_accepts() -> None:
    from capstan import schema as sc
    from capstan.hardware.description import MECHANISM_RANGES

    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    rows = {line.split("|")[1].strip().strip("`"): line for line in page.splitlines()
            if line.startswith("| `")}
    for section, keys in {**SCHEMA, "power": POWER_SCHEMA}.items():
        for key, check in keys.items():
            row = rows[f"{section}.{key}"]
            accepts = getattr(check, "accepts", None)
            if accepts:
                assert accepts in row, (section, key, accepts)
            elif check is sc.flag:
                assert "true or false" in row
    for name, (lo, hi, above, unit) in MECHANISM_RANGES.items():
        assert sc.number(lo, hi, above=above, unit=unit).accepts in rows[f"mechanism.{name}"]
