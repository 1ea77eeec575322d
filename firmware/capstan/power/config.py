"""The power subsystem's settings, with the defaults of the reference build."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from capstan.errors import ConfigError


def _typical_current() -> dict[str, float]:
    # A from the cell, as capstan.sim.chips.player_load estimates them (docs/power.md):
    # the Pi, the converters and the motor at play duty; the radio; the record chain.
    return {"wired": 0.33, "bluetooth": 0.43, "recording": 0.48}


@dataclass(frozen=True)
class PowerConfig:
    poll_interval: float = 2.0          # s between readings of the gauge and the charger
    warning_percent: float = 15.0
    warning_rearm: float = 2.0          # % above the warning level before it can warn again
    critical_percent: float = 5.0
    critical_voltage: float = 3.4       # V, sustained
    confirm_readings: int = 3           # consecutive readings that confirm a level
    unknown_after: int = 3              # consecutive failed gauge readings before "unknown"
    soc_time_constant: float = 20.0     # s, of the state-of-charge filter
    capacity_mah: float = 2500.0
    typical_current: dict[str, float] = field(default_factory=_typical_current)
    finish_margin: float = 0.10         # can_finish() wants this much more than needed
    watchdog_timeout: float = 40.0      # s; the charger's I2C watchdog (0, 40, 80, 160)
    kick_interval: float = 10.0         # s between watchdog kicks
    input_current_limit: float = 1.5    # A from USB
    charge_current_limit: float = 1.0   # A into the cell (0.4 C for 2500 mAh)
    io_attempts: int = 4                # tries of one I2C transfer on NACK
    io_backoff: float = 0.005           # s before the first retry; doubles each time
    shutdown_timeout: float = 10.0      # s the daemon's safe sequence may take

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ConfigError:
            return ConfigError(f"power.{name} = {getattr(self, name)!r}: {why}")

        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, int | float) and not isinstance(v, bool) and v < 0:
                raise bad(f.name, "must not be negative")
        if not 0 < self.critical_percent < self.warning_percent < 100:
            raise bad("warning_percent", "needs 0 < critical_percent < warning_percent < 100")
        if self.watchdog_timeout not in (0, 40, 80, 160):
            raise bad("watchdog_timeout", "the BQ25895 offers 0 (off), 40, 80 or 160 s")
        if self.watchdog_timeout and not 0 < self.kick_interval <= self.watchdog_timeout / 2:
            raise bad("kick_interval", "kick at least twice per watchdog_timeout")
        if self.poll_interval <= 0 or self.confirm_readings < 1 or self.unknown_after < 1:
            raise bad("poll_interval", "poll_interval > 0, confirm_readings and "
                                       "unknown_after >= 1")
        if self.io_attempts < 1:
            raise bad("io_attempts", "must be at least 1")

    @classmethod
    def from_dict(cls, table: dict[str, Any]) -> PowerConfig:
        """From a TOML [power] table; unknown keys are an error that names them."""
        known = {f.name for f in fields(cls)}
        for key in table:
            if key not in known:
                raise ConfigError(f"unknown key power.{key} (known: {', '.join(sorted(known))})")
        return cls(**table)
