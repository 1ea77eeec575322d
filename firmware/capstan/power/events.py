"""The power subsystem's events: `{"type": "power", "what": ..., ...}` in the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event

WHATS = (
    "warning",        # state of charge at or below the warning level (15 %)
    "critical",       # 5 % or a sustained low cell voltage: the safe sequence starts
    "shutdown",       # the safe sequence is done; the system powers off now
    "charging",       # input power and the cell is charging
    "charged",        # charging terminated: the cell is full
    "discharging",    # running from the cell again (the charger was unplugged)
    "gauge_unknown",  # the fuel gauge cannot be read: the charge is unknown
    "gauge_ok",       # the fuel gauge answers again
    "charger_fault",  # the charger reports a fault (names in `faults`)
    "charger_ok",     # the charger's faults have cleared
)


@dataclass(frozen=True)
class PowerEvent(Event):
    type: ClassVar[str] = "power"
    what: str
    percent: float | None = None     # filtered state of charge, when known
    voltage: float | None = None     # cell voltage, when known
    reason: str | None = None        # why: "soc" | "voltage" for critical, ...
    faults: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.what not in WHATS:
            raise ValueError(f"unknown power event {self.what!r}")
