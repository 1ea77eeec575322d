"""The power subsystem inside the player: `Player.power`.

`PlayerPower` runs a `PowerService` on the board's I2C bus with the board's charge
LED, keeps the service's mode (wired, bluetooth, recording) on what the player does,
answers `can_finish` for the recording, and on a critical battery runs the player's
`safe_stop()` and then powers off: `systemctl poweroff` on the Pi; on the simulated
board only the `shutdown` event, unless the simulator sets `power_off` (the session
ends the run there).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from capstan.audio.outputs import JACK
from capstan.chips import bq25895, max17048
from capstan.deck.transport import RECORD_STATES
from capstan.events import Event
from capstan.power.config import PowerConfig
from capstan.power.events import PowerEvent
from capstan.power.service import PowerService

log = logging.getLogger(__name__)

PowerOff = Callable[[], Awaitable[None] | None]


def default_power_off(board_kind: str) -> PowerOff | None:
    """`systemctl poweroff` on the Pi; nothing on the simulated board (the event says it)."""
    if board_kind != "pi":
        return None
    from capstan.power.poweroff import systemctl_poweroff

    return systemctl_poweroff


class PlayerPower:
    """The player's battery: status, remaining time, `can_finish`, the safe power-off."""

    def __init__(self, player: Any, config: PowerConfig | None = None,
                 power_off: PowerOff | None = None) -> None:
        board = player.board
        chips = board.description.i2c

        def address(role: str, default: int) -> int:
            return chips[role].address if role in chips else default

        self.player = player
        self.power_off = power_off if power_off is not None else default_power_off(board.kind)
        self.service = PowerService(
            board.i2c, player.bus, led=board.leds.get("charge"), config=config,
            gauge_address=address("fuel_gauge", max17048.ADDRESS),
            charger_address=address("charger", bq25895.ADDRESS),
            on_critical=self._critical, power_off=self._power_off)
        self.running = False
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def from_config(cls, player: Any, table: dict[str, Any] | None) -> PlayerPower:
        """From the configuration's [power] table (PowerConfig's keys), if there is one."""
        return cls(player, PowerConfig.from_dict(table) if table else None)

    # life ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start reading the chips. A failure is logged: the player plays on without it."""
        self._unsubscribe = self.player.bus.subscribe(self._follow)
        self._follow(0.0, None)
        try:
            await self.service.start()
        except Exception:
            log.exception("the power service could not start: the charge is unknown")
            await self.service.stop()
            return
        self.running = True

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.running = False
        await self.service.stop()

    # the player's questions ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.service.mode

    def status(self) -> dict[str, Any]:
        """percent, voltage, supply, level, gauge_known, faults, remaining (s), mode."""
        st = self.service.status()
        for key, digits in (("percent", 1), ("voltage", 3), ("remaining", 0)):
            if st[key] is not None:
                st[key] = round(st[key], digits)
        return {**st, "mode": self.service.mode}

    def remaining(self, mode: str | None = None) -> float | None:
        """Seconds of playing time left in `mode` (default: the current one), None if unknown."""
        return self.service.remaining(mode)

    def can_finish(self, seconds: float, mode: str | None = "recording") -> bool:
        """Is there charge for `seconds` more in `mode`? Yes on input power or gauge unknown."""
        return self.service.can_finish(seconds, mode)

    @property
    def shutting_down(self) -> bool:
        return self.service.shutdown_task is not None

    # following the player -----------------------------------------------------------------
    def _follow(self, t: float, event: Event | None) -> None:
        """On every event: what the player does now, for the discharge rate per mode."""
        if event is not None and event.type not in ("transport", "bluetooth", "audio_output"):
            return
        mode = self.current_mode()
        if mode != self.service.mode:
            self.service.mode = mode

    def current_mode(self) -> str:
        p = self.player
        if p.deck.state in RECORD_STATES:
            return "recording"
        outputs = getattr(p.audio, "outputs", None)
        if outputs is not None and getattr(outputs, "active", JACK) != JACK:
            return "bluetooth"
        return "wired"

    # the end -------------------------------------------------------------------------------
    async def _critical(self, event: PowerEvent) -> None:
        why = ("the cell voltage is too low" if event.reason == "voltage"
               else "the battery is empty")
        log.warning("battery critical (%s): stopping safely and powering off", why)
        await self.player.safe_stop(why)

    async def _power_off(self) -> None:
        if self.power_off is None:
            log.warning("battery critical: the simulated player is off")
            return
        result = self.power_off()
        if inspect.isawaitable(result):
            await result
