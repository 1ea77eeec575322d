"""Is there enough power to install? The rule, and the default that reads nothing.

The rule: a charger present or a battery at MIN_BATTERY (30 %) or more. `power_ok`
reads nothing and allows the install: a player whose gauge cannot be read (a bench
supply, a board without battery) must still be updatable, and a power cut mid-install
is safe anyway (the switch is the last write); the check only spares the user a failed
attempt. On the player, the commands that install (`capstan update install|boot`, the
USB-C update drive) hand the installer a check that reads the charger and the gauge,
`capstan.power.update_check.board_power_check()`, as `power_ok=`.
"""

from __future__ import annotations

MIN_BATTERY = 0.30  # of a full charge


def power_ok() -> bool:
    """The default check: nothing is read, and the install may start."""
    return True
