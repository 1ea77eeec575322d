"""The power subsystem inside the player: `Player.power`.

`PlayerPower` gets a `PowerPort` from the player (app.py): the I2C bus and its chips,
the event bus, the charge LED, what the player does now, its `safe_stop()` and the
power-off. It runs a `PowerService` on the bus with the LED, keeps the service's mode
(wired, bluetooth, recording) on what the player does, answers `can_finish` for the
recording, and on a critical battery runs the `safe_stop()` and then powers off:
`systemctl poweroff` on the Pi; on the simulated board only the `shutdown` event,
unless the player is given its own `power_off` (the simulator's session ends the run
there, the simulated daemon ends).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from capstan.chips import bq25895, max17048
from capstan.events import Event, EventBus
from capstan.hardware.description import I2CDevice
from capstan.hardware.protocols import I2CBus
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


@dataclass(frozen=True)
class PowerPort:
    """What the power subsystem gets of the player, and nothing more."""

    i2c: I2CBus
    chips: Mapping[str, I2CDevice]  # the board's I2C chips by role
    bus: EventBus
    charge_led: Any  # the board's charge LED (None: there is none)
    mode: Callable[[], str]  # what the player does now: "recording", "bluetooth", "wired"
    safe_stop: Callable[[str], Awaitable[None]]  # safe for the power to go (app.py)
    power_off: PowerOff | None  # the last step; None: the event says it, nothing else


class PlayerPower:
    """The player's battery: status, remaining time, `can_finish`, the safe power-off."""

    def __init__(self, port: PowerPort, config: PowerConfig | None = None) -> None:
        chips = port.chips

        def address(role: str, default: int) -> int:
            return chips[role].address if role in chips else default

        self.port = port
        self.power_off = port.power_off
        self.service = PowerService(
            port.i2c, port.bus, led=port.charge_led, config=config,
            gauge_address=address("fuel_gauge", max17048.ADDRESS),
            charger_address=address("charger", bq25895.ADDRESS),
            on_critical=self._critical, power_off=self._power_off)
        self.running = False
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def from_config(cls, port: PowerPort, table: dict[str, Any] | None) -> PlayerPower:
        """From the configuration's [power] table (PowerConfig's keys), if there is one."""
        return cls(port, PowerConfig.from_dict(table) if table else None)

    # life ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start reading the chips. A failure is logged: the player plays on without it."""
        self._unsubscribe = self.port.bus.subscribe(self._follow)
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
        mode = self.port.mode()
        if mode != self.service.mode:
            self.service.mode = mode

    # the end -------------------------------------------------------------------------------
    async def _critical(self, event: PowerEvent) -> None:
        why = ("the cell voltage is too low" if event.reason == "voltage"
               else "the battery is empty")
        log.warning("battery critical (%s): stopping safely and powering off", why)
        await self.port.safe_stop(why)

    async def _power_off(self) -> None:
        if self.power_off is None:
            log.warning("battery critical: the simulated player is off")
            return
        result = self.power_off()
        if inspect.isawaitable(result):
            await result
