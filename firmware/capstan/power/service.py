"""PowerService: reads the gauge and the charger on loop timers, kicks the charger's
watchdog, drives the charge LED, publishes power events, and on a critical
battery runs the daemon's safe sequence (`on_critical`) and then `power_off`.

Every I2C transfer is retried with a backoff on a NACK; a chip that does not
answer at start-up is tried again on every poll, and the player keeps playing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from capstan.chips import bq25895, max17048
from capstan.chips.bq25895 import BQ25895
from capstan.chips.max17048 import MAX17048
from capstan.chips.retry import with_retries
from capstan.errors import HardwareFault
from capstan.events import EventBus
from capstan.hardware.protocols import I2CBus, PwmOut
from capstan.power.config import PowerConfig
from capstan.power.estimate import check_mode
from capstan.power.events import PowerEvent
from capstan.power.policy import BatteryPolicy, PowerReading

log = logging.getLogger(__name__)
T = TypeVar("T")

CriticalHook = Callable[[PowerEvent], Awaitable[None]]
PowerOff = Callable[[], Awaitable[None] | None]


class PowerService:
    def __init__(self, bus: I2CBus, events: EventBus, *, led: PwmOut | None = None,
                 config: PowerConfig | None = None,
                 gauge_address: int = max17048.ADDRESS, charger_address: int = bq25895.ADDRESS,
                 on_critical: CriticalHook | None = None, power_off: PowerOff | None = None,
                 ) -> None:
        self.bus, self.events, self.led = bus, events, led
        self.config = config or PowerConfig()
        self.policy = BatteryPolicy(self.config)
        self.gauge_address, self.charger_address = gauge_address, charger_address
        self.on_critical = on_critical
        self.power_off = power_off
        self.gauge: MAX17048 | None = None
        self.charger: BQ25895 | None = None
        self.kicks = 0
        self.retries = 0
        self._mode = "wired"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.shutdown_task: asyncio.Task[None] | None = None
        self._complained: set[str] = set()

    # the daemon's view ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        """What the player does now, for the discharge estimate: wired | bluetooth | recording."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        check_mode(mode)
        self._mode = mode

    def remaining(self, mode: str | None = None) -> float | None:
        return self.policy.remaining(mode or self._mode)

    def can_finish(self, seconds_needed: float, mode: str | None = None) -> bool:
        return self.policy.can_finish(seconds_needed, mode or self._mode)

    def status(self) -> dict[str, Any]:
        p = self.policy
        return {"percent": p.percent, "voltage": p.voltage, "supply": p.supply,
                "level": p.level, "gauge_known": p.gauge_known, "faults": list(p.faults),
                "remaining": self.remaining()}

    # life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._poll()
        now = self._loop.time()
        self._every("poll", now + self.config.poll_interval, self.config.poll_interval,
                    self._poll)
        if self.config.watchdog_timeout:
            self._every("kick", now + self.config.kick_interval, self.config.kick_interval,
                        self._kick)

    async def stop(self) -> None:
        """Stop reading and kicking. A safe shutdown that has begun is left to finish."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        tasks = [t for t in self._tasks.values() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self.led is not None:
            self.led.write(0.0)

    async def __aenter__(self) -> PowerService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # timers -------------------------------------------------------------------------------
    def _every(self, name: str, when: float, period: float,
               job: Callable[[], Awaitable[None]]) -> None:
        assert self._loop is not None

        def fire() -> None:
            self._every(name, when + period, period, job)
            running = self._tasks.get(name)
            if running is None or running.done():
                self._tasks[name] = asyncio.ensure_future(job())

        self._timers[name] = self._loop.call_at(when, fire)

    # I2C ------------------------------------------------------------------------------------
    async def _io(self, op: Callable[[], T]) -> T:
        def count(exc: BaseException) -> None:
            self.retries += 1

        return await with_retries(op, self.config.io_attempts, self.config.io_backoff, count)

    async def _attempt(self, what: str, op: Callable[[], T]) -> T | None:
        """`op` with retries; None if it still fails (logged once per run of failures)."""
        try:
            value = await self._io(op)
        except (OSError, HardwareFault) as exc:
            if what not in self._complained:
                self._complained.add(what)
                log.warning("%s: %s", what, exc)
            return None
        self._complained.discard(what)
        return value

    async def _do(self, what: str, op: Callable[[], None]) -> bool:
        """A transfer for its effect: did it get through?"""
        def run() -> bool:
            op()
            return True

        return await self._attempt(what, run) is not None

    async def _open(self) -> None:
        if self.gauge is None:
            self.gauge = await self._attempt(
                "fuel gauge", lambda: MAX17048(self.bus, self.gauge_address))
        if self.charger is None:
            charger = await self._attempt(
                "charger", lambda: BQ25895(self.bus, self.charger_address))
            if charger is not None and await self._configure(charger):
                self.charger = charger

    async def _configure(self, charger: BQ25895) -> bool:
        c = self.config

        def apply() -> None:
            charger.watchdog_timeout = c.watchdog_timeout
            charger.input_current_limit = c.input_current_limit
            charger.charge_current_limit = c.charge_current_limit
            charger.adc_continuous = True

        return await self._do("charger set-up", apply)

    # the work ---------------------------------------------------------------------------------
    async def _kick(self) -> None:
        if self.charger is not None and await self._do("charger watchdog",
                                                       self.charger.kick_watchdog):
            self.kicks += 1

    async def _poll(self) -> None:
        await self._open()
        soc = voltage = charger_voltage = None
        if self.gauge is not None:
            g = self.gauge
            voltage = await self._attempt("fuel gauge", lambda: g.cell_voltage)
            soc = await self._attempt("fuel gauge", lambda: g.state_of_charge)
        on_input = charge_state = faults = None
        if self.charger is not None:
            ch = self.charger
            status = await self._attempt("charger", ch.read_status)
            found = await self._attempt("charger", ch.read_faults)
            charger_voltage = await self._attempt("charger", lambda: ch.battery_voltage)
            if status is not None and found is not None and status.plausible and found.plausible:
                on_input, charge_state, faults = status.power_good, status.charge_state, found.names
                if found.watchdog:
                    log.warning("the charger's watchdog expired: setting it up again")
                    await self._configure(ch)
        assert self._loop is not None
        reading = PowerReading(soc, voltage, charger_voltage, on_input, charge_state, faults)
        for event in self.policy.update(self._loop.time(), reading, self._mode):
            self.events.publish(event)
            if event.what == "critical" and self.shutdown_task is None:
                self.shutdown_task = asyncio.ensure_future(self._safe_shutdown(event))
        self._update_led()

    async def _safe_shutdown(self, critical: PowerEvent) -> None:
        timer = self._timers.pop("poll", None)
        if timer:
            timer.cancel()
        if self.on_critical is not None:
            try:
                await asyncio.wait_for(self.on_critical(critical), self.config.shutdown_timeout)
            except TimeoutError:
                log.error("the safe sequence took longer than %.0f s: powering off anyway",
                          self.config.shutdown_timeout)
            except Exception:  # the power-off must still happen
                log.exception("the safe sequence failed: powering off anyway")
        self.events.publish(PowerEvent("shutdown", percent=critical.percent,
                                       voltage=critical.voltage, reason=critical.reason))
        if self.power_off is not None:
            result = self.power_off()
            if inspect.isawaitable(result):
                await result

    def _update_led(self) -> None:
        timer = self._timers.pop("led", None)
        if timer:
            timer.cancel()
        if self.led is None or self._loop is None:
            return
        duty, next_change = self.policy.charge_led(self._loop.time())
        if duty != self.led.value:
            self.led.write(duty)
        if next_change is not None:
            self._timers["led"] = self._loop.call_at(next_change, self._update_led)
