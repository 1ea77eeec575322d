"""`capstan status [--json]`, `press BUTTON`, `hold BUTTON SECONDS`, `pair`, `events`, `digitize`.

All talk to the daemon over its control socket (`--socket PATH` to choose one) and
wait at most `--timeout` seconds for it. Exit status: 0 done; 1 the player refused
(the reason is printed); 2 wrong usage; 3 no daemon, it does not answer, or it went
away (`events`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from capstan.control.client import DEFAULT_TIMEOUT, MAX_HOLD


def _client(args: argparse.Namespace, extra: float = 0.0) -> Any:
    from capstan.control.client import ControlClient
    from capstan.control.paths import client_socket

    return ControlClient(client_socket(args.socket), args.timeout + extra)


def _status(args: argparse.Namespace) -> int:
    with _client(args) as c:
        status = c.request("status")["status"]
    if args.json:
        print(json.dumps(status, indent=1, sort_keys=True))
    else:
        from capstan.control.view import render

        print(render(status))
    return 0


def _press(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("press", button=args.button)
    return 0


def _hold(args: argparse.Namespace) -> int:
    with _client(args, extra=args.seconds) as c:
        c.request("hold", button=args.button, seconds=args.seconds)
    return 0


def _pair(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("pair")
    print("pairing: put your headphones in pairing mode now (the blue LED blinks for 60 s)")
    return 0


def _events(args: argparse.Namespace) -> int:
    with _client(args) as c:
        for event in c.events():
            print(json.dumps(event), flush=True)
    return 0  # not reached: the stream ends only with an error


def _digitize(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("digitize", on=args.state == "on")
    print(f"digitizing {args.state}")
    return 0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_HOLD:  # NaN fails too
        raise argparse.ArgumentTypeError(f"{text} s: give more than 0 and at most {MAX_HOLD:g}")
    return value


def register(sub: Any) -> None:
    def add(name: str, help: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--socket", help="the daemon's control socket "
                       "(default: $CAPSTAN_SOCKET, /run/capstan/control.sock, or yours)")
        p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"how long to wait for the daemon (default {DEFAULT_TIMEOUT:g})")
        p.set_defaults(func=func)
        return p

    add("status", "what the player is doing", _status).add_argument(
        "--json", action="store_true", help="as JSON, for programs")
    add("press", "tap a button", _press).add_argument("button", help="play, stop, ff, rew, …")
    p = add("hold", "hold a button down for a while", _hold)
    p.add_argument("button")
    p.add_argument("seconds", type=_seconds)
    add("pair", "put the player in pairing mode for Bluetooth headphones", _pair)
    add("events", "follow the player's events (one JSON line each)", _events)
    add("digitize", "write what plays to FLAC, one file per track", _digitize).add_argument(
        "state", choices=("on", "off"))


