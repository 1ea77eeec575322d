"""Bad scenarios and bad options of `capstan sim`: exit 2, one line naming the file and the
key, and nothing written (no report, no jack.wav, no cassette/)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from badwav import BAD, good, write_bad
from hypothesis import given
from hypothesis import strategies as st

from capstan.cli import main
from capstan.errors import ConfigError
from capstan.harness.scenario import MAX_UNTIL, parse_scenario


def snapshot(directory: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime)
            for p in sorted(directory.rglob("*"))}


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `capstan sim ARGS`; assert exit 2, one line, nothing written; return stderr."""
    before = snapshot(tmp_path)
    assert main(["sim", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("capstan: "), err
    assert "Traceback" not in err
    assert snapshot(tmp_path) == before, "something was written"
    return err


def scenario(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "s.toml"
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


CASSETTE = '[cassette]\nlength = "C46"\n'
STEP = '[run]\nuntil = 10\n[[step]]\nat = 1\n'

# scenario text -> the key (or words) its refusal names
TABLE = [
    (CASSETTE + STEP + "eject = false", "step[0].eject = false"),
    (CASSETTE + STEP + "flip = false", "step[0].flip = false"),
    (CASSETTE + STEP + "insert = false", "step[0].insert = false"),
    (CASSETTE + STEP + "eject = 1", "step[0].eject = 1"),
    ("[run]\nuntil = 1e6", "run.until = 1000000.0"),
    ("[run]\nuntil = nan", "run.until = nan"),
    ("[run]\nuntil = inf", "run.until = inf"),
    ("[run]\nuntil = 0", "run.until = 0"),
    ("[run]\nuntil = true", "run.until = true"),
    ('[run]\nuntil = "60"', 'run.until = "60"'),
    ("[run]\nuntil = 1" + "0" * 5000, "not valid TOML"),
    (CASSETTE + "position = 1385", "cassette.position = 1385"),
    (CASSETTE + "position = -1", "cassette.position = -1"),
    (CASSETTE + "speed_error = nan", "cassette.speed_error = nan"),
    (CASSETTE + "flutter = -inf", "cassette.flutter = -inf"),
    (CASSETTE + 'protected = ["A", "C"]', "cassette.protected[1]"),
    (CASSETTE + "name = 5", "cassette.name = 5"),
    ("[battery]\npercent = 101", "battery.percent = 101"),
    ('[battery]\ncharger = "yes"', 'battery.charger = "yes"'),
    ("battery = 5", "battery = 5"),
    ("run = [1, 2]", "run = [...]"),
    ("[run]\nuntil = 5\n[[step]]\nat = 6\npress = \"play\"", "step[0].at = 6 is after"),
    ("[[step]]\nat = nan\npress = \"play\"", "step[0].at = nan"),
    ("[[step]]\nat = 1\nhold = \"play\"\nfor = inf", "step[0].for = inf"),
    ("[[step]]\nat = 1\npress = \"play\"\nbounce = 1", "step[0].bounce = 1"),
    ('[[headphones]]\nname = "X"\naddress = "00:1B:66:AA:BB:CC"\npairing_at = nan',
     "headphones.pairing_at = nan"),
    ("[line_in]\nfile = 5", "line_in.file = 5"),
    ("a = " + "[" * 40 + "]" * 40, "nested too deeply"),
    ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply"),
    ("a = " + "{b = " * 30 + "1" + "}" * 30, "nested too deeply"),
    ("[run\nuntil = 3", "not valid TOML"),
]


@pytest.mark.parametrize("text, key", TABLE)
def test_a_bad_scenario_is_refused_naming_the_file_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str) -> None:
    path = scenario(tmp_path, text)
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report",
                  str(tmp_path / "r.json"))
    assert str(path) in err and key in err


def test_non_utf8_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, b'[cassette]\nname = "caf\xe9"\n')
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report",
                  str(tmp_path / "r.json"))
    assert str(path) in err and "not UTF-8" in err and "0xe9" in err


