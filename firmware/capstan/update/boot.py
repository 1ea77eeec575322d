"""What `capstan update boot` does at every start, before the daemon.

1. settle a pending trial (roll back one that never confirmed);
2. look for `*.capstan` on the boot partition; each file not dealt with before is
   installed (or rejected, with the reason in UPDATE-RESULT.txt) — at most one install
   per start, the newest version first;
3. if a slot is on trial, record that its trial start begins now, with its deadline.

The USB drive (capstan.usb.drive) runs the same function on the bundles it copied off
the drive (`source`), while the player runs: a bundle it installs starts on trial at
once, and the unit restarts the daemon into it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from capstan.power.update_check import power_ok as default_power_ok
from capstan.update import ledger, trial
from capstan.update.bundle import file_sha256
from capstan.update.disk import Disk
from capstan.update.errors import UpdateError
from capstan.update.install import NotEnoughPower, board_compatible, install
from capstan.update.manifest import parse_version
from capstan.update.venv import SlotBuilder

log = logging.getLogger(__name__)


@dataclass
class BootReport:
    settled: str = "none"
    installed: str | None = None
    rejected: list[str] = field(default_factory=list)
    trial: str = "none"


def _newest_first(paths: list[Path]) -> list[Path]:
    def key(path: Path) -> tuple[int, ...]:
        try:
            return parse_version(path.stem.removeprefix("capstan-"))
        except UpdateError:
            return (-1,)
    return sorted(paths, key=key, reverse=True)


def boot(root: Path, *, this_boot: str, now: float, deadline: float = trial.DEFAULT_DEADLINE,
         compatible: str | None = None, power_ok: Callable[[], bool] = default_power_ok,
         builder: SlotBuilder | None = None, disk: Disk | None = None,
         source: Path | None = None, medium: str = "card") -> BootReport:
    """`source`: where the bundles are (default the boot partition); `medium` names it in
    UPDATE-RESULT.txt's advice ("card", "drive")."""
    from capstan.update.slots import Layout

    layout = Layout(root)
    disk = disk or Disk()
    report = BootReport(settled=trial.settle(layout, this_boot, now, deadline, disk))
    if report.settled in ("running", "started"):
        # A trial is under way (a second run in this boot, or an install made while the
        # player ran): let it end before another install may touch a slot.
        report.trial = report.settled
        return report
    if compatible is None:
        try:
            compatible = board_compatible()
        except UpdateError as exc:  # the player's fault, not the bundles': nothing remembered
            report.rejected.append(str(exc))
            return report
    candidates = [p for p in (source or layout.boot).glob("*.capstan") if p.is_file()]
    history = ledger.read_history(layout)
    seen = set(history.seen_files)
    for path in _newest_first(candidates):
        try:
            digest = file_sha256(path)
        except (OSError, MemoryError):
            continue
        if digest in seen:
            continue
        try:
            tries = history.attempts.get(digest, 0)
            if tries >= ledger.MAX_ATTEMPTS:
                raise UpdateError(f"the install was cut off {tries} times before it finished "
                                  "(a power cut, or the system stopped it when memory ran "
                                  "out); the player is unchanged")
            # Durable before the install: a start that never comes back counts.
            ledger.remember(layout, disk, attempt=digest)
            done = install(path, layout, compatible=compatible, power_ok=power_ok,
                           builder=builder, disk=disk)
        except NotEnoughPower as exc:
            ledger.remember(layout, disk, done=digest)
            ledger.write_result(layout, disk, "NOT YET", path.name, str(exc),
                                "Charge the player; the update is tried at the next start.")
            report.rejected.append(f"{path.name}: {exc}")
            break
        except (UpdateError, OSError, MemoryError) as exc:
            if not isinstance(exc, UpdateError):  # what install did not turn into one line
                exc = UpdateError(f"the install failed: {exc!r:.160}; the player is unchanged")
            log.warning("update %s refused: %s", path.name, exc)
            ledger.remember(layout, disk, seen_file=digest)
            ledger.write_result(layout, disk, "REFUSED", path.name, str(exc),
                                "The player is unchanged. Get a good bundle for this player "
                                f"and copy it onto the {medium}.")
            report.rejected.append(f"{path.name}: {exc}")
            continue
        ledger.remember(layout, disk, seen_file=digest)
        report.installed = done.version
        break
    if report.installed:
        report.trial = trial.settle(layout, this_boot, now, deadline, disk)
    elif report.settled == "started":
        report.trial = "started"
    return report
