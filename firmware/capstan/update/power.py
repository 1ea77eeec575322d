"""Is there enough power to install? The hook the power subsystem fills in.

The rule: a charger present or a battery at 30 % or more. This module reads
nothing by default and allows the install: the updater runs before the daemon, and a
player whose gauge cannot be read (a bench supply, a board without battery) must still
be updatable. A power cut mid-install is safe anyway (the switch is the last write);
the check only spares the user a failed attempt. The daemon's power subsystem wires
itself in with `set_power_check`, or the installer is given `power_ok=` directly.
"""

from __future__ import annotations

from collections.abc import Callable

MIN_BATTERY = 0.30
_check: Callable[[], bool] | None = None


def set_power_check(check: Callable[[], bool] | None) -> None:
    global _check
    _check = check


def power_ok() -> bool:
    """True when an install may start: charger present or battery ≥ MIN_BATTERY."""
    return True if _check is None else bool(_check())