@pytest.mark.parametrize("kind", ["directory", "fifo", "missing", "device"])
def test_a_scenario_that_is_not_a_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    path = tmp_path / "s.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opening it for reading must not wait for a writer
    elif kind == "device":
        path.symlink_to("/dev/zero")  # an endless file
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report",
                  str(tmp_path / "r.json"))
    assert str(path) in err


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("where", ["side_a", "line_in"])
def test_a_bad_wav_is_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, where: str) -> None:
    wav = write_bad(tmp_path, name)
    text = (f'[cassette]\nside_a = "{wav.name}"\n' if where == "side_a"
            else f'[line_in]\nfile = "{wav.name}"\n')
    path = scenario(tmp_path, text)
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report",
                  str(tmp_path / "r.json"))
    key = "cassette.side_a" if where == "side_a" else "line_in.file"
    assert key in err and str(wav) in err and BAD[name][1] in err


def test_a_wav_longer_than_the_side_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # a header that says 24 minutes at 48 kHz, and a file that holds them (sparse)
    wav = tmp_path / "long.wav"
    frames = 24 * 60 * 48000
    from capstan.wavfile import header
    with open(wav, "wb") as f:
        f.write(header(frames, 48000, 2))
        f.truncate(44 + frames * 4)
    path = scenario(tmp_path, f'[cassette]\nlength = "C46"\nside_a = "{wav.name}"\n')
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report",
                  str(tmp_path / "r.json"))
    assert "cassette.side_a" in err and "24.0 min" in err and "23 min" in err


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5", "x"])
def test_a_bad_seed_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               seed: str) -> None:
    path = scenario(tmp_path, "[run]\nuntil = 1\n")
    before = snapshot(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["sim", "--scenario", str(path), "--report", str(tmp_path / "r.json"),
              "--seed", seed])
    assert exc.value.code == 2
    assert "--seed" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def unwritable_directory(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes anywhere a mode allows; /proc/1 it cannot
        d = Path("/proc/1")
    else:
        d = tmp_path / "locked"
        d.mkdir(mode=0o555)
    assert not os.access(d, os.W_OK)
    return d


@pytest.mark.parametrize("case", ["report_is_dir", "report_under_file", "out_is_file",
                                  "report_unwritable", "out_unwritable", "same_path",
                                  "out_holds_another_cassette_dir", "out_jack_is_a_dir"])
def test_report_and_out_are_checked_first(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str) -> None:
    path = scenario(tmp_path, "[run]\nuntil = 1\n")
    report, out = tmp_path / "r.json", tmp_path / "out"
    if case == "report_is_dir":
        report.mkdir()
    elif case == "report_under_file":
        (tmp_path / "f").write_text("x")
        report = tmp_path / "f" / "r.json"
    elif case == "out_is_file":
        out.write_text("x")
    elif case == "report_unwritable":
        report = unwritable_directory(tmp_path) / "r.json"
    elif case == "out_unwritable":
        out = unwritable_directory(tmp_path) / "out"
    elif case == "out_holds_another_cassette_dir":  # a folder of the user's: never deleted
        (out / "cassette").mkdir(parents=True)
        (out / "cassette" / "photo.jpg").write_bytes(b"mine")
    elif case == "out_jack_is_a_dir":
        (out / "jack.wav").mkdir(parents=True)
    else:
        out = report
    err = refused(tmp_path, capsys, "--scenario", str(path), "--report", str(report),
                  "--out", str(out))
    assert ("--report" in err or "--out" in err) and "Traceback" not in err


def test_a_good_run_still_writes_everything(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    wav = good(tmp_path / "song.wav")
    path = scenario(tmp_path, f'[cassette]\nside_a = "{wav.name}"\n' + STEP + "eject = true")
    assert main(["sim", "--scenario", str(path), "--report", str(tmp_path / "r.json"),
                 "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "r.json").is_file() and (tmp_path / "o" / "jack.wav").is_file()
    assert (tmp_path / "o" / "cassette" / "cassette.toml").is_file()
    # the same --out again: what the earlier run left is replaced
    assert main(["sim", "--scenario", str(path), "--report", str(tmp_path / "r.json"),
                 "--out", str(tmp_path / "o")]) == 0


# properties: any number out of its range, or not finite, is refused naming the key;
# any number in range is taken as given.
RANGES = {"run.until": (0.001, MAX_UNTIL), "cassette.speed_error": (-0.2, 0.2),
          "cassette.flutter": (0, 5), "battery.percent": (0, 100),
          "cassette.position": (0, 23 * 60 + 4)}


def toml_number(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def text_for(key: str, value: str) -> str:
    section, name = key.split(".")
    extra = 'length = "C46"\n' if section == "cassette" else ""
    return f"[{section}]\n{extra}{name} = {value}\n"


@given(key=st.sampled_from(sorted(RANGES)), x=st.floats(allow_nan=True, allow_infinity=True))
def test_property_numbers_out_of_range_are_named(tmp_path_factory: pytest.TempPathFactory,
                                                 key: str, x: float) -> None:
    lo, hi = RANGES[key]
    path = tmp_path_factory.getbasetemp() / "p.toml"
    text = text_for(key, toml_number(x))
    if math.isfinite(x) and lo <= x <= hi:
        sc = parse_scenario(text, path)
        section, name = key.split(".")
        got = sc.until if key == "run.until" else getattr(sc, section)[name]
        assert got == x
    else:
        with pytest.raises(ConfigError) as exc:
            parse_scenario(text, path)
        assert f"{key} = " in str(exc.value) and str(path) in str(exc.value)


@given(action=st.sampled_from(["insert", "eject", "flip"]),
       value=st.one_of(st.just(False), st.integers(), st.text(max_size=5), st.floats()))
def test_property_an_action_is_only_true(tmp_path_factory: pytest.TempPathFactory,
                                         action: str, value: object) -> None:
    path = tmp_path_factory.getbasetemp() / "p.toml"
    if isinstance(value, str):  # every character escaped: any text is valid TOML
        shown = '"' + "".join(f"\\U{ord(c):08x}" for c in value) + '"'
    elif isinstance(value, bool):
        shown = "false"
    else:
        shown = toml_number(value)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=rf"step\[0\]\.{action} = "):
        parse_scenario(f"[run]\nuntil = 5\n[[step]]\nat = 1\n{action} = {shown}\n", path)


CASSETTE_FILES = [
    ("length = 5\ntype = \"I\"", "length = 5"),
    ("length = \"C61\"\ntype = \"I\"", 'length = "C61"'),
    ("type = \"I\"", "length is missing"),
    ("length = \"C60\"\ntype = \"I\"\nposition_a = nan", "position_a = nan"),
    ("length = \"C46\"\ntype = \"I\"\nposition_a = 5000", "position_a = 5000"),
    ("length = \"C60\"\ntype = \"I\"\nside = \"C\"", 'side = "C"'),
    ("length = \"C60\"\ntype = \"I\"\nprotected = \"A\"", "protected"),
    ("length = \"C60\"\ntype = \"I\"\nspeed = 1", "unknown key speed"),
    ("length = [[[[[[[[[[[1]]]]]]]]]]]", "nested too deeply"),
]


@pytest.mark.parametrize("text, words", CASSETTE_FILES)
def test_a_bad_cassette_directory_is_named(tmp_path: Path, board, text: str,
                                           words: str) -> None:
    from capstan.sim.cassette import Cassette

    (tmp_path / "cassette.toml").write_text(text + "\n")
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError) as exc:
        Cassette.open(tmp_path, board.mechanism)
    assert str(tmp_path / "cassette.toml") in str(exc.value) and words in str(exc.value)
    assert snapshot(tmp_path) == before


def test_record_line_in_refuses_a_bad_wav_before_writing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = write_bad(tmp_path, "float32")
    assert main(["record", "--line-in", str(wav), "--sim", str(tmp_path / "out")]) == 2
    assert str(wav) in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_record_sim_never_replaces_a_folder_of_the_users(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = good(tmp_path / "in.wav")
    (tmp_path / "out" / "cassette").mkdir(parents=True)
    (tmp_path / "out" / "cassette" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    assert main(["record", "--line-in", str(wav), "--sim", str(tmp_path / "out")]) == 2
    assert "not a cassette directory" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
