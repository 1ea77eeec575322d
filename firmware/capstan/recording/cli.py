"""`capstan record`: a mixtape from a playlist, or line-in on the simulated deck.

    capstan record --playlist a.flac b.wav … [--length C60] [--type I] [--gap 3] [--dry-run]
        plan (fit per side, overflow, levels), then ask the running daemon (the control
        socket) to record side A of it onto the cassette in the deck
    capstan record --playlist … --sim OUT        the same on a blank simulated cassette
    capstan record --line-in WAV --sim OUT       line-in recorded on the simulated deck
        [--state DIR] keeps the cassette's TOC durable there (a power-cut test kills it)

In --sim mode every `record`/`track_mark` event is printed as a JSON line when it
happens (a mark is already durable when printed), and a report goes to OUT/report.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _plan(args: argparse.Namespace) -> Any:
    from capstan.hardware.description import load_board
    from capstan.recording.plan import plan_mixtape

    mech = load_board().mechanism
    if args.length not in mech.cassettes:
        from capstan.errors import ConfigError

        raise ConfigError(f"--length must be one of {', '.join(mech.cassettes)}")
    side_seconds = mech.cassettes[args.length].minutes * 60.0
    return plan_mixtape([Path(p) for p in args.playlist], side_seconds, args.length,
                        args.type, args.gap)


def _record(args: argparse.Namespace) -> int:
    from capstan.errors import ConfigError
    from capstan.recording.plan import MixtapeOverflow

    if not args.playlist and not args.line_in:
        raise ConfigError("name a --playlist of audio files (or --line-in WAV with --sim)")
    plan = None
    if args.playlist:
        plan = _plan(args)
        print(plan.describe(), flush=True)
        if plan.overflow:
            raise MixtapeOverflow(f"the playlist does not fit on a {args.length}: leave out "
                                  "the tracks named above or use a longer cassette")
        if args.dry_run:
            return 0
    if args.sim:
        from capstan.harness.record_run import run_in_simulator

        return run_in_simulator(args, plan)
    if args.line_in:
        raise ConfigError("--line-in needs --sim (on the player, line-in is recorded with "
                          "the REC and PLAY buttons)")
    return _to_daemon(args, plan)


def _to_daemon(args: argparse.Namespace, plan: Any) -> int:
    from capstan.control.client import ControlClient
    from capstan.control.paths import client_socket
    from capstan.errors import CapstanError

    side = plan.side("A")
    with ControlClient(client_socket(args.socket)) as client:
        reply = client.request("record", playlist=[t.to_dict() for t in side], gap=plan.gap)
    if not reply.get("ok"):
        raise CapstanError(f"the player did not start recording: {reply.get('error')}")
    print(f"recording {len(side)} tracks on the cassette in the deck; "
          "`capstan events` follows it", file=sys.stderr)
    if plan.side("B"):
        print("side B: turn the cassette over when side A is done and run this again "
              "with the side B files", file=sys.stderr)
    return 0


def print_event(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def register(sub: Any) -> None:
    p = sub.add_parser("record", help="record a mixtape from a playlist (or line-in, simulated)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--playlist", nargs="+", metavar="FILE", help="audio files, in order")
    p.add_argument("--line-in", help="--sim only: a WAV played into line-in")
    p.add_argument("--length", default="C60", help="the cassette (default C60)")
    p.add_argument("--type", default="I", choices=("I", "II", "IV"), help="tape type")
    p.add_argument("--gap", type=float, default=3.0, help="seconds between tracks (default 3)")
    p.add_argument("--dry-run", action="store_true", help="only print the plan")
    p.add_argument("--sim", metavar="OUT", help="record on the simulated deck into OUT")
    p.add_argument("--state", help="--sim: the state directory (TOC kept durable there)")
    p.add_argument("--socket", help="the daemon's control socket")
    p.set_defaults(func=_record)
