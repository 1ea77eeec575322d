"""`capstan sim`: a scenario in simulated time, or the deck live in a terminal.

Everything the command is given is checked before anything is written: the scenario,
its WAV files, the seed, and that --report and --out can be written (exit 2 naming the
file otherwise). A run that fails leaves no half-written output behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

MAX_SEED = 2**32 - 1


def seed(text: str) -> int:
    """--seed: a whole number 0..2^32-1 (argparse says so and exits 2 otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_SEED}, got {value}")
    return value


def writable(path: Path, option: str, kind: str) -> None:
    """Refuse `path` unless it is (or can be created as) a `kind` ("file" or "directory")
    where this user may write; a ConfigError naming the option and the path."""
    from capstan.errors import ConfigError

    if path.exists() or path.is_symlink():
        if kind == "file" and not path.is_file():
            raise ConfigError(f"{option} {path}: is not a regular file")
        if kind == "directory" and not path.is_dir():
            raise ConfigError(f"{option} {path}: is not a directory")
        if not os.access(path, os.W_OK | (os.X_OK if kind == "directory" else 0)):
            raise ConfigError(f"{option} {path}: not writable")
        if kind == "file" and not os.access(path.parent, os.W_OK | os.X_OK):
            raise ConfigError(f"{option} {path}: its directory is not writable")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: {parent} is not writable")


def _sim(args: argparse.Namespace) -> int:
    from capstan.errors import ConfigError

    if args.scenario is None:
        from capstan.panel import run_live

        return run_live(args)
    from capstan.hardware.description import load_board
    from capstan.harness.runner import run_scenario, write_report
    from capstan.harness.scenario import load_scenario

    board = load_board()  # a BoardFileError (exit 2) before anything is written
    scenario = load_scenario(args.scenario, board.mechanism)  # likewise a ConfigError
    if not args.report:
        raise ConfigError("--report FILE.json is needed with --scenario")
    report_path = Path(args.report)
    out = Path(args.out) if args.out else report_path.with_suffix("").with_name(
        report_path.stem + "-out")
    writable(report_path, "--report", "file")
    writable(out, "--out", "directory")
    if out.resolve() == report_path.resolve():
        raise ConfigError(f"--out {out} and --report are the same path")
    replaceable(out)
    made = _new_dirs(out)
    try:
        report = run_scenario(scenario, out, seed=args.seed, board=board)
        write_report(report, report_path)
    except BaseException:
        for d in made:  # what this run created goes; what was there stays
            shutil.rmtree(d, ignore_errors=True)
        raise
    f = report["final"]
    print(f"capstan sim: {scenario.path.name}: {len(report['events'])} events over "
          f"{scenario.until:g} s simulated; final: {f['transport']}, side {f['side']}, "
          f"position {f['position']:.1f} s, counter {f['counter']:.1f} s -> {report_path}")
    return 0


def replaceable(out: Path, option: str = "--out") -> None:
    """A run replaces <out>/cassette and <out>/jack.wav: only what an earlier run left."""
    from capstan.errors import ConfigError

    cassette, jack = out / "cassette", out / "jack.wav"
    if (cassette.exists() or cassette.is_symlink()) and not (
            cassette.is_dir() and not cassette.is_symlink()
            and (cassette / "cassette.toml").is_file()):
        raise ConfigError(f"{option} {out}: {cassette} is not a cassette directory; not "
                          f"replacing it (choose another {option})")
    if (jack.exists() or jack.is_symlink()) and not (jack.is_file() and not jack.is_symlink()):
        raise ConfigError(f"{option} {out}: {jack} is not a regular file; not replacing it")


def _new_dirs(out: Path) -> list[Path]:
    """The directories a run will create for `out`: the topmost missing one, or what
    it will create inside an existing `out` (jack.wav, cassette/...)."""
    if not out.exists():
        top = out
        while not top.parent.exists():
            top = top.parent
        return [top]
    return [out / "cassette"] if not (out / "cassette").exists() else []


def register(sub: Any) -> None:
    p = sub.add_parser("sim", help="run the player on the simulated deck",
                       description="Without --scenario: the deck live in this terminal.")
    p.add_argument("--scenario", help="a scenario TOML file: run it headless in simulated time")
    p.add_argument("--report", help="where to write the JSON report")
    p.add_argument("--out", help="directory for the output WAVs and the cassette")
    p.add_argument("--seed", type=seed, default=0,
                   help=f"random seed 0..{MAX_SEED} (runs are deterministic)")
    p.add_argument("--cassette", help="live mode: a cassette directory to insert")
    p.set_defaults(func=_sim)
