"""`capstan status [--json]`, `press BUTTON`, `hold BUTTON SECONDS`, `pair`, `events`, `digitize`.

All talk to the daemon over its control socket (`--socket PATH` to choose one).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _client(args: argparse.Namespace, timeout: float | None = 10.0) -> Any:
    from capstan.control.client import ControlClient
    from capstan.control.paths import client_socket

    return ControlClient(client_socket(args.socket), timeout)


def _status(args: argparse.Namespace) -> int:
    with _client(args) as c:
        status = c.request("status")["status"]
    if args.json:
        print(json.dumps(status, indent=1, sort_keys=True))
    else:
        width = max(map(len, status), default=0)
        for key, value in status.items():
            shown = json.dumps(value) if isinstance(value, dict | list) else value
            print(f"{key:<{width}}  {shown}")
    return 0


def _press(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("press", button=args.button)
    return 0


def _hold(args: argparse.Namespace) -> int:
    with _client(args, timeout=args.seconds + 10) as c:
        c.request("hold", button=args.button, seconds=args.seconds)
    return 0


def _pair(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("pair")
    print("pairing: put your headphones in pairing mode now")
    return 0


def _events(args: argparse.Namespace) -> int:
    with _client(args) as c:
        for event in c.events():
            print(json.dumps(event), flush=True)
    return 0


def _digitize(args: argparse.Namespace) -> int:
    with _client(args) as c:
        c.request("digitize", on=args.state == "on")
    print(f"digitizing {args.state}")
    return 0


def register(sub: Any) -> None:
    def add(name: str, help: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--socket", help="the daemon's control socket "
                       "(default: $CAPSTAN_SOCKET, /run/capstan/control.sock, or yours)")
        p.set_defaults(func=func)
        return p

    add("status", "what the player is doing", _status).add_argument(
        "--json", action="store_true", help="as JSON")
    add("press", "tap a button", _press).add_argument("button", help="play, stop, ff, rew, …")
    p = add("hold", "hold a button down for a while", _hold)
    p.add_argument("button")
    p.add_argument("seconds", type=float)
    add("pair", "put the player in pairing mode for Bluetooth headphones", _pair)
    add("events", "follow the player's events (one JSON line each)", _events)
    add("digitize", "write what plays to FLAC, one file per track", _digitize).add_argument(
        "state", choices=("on", "off"))
