"""`capstan run`: the player daemon; `capstan safe-outputs`: every output off (ExecStopPost).

`capstan run` opens the board, runs the self-test, opens the control socket and
the state store, starts the Player, tells systemd it is READY and feeds the
watchdog while healthy (capstan.service.daemon). `--board sim` runs the same
daemon on the simulated deck in real time, with its own socket and state.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

from capstan.errors import BoardError, BoardFileError, ConfigError

log = logging.getLogger(__name__)


def sim_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "capstan-sim"


def state_dir_for(config: dict[str, dict[str, Any]], given: str | None = None) -> Path:
    """Where the daemon keeps its state: --state-dir > [player] state_dir, except that
    the simulated board at the default keeps its own (it never touches the Pi's)."""
    from capstan.config import DEFAULTS

    if given:
        return Path(given)
    configured = config["player"]["state_dir"]
    if config["player"]["board"] == "sim" and configured == DEFAULTS["player"]["state_dir"]:
        return sim_state_dir()
    return Path(configured)


def _run(args: argparse.Namespace) -> int:
    from capstan.board import open_board
    from capstan.config import load_config
    from capstan.control.paths import daemon_socket
    from capstan.hardware.description import load_board
    from capstan.service.daemon import Daemon
    from capstan.service.notify import Notifier

    overrides = {"player": {"board": args.board}} if args.board else None
    config = load_config(args.config, overrides)
    kind = config["player"]["board"]
    description = load_board(args.board_file or config["player"]["board_file"] or None)
    state_dir = state_dir_for(config, args.state_dir)
    socket_path = Path(args.socket) if args.socket else daemon_socket(kind,
                                                                      config["player"]["socket"])
    if args.cassette and kind != "sim":
        raise ConfigError("--cassette is for the simulated board (--board sim)")
    from capstan.control.server import clear_stale

    clear_stale(socket_path)  # before the board is touched: another daemon may run it
    notifier = Notifier.from_environment()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        try:
            board = open_board(kind, description, loop, config["player"]["period"])
        except BoardError as exc:
            if kind != "pi" or isinstance(exc, BoardFileError):
                raise
            await _no_hardware(exc, description, notifier)
        try:
            if board.deck is not None:
                if args.cassette:
                    board.deck.insert(_sim_cassette(args.cassette, description, state_dir))
                board.deck.start()
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            daemon = Daemon(board, config, loop, socket_path=socket_path, notifier=notifier,
                            state_dir=state_dir,
                            update_root=Path("/") if kind == "pi" else None)
            return await daemon.run(stop)
        finally:
            if board.deck is not None:
                board.deck.close()
            board.close()
            notifier.close()

    if kind == "sim":  # the live simulator's clock slips over stalls (sim/clock.py)
        from capstan.sim.clock import LiveLoop

        with asyncio.Runner(loop_factory=LiveLoop) as runner:
            return runner.run(main())
    return asyncio.run(main())


async def _no_hardware(exc: BoardError, description: Any, notifier: Any) -> None:
    """The Pi board did not open: say part by part what is missing, then stop for good
    (EXIT_NO_HARDWARE; the unit does not restart on it). Re-raises `exc` if every part
    opens on its own: then it was not missing hardware."""
    from capstan.service.census import HardwareMissing, take_census

    report = await asyncio.to_thread(take_census, description)
    if not report.critical:
        raise exc
    for finding in report.findings:
        log.log(logging.ERROR if finding.critical else logging.INFO, "self-test: %s",
                finding.line())
    notifier.status(f"self-test failed: {report.summary()}")
    raise HardwareMissing(f"{report.summary()}. Not restarting: the hardware is missing "
                          "(`sudo systemctl restart capstan` once it is there)")


def _sim_cassette(spec: str, description: Any, state_dir: Path) -> Any:
    from capstan.sim.cassette import Cassette

    if spec in description.mechanism.cassettes:
        directory = state_dir / "sim-cassette" / spec
        if (directory / "cassette.toml").exists():
            return Cassette.open(directory, description.mechanism)
        return Cassette.create(directory, description.mechanism, spec, name=f"blank {spec}")
    return Cassette.open(Path(spec), description.mechanism)


def _safe_outputs(args: argparse.Namespace) -> int:
    """Drive every mechanism output low, from a fresh process (the daemon may have crashed)."""
    from capstan.config import load_config
    from capstan.hardware.description import load_board

    overrides = {"player": {"board": args.board}} if args.board else None
    config = load_config(args.config, overrides)
    if config["player"]["board"] != "pi":
        print("safe-outputs: nothing to do on the simulated board")
        return 0
    from capstan.board.gpio import GpioOutput, GpioPwm
    from capstan.board.pi import pin_factory

    description = load_board(args.board_file or config["player"]["board_file"] or None)
    factory = pin_factory(description.gpio_library)
    for role, out in description.outputs.items():
        pin = (GpioPwm(factory, out.pin, out.frequency or 1000) if out.pwm
               else GpioOutput(factory, out.pin))  # both drive low when opened
        pin.write(0)
        print(f"{role} (GPIO {out.pin}): off")
    for table in description.mechanism.tables.values():  # e.g. the CRP42602Y's solenoid line
        for sig in table.signals.values():
            if sig.output and sig.pin not in {o.pin for o in description.outputs.values()}:
                GpioOutput(factory, sig.pin).write(0)
                print(f"mechanism.{table.profile}.{sig.name} (GPIO {sig.pin}): off")
    # Leave the pins driven low: closing them would hand them back to the pull-downs,
    # which is also safe, but a driven low survives a missing resistor.
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the player daemon")
    _board_options(p)
    p.add_argument("--socket", help="the control socket (default: /run/capstan/control.sock "
                   "on the Pi, $XDG_RUNTIME_DIR/capstan.sock with --board sim)")
    p.add_argument("--state-dir", help="where durable state lives (default: from config; "
                   "~/.local/state/capstan-sim with --board sim)")
    p.add_argument("--cassette", help="--board sim: insert a blank cassette (C46, C60, C90, "
                   "C120; kept in the state directory) or a cassette directory")
    p.set_defaults(func=_run)
    p = sub.add_parser("safe-outputs", help="drive every output off (systemd's ExecStopPost)")
    _board_options(p)
    p.set_defaults(func=_safe_outputs)


def _board_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--board", choices=("pi", "sim"), help="the board (default: from config)")
    p.add_argument("--config", help="a TOML configuration file")
    p.add_argument("--board-file", help="the board description (default: hardware/board.toml)")
