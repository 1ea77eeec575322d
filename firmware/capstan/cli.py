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
import os
import sys

from capstan import __version__
from capstan.errors import CapstanError, ConfigError

COMMAND_MODULES = (
    "capstan.run_cli",          # run
    "capstan.harness.cli",      # sim
    "capstan.control.cli",      # status, press, hold, pair, events
    "capstan.selftest",         # selftest
    "capstan.analysis.cli",     # analyze
    "capstan.audio.nr_cli",     # nr
    "capstan.recording.cli",    # record
    "capstan.update.cli",       # update
    "capstan.config_file",      # config
    "capstan.usb.cli",          # usb
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


EXIT_BROKEN_PIPE = 141  # as a shell reports a command ended by SIGPIPE (`capstan status | head`)
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


def under_journald(env: dict[str, str] | None = None) -> bool:
    """Is stderr connected to the journal? (systemd sets JOURNAL_STREAM to its device:inode)"""
    stream = (os.environ if env is None else env).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        info = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (device, inode)


class JournalFormatter(logging.Formatter):
    """No timestamp (the journal stamps each line), the level as a syslog prefix (<4>)."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{record.name}: {super().format(record)}"


def setup_logging(verbose: int, command: str | None) -> None:
    base = logging.INFO if command == "run" else logging.WARNING  # the daemon says what it does
    handler = logging.StreamHandler()
    if under_journald():
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=base - 10 * min(verbose, 2), handlers=[handler])


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done; 1 refused or failed (the reason on stderr); 2 wrong usage or
    configuration; 3 the daemon is not there, does not answer or went away; 130
    interrupted; 141 the output was closed early."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.command)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except ConfigError as exc:
        print(f"capstan: {exc}", file=sys.stderr)
        return 2
    except CapstanError as exc:
        print(f"capstan: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nothing to say it to.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
