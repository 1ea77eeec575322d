"""Battery policy: pure, with `now` passed in. Readings in, events and decisions out.

- The state of charge is believed only when plausible (capstan.power.plausible)
  and then low-pass filtered. A gauge that cannot be read for `unknown_after`
  polls is "unknown": `percent` is None, never 0 nor 100.
- Warning at 15 %, critical at 5 % or a cell voltage under 3.4 V, each
  confirmed by `confirm_readings` consecutive accepted readings, and only
  while running from the cell (charging from empty starts low, too). When the
  gauge is unknown, the charger's own battery-voltage ADC stands in for the
  voltage check, so a dead gauge cannot hide a dying cell.
- Charge state and charger faults change only when two polls agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from capstan.power.config import PowerConfig
from capstan.power.estimate import DischargeEstimator, check_mode
from capstan.power.events import PowerEvent
from capstan.power.plausible import Plausible

SUPPLY_OF = {"pre_charge": "charging", "fast_charge": "charging", "done": "charged",
             "not_charging": "input"}


@dataclass(frozen=True)
class PowerReading:
    """One poll of the chips; None where a chip could not be read."""

    soc: float | None = None               # % from the gauge
    voltage: float | None = None           # V from the gauge
    charger_voltage: float | None = None   # V, the charger's battery ADC
    on_input: bool | None = None           # the charger has good input power
    charge_state: str | None = None        # not_charging | pre_charge | fast_charge | done
    faults: tuple[str, ...] | None = None  # charger faults by name


class BatteryPolicy:
    def __init__(self, config: PowerConfig | None = None) -> None:
        self.config = c = config or PowerConfig()
        self.estimator = DischargeEstimator(c.capacity_mah, c.typical_current)
        self._soc = Plausible(0.0, 102.0, jump=1.0, rate=0.1)
        self._cell = Plausible(2.5, 4.6, jump=0.35, rate=0.01)
        self._charger_cell = Plausible(2.5, 4.6, jump=0.35, rate=0.01)
        self.percent: float | None = None
        self.voltage: float | None = None
        self.gauge_known = False
        self.supply = "unknown"           # battery | charging | charged | input | unknown
        self.level = "ok"                 # ok | warning | critical
        self.faults: tuple[str, ...] = ()
        self.shutdown_reason: str | None = None
        self._soc_t: float | None = None
        self._gauge_failures = 0
        self._gauge_reported = False
        self._low = {"warning": 0, "soc": 0, "voltage": 0}
        self._supply_seen: str | None = None
        self._faults_seen: tuple[str, ...] | None = None

    # questions -----------------------------------------------------------------
    @property
    def on_battery(self) -> bool:
        return self.supply in ("battery", "unknown")

    def remaining(self, mode: str) -> float | None:
        """Seconds of playing in `mode` before the critical level; None if unknown."""
        check_mode(mode)
        if self.percent is None:
            return None
        return self.estimator.remaining(self.percent, mode, self.config.critical_percent)

    def can_finish(self, seconds_needed: float, mode: str) -> bool:
        """Is there enough charge for `seconds_needed` more in `mode`? On input power: yes.
        With the gauge unknown: yes, and the safe sequence still guards the recording."""
        left = self.remaining(mode)
        if not self.on_battery or left is None:
            return True
        return left >= seconds_needed * (1 + self.config.finish_margin)

    # readings ---------------------------------------------------------------------
    def update(self, now: float, r: PowerReading, mode: str = "wired") -> list[PowerEvent]:
        """Take one poll; return the events it causes (critical at most once)."""
        if self.level == "critical":
            return []
        events = self._supply(r) + self._charger_faults(r)
        soc_fresh = self._soc.check(now, r.soc)
        events += self._gauge(now, r.soc if soc_fresh else None, mode)
        volt_fresh = self._voltage(now, r)
        if not self.on_battery:
            self._low = dict.fromkeys(self._low, 0)
            if self.level == "warning":
                self.level = "ok"
            return events
        c = self.config
        self._count("soc", soc_fresh, self.percent is not None
                    and self.percent <= c.critical_percent)
        self._count("voltage", volt_fresh, self.voltage is not None
                    and self.voltage < c.critical_voltage)
        self._count("warning", soc_fresh, self.percent is not None
                    and self.percent <= c.warning_percent)
        for reason in ("soc", "voltage"):
            if self._low[reason] >= c.confirm_readings:
                self.level, self.shutdown_reason = "critical", reason
                return [*events, self._event("critical", reason=reason)]
        if self.level == "ok" and self._low["warning"] >= c.confirm_readings:
            self.level = "warning"
            events.append(self._event("warning"))
        elif (self.level == "warning" and self.percent is not None
              and self.percent > c.warning_percent + c.warning_rearm):
            self.level = "ok"
        return events

    def _count(self, key: str, fresh: bool, low: bool) -> None:
        if fresh:  # an unreadable or discarded reading neither confirms nor clears
            self._low[key] = self._low[key] + 1 if low else 0

    def _supply(self, r: PowerReading) -> list[PowerEvent]:
        if r.on_input is None:
            return []
        supply = SUPPLY_OF.get(r.charge_state or "", "input") if r.on_input else "battery"
        seen, self._supply_seen = self._supply_seen, supply
        if supply != seen or supply == self.supply:
            return []
        before, self.supply = self.supply, supply
        if supply in ("charging", "charged"):
            return [self._event(supply)]
        if supply == "battery" and before in ("charging", "charged", "input"):
            return [self._event("discharging")]
        return []

    def _charger_faults(self, r: PowerReading) -> list[PowerEvent]:
        if r.faults is None:
            return []
        seen, self._faults_seen = self._faults_seen, r.faults
        if r.faults != seen or r.faults == self.faults:
            return []
        self.faults = r.faults
        if r.faults:
            return [self._event("charger_fault", faults=r.faults)]
        return [self._event("charger_ok")]

    def _gauge(self, now: float, soc: float | None, mode: str) -> list[PowerEvent]:
        """Take an accepted state of charge (None: unreadable or discarded)."""
        if soc is not None:
            soc = min(100.0, soc)
            if self.percent is None or self._soc_t is None or self._soc.jumped:
                self.percent = soc  # a first reading, or the gauge restarted its estimate
                self.estimator.forget()
            else:
                alpha = 1 - math.exp(-(now - self._soc_t) / self.config.soc_time_constant)
                self.percent += alpha * (soc - self.percent)
            self._soc_t = now
            self.estimator.add(now, self.percent, mode, self.supply == "battery")
            self._gauge_failures = 0
            was_reported, self._gauge_reported = self._gauge_reported, False
            self.gauge_known = True
            return [self._event("gauge_ok")] if was_reported else []
        self._gauge_failures += 1
        if self._gauge_failures < self.config.unknown_after or self._gauge_reported:
            return []
        self.gauge_known, self.percent, self._soc_t = False, None, None
        self._soc.forget()
        self._gauge_reported = True
        return [self._event("gauge_unknown")]

    def _voltage(self, now: float, r: PowerReading) -> bool:
        if self._cell.check(now, r.voltage):
            self.voltage = r.voltage
            return True
        if not self.gauge_known and self._charger_cell.check(now, r.charger_voltage):
            self.voltage = r.charger_voltage
            return True
        return False

    def _event(self, what: str, **fields: object) -> PowerEvent:
        pct = round(self.percent, 2) if self.percent is not None else None
        volts = round(self.voltage, 3) if self.voltage is not None else None
        return PowerEvent(what, percent=pct, voltage=volts, **fields)  # type: ignore[arg-type]

    # the charge LED --------------------------------------------------------------
    def charge_led(self, now: float) -> tuple[float, float | None]:
        """(brightness now, time of the next change or None when steady)."""
        if self.level == "critical":
            return _blink(now, 0.25, 0.125)
        if self.faults:
            return _blink(now, 1.0, 0.5)
        if self.supply == "charging":
            return 1.0, None
        if self.supply == "charged":
            return 0.2, None
        if self.level == "warning" and self.on_battery:
            return _blink(now, 2.0, 0.2)
        return 0.0, None


def _blink(now: float, period: float, on: float) -> tuple[float, float]:
    t = now + 1e-6  # a boundary less than a microsecond away counts as passed: always move on
    start = math.floor(t / period) * period
    if t < start + on:
        return 1.0, start + on
    return 0.0, start + period
