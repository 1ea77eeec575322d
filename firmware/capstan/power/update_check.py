"""May an update install now? The rule, and one reading of the charger and the gauge.

The rule: a charger with input power, or a battery at MIN_BATTERY (30 %) or more. The
updater (`capstan update boot`) runs in its own process before the daemon, so the
commands that install (`capstan update install|boot`, the USB-C update drive) read the
chips themselves, once, through `board_power_check()`, and hand that to the installer
as `power_ok=`. What cannot be read does not block (docs/updates.md): a bench supply or
a board without battery must stay updatable, and an install cut by a power loss is safe
anyway (the switch is the last write); the check only spares the user a failed attempt.
`power_ok` is the check that reads nothing (the installer's default, and an install
into another root than the player's own). A reading is taken until two readings agree,
so one garbage read decides nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capstan.chips import bq25895, max17048
from capstan.chips.bq25895 import BQ25895
from capstan.chips.max17048 import MAX17048
from capstan.errors import HardwareFault
from capstan.hardware.protocols import I2CBus

log = logging.getLogger(__name__)

MIN_BATTERY = 0.30  # of a full charge
MIN_PERCENT = 100 * MIN_BATTERY  # the gauge reads percent
ATTEMPTS = 4
BACKOFF = 0.005  # s, doubled after each failed attempt


def power_ok() -> bool:
    """The check that reads nothing: the install may start."""
    return True


def power_ok_on(bus: I2CBus, gauge_address: int = max17048.ADDRESS,
                charger_address: int = bq25895.ADDRESS,
                sleep: Callable[[float], None] = time.sleep) -> bool:
    """Charger input present, or battery ≥ 30 %; True when neither can be read."""
    input_power = _agreeing(lambda: _input_present(bus, charger_address), sleep)
    if input_power:
        return True
    soc = _agreeing(lambda: _state_of_charge(bus, gauge_address), sleep, tolerance=1.0)
    if soc is None:
        log.warning("update power check: the fuel gauge cannot be read: allowing the install")
        return True
    if soc < MIN_PERCENT:
        log.warning("update power check: battery %.0f %% without a charger: not now "
                    "(plug in the charger, or charge to %.0f %%)", soc, MIN_PERCENT)
        return False
    return True


def power_check_for(root: Path) -> Callable[[], bool]:
    """The check for an install into `root`: on the player itself (root /) it reads the
    charger and the gauge; into any other root (an image being prepared, a test's root)
    it reads nothing."""
    if Path(root) == Path("/"):
        return board_power_check()
    return power_ok


def board_power_check(open_bus: Callable[[], Any] | None = None) -> Callable[[], bool]:
    """The installer's `power_ok`: reads the board's chips when called (not before)."""
    return lambda: _check_board(open_bus)


def _check_board(open_bus: Callable[[], Any] | None) -> bool:
    from capstan.hardware.description import load_board

    try:
        d = load_board()
        bus = open_bus() if open_bus is not None else _smbus(d.i2c_bus)
    except Exception as exc:  # no I2C here (a laptop, i2c_arm off): nothing to read
        log.warning("update power check: cannot open the I2C bus (%s): allowing the install",
                    exc)
        return True
    try:
        return power_ok_on(bus, d.i2c["fuel_gauge"].address, d.i2c["charger"].address)
    finally:
        close = getattr(bus, "close", None)
        if callable(close):
            close()


def _smbus(number: int) -> Any:
    from smbus2 import SMBus

    return SMBus(number)


def _input_present(bus: I2CBus, address: int) -> bool | None:
    status = BQ25895(bus, address).read_status()
    return status.power_good if status.plausible else None


def _state_of_charge(bus: I2CBus, address: int) -> float | None:
    soc = MAX17048(bus, address).state_of_charge
    return soc if 0.0 <= soc <= 102.0 else None


def _agreeing(read: Callable[[], Any], sleep: Callable[[float], None],
              tolerance: float = 0.0, tries: int = 3) -> Any:
    """The first reading that agrees (within `tolerance`) with an earlier one, or None."""
    seen: list[Any] = []
    for _ in range(tries):
        value = _retried(read, sleep)
        if value is None:
            continue
        for earlier in seen:
            if (value == earlier if isinstance(value, bool)
                    else abs(value - earlier) <= tolerance):
                return value
        seen.append(value)
    return None


def _retried(read: Callable[[], Any], sleep: Callable[[float], None]) -> Any:
    delay = BACKOFF
    for attempt in range(ATTEMPTS):
        try:
            return read()
        except (OSError, HardwareFault) as exc:
            if attempt == ATTEMPTS - 1:
                log.debug("update power check: %s", exc)
                return None
            sleep(delay)
            delay *= 2
    return None
