"""The front panel of the simulator: `capstan sim` without --scenario.

`run_live(args)` opens it in this terminal (args: .cassette, a cassette
directory or None; .seed). Textual is imported only here, when it is used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run_live(args: argparse.Namespace) -> int:
    """Run the player live on the simulated deck in a Textual front panel; the exit status."""
    if not sys.stdout.isatty():
        print("capstan sim: the live panel needs a terminal; without one, run a scenario: "
              "capstan sim --scenario FILE.toml --report FILE.json")
        return 2
    cassette = getattr(args, "cassette", None)
    if cassette:
        from capstan.hardware.description import load_board
        from capstan.sim.cassette import Cassette

        Cassette.open(Path(cassette), load_board().mechanism)  # a bad directory: exit 2 now
    import asyncio

    from capstan.panel.app import PanelApp
    from capstan.sim.clock import LivePolicy

    app = PanelApp(cassette=Path(cassette) if cassette else None,
                   seed=getattr(args, "seed", 0) or 0, insert_demo=not cassette)
    before = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(LivePolicy())  # Textual's asyncio.run makes a LiveLoop
    try:
        app.run()
    finally:
        asyncio.set_event_loop_policy(before)
    return app.return_code or 0
