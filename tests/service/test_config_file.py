"""The complete commented configuration: generated from the defaults, current, every key
real; `capstan config check` names the key of a bad file and exits non-zero."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from capstan import config_file
from capstan.cli import main
from capstan.config import DEFAULTS, load_config
from capstan.power.config import PowerConfig

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "system" / "capstan.toml"
SETTING = re.compile(r"^# (\w+) = (.+)$")


def uncommented(text: str) -> str:
    """The file with every setting line switched on, as a builder would."""
    return "\n".join(SETTING.sub(r"\1 = \2", line) for line in text.splitlines()) + "\n"


def test_the_shipped_file_is_current() -> None:
    assert SHIPPED.read_text() == config_file.render(), \
        "run: capstan config defaults > system/capstan.toml"


def test_as_shipped_it_parses_and_changes_nothing(tmp_path: Path) -> None:
    assert all(not v for v in tomllib.loads(SHIPPED.read_text()).values())
    assert load_config(SHIPPED) == DEFAULTS


def test_every_key_in_it_exists_and_shows_its_default(tmp_path: Path) -> None:
    on = tmp_path / "capstan.toml"
    on.write_text(uncommented(SHIPPED.read_text()))
    raw = tomllib.loads(on.read_text())
    assert raw == config_file.defaults()  # every section and key, each at its default
    config = load_config(on)  # the daemon's loader accepts every key
    assert {s: v for s, v in config.items() if s != "power"} == \
        {s: v for s, v in DEFAULTS.items() if s != "power"}
    assert PowerConfig.from_dict(config["power"]) == PowerConfig()
    assert main(["config", "check", str(on)]) == 0


def test_every_key_has_words_saying_what_it_accepts() -> None:
    text = SHIPPED.read_text()
    for section, keys in config_file.defaults().items():
        assert f"\n[{section}]\n" in text
        for key in keys:
            block = text.split(f"\n# {key} = ")[0].rsplit("\n\n", 1)[-1]
            assert "Accepts" in block and len(block) > 40, (section, key)


def test_a_default_without_words_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEFAULTS, "audio", {**DEFAULTS["audio"], "balance": 0.0})
    with pytest.raises(ValueError, match="balance"):
        config_file.render()


def test_config_check_names_the_key_and_exits_non_zero(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(uncommented(SHIPPED.read_text()).replace('digitize_format = "flac"',
                                                            'digitise_format = "flac"'))
    assert main(["config", "check", str(bad)]) == 2
    assert f"{bad}: unknown key intelligence.digitise_format" in capsys.readouterr().err
    bad.write_text("[power]\nwarning_percent = 3.0\n")  # below critical_percent
    assert main(["config", "check", str(bad)]) == 2
    assert "power.warning_percent" in capsys.readouterr().err
    bad.write_text("[transport]\nauto_rewind = 1\n")
    assert main(["config", "check", str(bad)]) == 2
    assert "transport.auto_rewind" in capsys.readouterr().err
    assert main(["config", "check", str(tmp_path / "missing.toml")]) == 2
    assert "no such configuration file" in capsys.readouterr().err
    good = tmp_path / "good.toml"
    good.write_text("[audio]\nvolume = 0.5\n")
    assert main(["config", "check", str(good)]) == 0
    assert "a valid configuration" in capsys.readouterr().out
