"""`capstan run`: the player daemon."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from capstan.app import Player, run_player
    from capstan.board import open_board
    from capstan.board.description import load_board
    from capstan.config import load_config

    overrides = {"player": {"board": args.board}} if args.board else None
    config = load_config(args.config, overrides)
    description = load_board(args.board_file or config["player"]["board_file"] or None)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        board = open_board(config["player"]["board"], description, loop,
                           config["player"]["period"])
        if board.deck is not None:
            board.deck.start()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await run_player(Player(board, config, loop), stop)
        finally:
            board.close()

    asyncio.run(main())
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the player daemon")
    p.add_argument("--board", choices=("pi", "sim"), help="the board (default: from config)")
    p.add_argument("--config", help="a TOML configuration file")
    p.add_argument("--board-file", help="the board description (default: hardware/board.toml)")
    p.set_defaults(func=_run)
