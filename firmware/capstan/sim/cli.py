"""`capstan sim`: a scenario in simulated time, or the deck live in a terminal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _sim(args: argparse.Namespace) -> int:
    from capstan.errors import ConfigError

    if args.scenario is None:
        from capstan.panel import run_live

        return run_live(args)
    from capstan.sim.runner import run_scenario, write_report
    from capstan.sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)  # raises ConfigError (exit 2) before anything runs
    if not args.report:
        raise ConfigError("--report FILE.json is needed with --scenario")
    report_path = Path(args.report)
    out = Path(args.out) if args.out else report_path.with_suffix("").with_name(
        report_path.stem + "-out")
    report = run_scenario(scenario, out, seed=args.seed)
    write_report(report, report_path)
    f = report["final"]
    print(f"capstan sim: {scenario.path.name}: {len(report['events'])} events over "
          f"{scenario.until:g} s simulated; final: {f['transport']}, side {f['side']}, "
          f"position {f['position']:.1f} s, counter {f['counter']:.1f} s -> {report_path}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("sim", help="run the player on the simulated deck",
                       description="Without --scenario: the deck live in this terminal.")
    p.add_argument("--scenario", help="a scenario TOML file: run it headless in simulated time")
    p.add_argument("--report", help="where to write the JSON report")
    p.add_argument("--out", help="directory for the output WAVs and the cassette")
    p.add_argument("--seed", type=int, default=0, help="random seed (runs are deterministic)")
    p.add_argument("--cassette", help="live mode: a cassette directory to insert")
    p.set_defaults(func=_sim)
