"""The daemon's life: self-test, state, control socket, player, READY, watchdog, STOPPING.

Start-up order (each step undone in reverse in `finally`):

1. STATUS=self-test; the self-test checks the board before the Player takes its pins;
2. the state store; the Player, with its saved settings;
3. the control socket (so `capstan status` can say what is wrong from now on);
4. the Player starts; the watchdog starts pinging while the player is healthy;
5. READY=1 with the self-test's summary, only if nothing critical failed (the unit then
   confirms an update on trial, as root); the last update's result flashes on the LEDs.

On stop: STOPPING=1, the watchdog stops, the player stops (tape stopped, relay
released), the socket closes, the state is flushed to the card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from capstan.events import EventBus, Notice
from capstan.selftest import SelfTestReport, run_selftest
from capstan.service.notify import Notifier
from capstan.service.watchdog import Progress, Watchdog
from capstan.state import StateStore

log = logging.getLogger(__name__)

AUDIO_SILENT_LIMIT = 3.0  # s without a captured block: the audio chain is dead
TIMER_LATE_LIMIT = 2.0  # s the player's tape watch may be overdue
COUNTER_SAVE_INTERVAL = 60.0  # s: at most one write of the counter a minute (SD wear)
RESULT_POLL = 2.0  # s between looks at UPDATE-RESULT.txt with the USB drive on

SelfTest = Callable[..., Awaitable[SelfTestReport]]


def player_checks(player: Any, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    """The health checks of the critical services: the player's tape watch and audio capture."""

    def running() -> str | None:
        if not player.started:
            return "not running"
        watch = getattr(player, "_watch", None)  # the 100 ms tape watch (end of tape, stalls)
        if watch is None or watch.cancelled():
            return "its tape watch is not scheduled"
        if loop.time() - watch.when() > TIMER_LATE_LIMIT:
            return f"its tape watch is {loop.time() - watch.when():.1f} s overdue"
        return None

    return {"player": running,
            "audio": Progress(lambda: player.audio.blocks, loop.time, AUDIO_SILENT_LIMIT,
                              "the ADC delivered no audio")}


class Daemon:
    def __init__(self, board: Any, config: dict[str, dict[str, Any]],
                 loop: asyncio.AbstractEventLoop, *, socket_path: Path | str,
                 notifier: Notifier | None = None, state_dir: Path | str | None = None,
                 selftest: SelfTest = run_selftest, socket_group: int | None = None,
                 update_root: Path | None = None) -> None:
        self.board, self.loop = board, loop
        self.socket_path = Path(socket_path)
        self.notifier = notifier or Notifier()
        self.state_dir = Path(state_dir or config["player"]["state_dir"])
        # every path under the state directory follows the one in use (digitized tapes too)
        self.config = {**config, "player": {**config["player"], "state_dir": str(self.state_dir)}}
        self.selftest, self.socket_group = selftest, socket_group
        self.update_root = update_root  # "/" on the Pi: show the last update's result
        self.bus = EventBus(loop.time)
        self.state = StateStore(self.state_dir, self.bus, loop, background=True)
        self.watchdog = Watchdog(loop, self.notifier)
        self.report: SelfTestReport | None = None
        self.player: Any = None
        self.control: Any = None
        self.ready = False
        self._started_at = loop.time()
        self._follow_result: asyncio.Task[None] | None = None

    async def run(self, stop: asyncio.Event) -> int:
        from capstan import __version__
        from capstan.app import Player
        from capstan.control.server import ControlServer
        from capstan.service.loglimit import limit_loop_errors

        limit_loop_errors(self.loop, log)  # a callback failing in a loop logs 5 a minute

        log.info("capstan %s starting on the %s board: control socket %s, state in %s",
                 __version__, "simulated" if self.board.kind == "sim" else self.board.kind,
                 self.socket_path, self.state_dir)
        self.notifier.status("self-test")
        self.report = await self.selftest(self.board, state_dir=str(self.state_dir))
        for finding in self.report.problems:
            log.warning("self-test: %s", finding.line())
        log.log(logging.ERROR if self.report.critical else logging.INFO, "%s",
                self.report.summary())
        self.player = Player(
            self.board, self.config, self.loop, self.bus, state=self.state,
            load_counter=lambda: self.state.load("counter", None),
            save_counter=lambda data: self.state.save_soon("counter", data,
                                                           COUNTER_SAVE_INTERVAL),
            # no machine to switch off on the simulated board: the daemon ends instead
            power_off=stop.set if self.board.kind == "sim" else None)
        self.control = ControlServer(self.player, self.socket_path, group=self.socket_group,
                                     extra_status=self.status,
                                     commands=self.player.socket_commands())
        await self.control.start()
        try:
            await self.player.start()
            try:
                for name, check in player_checks(self.player, self.loop).items():
                    self.watchdog.add_check(name, check)
                self.watchdog.start()
                for finding in self.report.problems:
                    self.bus.publish(Notice("selftest", f"{finding.part}: {finding.message}"))
                if self.report.critical:
                    # No READY: systemd's start timeout restarts the player, and an update
                    # on trial is rolled back (`capstan update confirm` runs only after READY).
                    self.notifier.status(f"self-test failed: {self.report.summary()}")
                else:
                    self.notifier.ready(self.report.summary())
                    self.ready = True
                    log.info("ready: capstan status --socket %s", self.socket_path)
                if self.update_root is not None:
                    await self._show_update_result()
                    self._follow_result = self._follow_update_result()
                await stop.wait()
            finally:
                self.notifier.stopping("stopping: tape stopped, outputs safe")
                self.watchdog.stop()
                if self._follow_result is not None:
                    self._follow_result.cancel()
                await self.player.stop()
        finally:
            await self.control.stop()
            self.state.flush()
        return 0

    async def _show_update_result(self) -> None:
        """The last update's outcome on the LEDs, the result file read off the loop."""
        from capstan.update.ledger import read_result
        from capstan.update.leds import show_update_result
        from capstan.update.slots import Layout

        assert self.update_root is not None
        text = await self.loop.run_in_executor(None, read_result, Layout(self.update_root))
        show_update_result(self.player.led_players, self.bus, text, self.state)

    def _follow_update_result(self) -> asyncio.Task[None] | None:
        """With the USB drive ([usb] gadget = "storage" or "both"), an update taken off it
        while the player runs is shown on the LEDs too: the result file is read again
        every RESULT_POLL seconds, off the loop."""
        from capstan.usb import wants_storage

        if self.update_root is None or not wants_storage(
                self.config.get("usb", {}).get("gadget", "off")):
            return None
        from capstan.update.ledger import read_result
        from capstan.update.leds import show_update_result
        from capstan.update.slots import Layout

        layout = Layout(self.update_root)

        async def follow() -> None:
            while True:
                await asyncio.sleep(RESULT_POLL)
                text = await self.loop.run_in_executor(None, read_result, layout)
                show_update_result(self.player.led_players, self.bus, text, self.state)
        return self.loop.create_task(follow())

    # status -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {
            "board": self.board.kind,
            "selftest": self.report.summary() if self.report else "running",
            "healthy": not self.watchdog.problems,
            "problems": list(self.watchdog.problems),
            "uptime": round(self.loop.time() - self._started_at, 1),
            "state_writes": self.state.writes,
            "socket": str(self.socket_path),
            "state_dir": str(self.state_dir),
        }
