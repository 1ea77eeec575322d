"""The `capstan` command.

Each subsystem adds its own subcommands: a module listed in COMMAND_MODULES
defines ``register(subparsers)``, which adds parsers whose ``func(args) -> int``
runs the command. Those modules import nothing heavy at module level, so that
`capstan` starts fast whatever the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from capstan import __version__
from capstan.errors import CapstanError, ConfigError

COMMAND_MODULES = (
    "capstan.run_cli",          # run
    "capstan.sim.cli",          # sim
    "capstan.control.cli",      # status, press, hold, pair, events
    "capstan.selftest",         # selftest
    "capstan.analysis.cli",     # analyze
    "capstan.audio.nr_cli",     # nr
    "capstan.recording.cli",    # record
    "capstan.update.cli",       # update
    "capstan.config_file",      # config
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capstan", description="Firmware of the Capstan Bluetooth cassette player.")
    parser.add_argument("--version", action="version", version=f"capstan {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not exc.name or not name.startswith(exc.name):
                raise  # the module exists but something it needs does not
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"capstan: {exc}", file=sys.stderr)
        return 2
    except CapstanError as exc:
        print(f"capstan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
