"""Powering the Pi off: the last step of the safe sequence on the real board."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def systemctl_poweroff() -> None:
    """`systemctl poweroff`: systemd stops the daemon (which saves again on the way out),
    syncs and halts. The charger keeps the cell connected until then."""
    proc = await asyncio.create_subprocess_exec("systemctl", "poweroff")
    if await proc.wait() != 0:
        log.error("systemctl poweroff failed (exit %s)", proc.returncode)
