"""Powering the Pi off: the last step of the safe sequence on the real board."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

# --no-ask-password: the daemon has no terminal; without the polkit grant it fails at once
POWEROFF = ("systemctl", "--no-ask-password", "poweroff")


async def systemctl_poweroff() -> None:
    """`systemctl poweroff`: systemd stops the daemon (which saves again on the way out),
    syncs and halts. The charger keeps the cell connected until then."""
    try:
        proc = await asyncio.create_subprocess_exec(*POWEROFF)
    except OSError as exc:
        log.error("cannot run %s: %s", " ".join(POWEROFF), exc)
        return
    if await proc.wait() != 0:
        log.error("%s failed (exit %s): the daemon runs as user capstan; is the polkit rule "
                  "for org.freedesktop.login1.power-off installed?", " ".join(POWEROFF),
                  proc.returncode)
