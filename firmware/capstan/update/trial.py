"""The trial start of a new slot: confirm it, or go back to the previous one.

At boot, `capstan update boot` (from the `good` slot, see slots.py) calls `settle`:
 - no trial.json: nothing to do;
 - trial.json names a slot `current` does not point at: the install was cut before its
   switch, so the record is stale and removed (the bundle is tried again);
 - a trial began in an earlier boot and was never confirmed (crash, hang, reboot): roll
   back now;
 - otherwise the trial starts in this boot: its boot id and deadline are recorded.
The daemon, once healthy (self-test passed, READY sent), calls `confirm_healthy`.
Whoever comes second of the daemon's confirmation and the deadline loses: both take a
lock on the state directory, and each checks the record is still theirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from capstan.update import ledger
from capstan.update.disk import Disk
from capstan.update.slots import Layout, read_marker

DEFAULT_DEADLINE = 180.0  # s from the start of the update service to the daemon's READY


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


@contextlib.contextmanager
def locked(layout: Layout) -> Iterator[None]:
    layout.state.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(layout.state / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def settle(layout: Layout, this_boot: str, now: float, deadline: float = DEFAULT_DEADLINE,
           disk: Disk | None = None) -> str:
    """Decide what the pending trial (if any) means at this start; returns what was done."""
    disk = disk or Disk()
    with locked(layout):
        record = ledger.read_trial(layout)
        if record is None:
            return "none"
        if layout.active() != record.slot:
            ledger.clear_trial(layout, disk)
            return "stale"
        if record.boot_id is not None and record.boot_id != this_boot:
            _rollback(layout, record, disk, "it did not report healthy before the player "
                      "restarted (it crashed, hung or lost power)")
            return "rolled-back"
        if record.boot_id is None:
            record.boot_id, record.deadline = this_boot, now + deadline
            ledger.write_trial(layout, record, disk)
            return "started"
        return "running"


def check_deadline(layout: Layout, this_boot: str, now: float,
                   disk: Disk | None = None) -> str:
    """Roll back if this boot's trial is past its deadline: 'pending', 'done', 'rolled-back'."""
    disk = disk or Disk()
    with locked(layout):
        record = ledger.read_trial(layout)
        if record is None or record.boot_id != this_boot or layout.active() != record.slot:
            return "done"
        if record.deadline is not None and now >= record.deadline:
            _rollback(layout, record, disk, "it did not report healthy within "
                      "the deadline after starting")
            return "rolled-back"
        return "pending"


def watch(layout: Layout, this_boot: str, clock: Callable[[], float],
          sleep: Callable[[float], None], restart_daemon: Callable[[], None],
          poll: float = 1.0) -> str:
    """Wait for the trial to end; roll back and restart the daemon at its deadline."""
    while True:
        state = check_deadline(layout, this_boot, clock())
        if state == "rolled-back":
            restart_daemon()
        if state != "pending":
            return state
        sleep(poll)


def confirm_healthy(root: Path = Path("/"), disk: Disk | None = None) -> bool:
    """The daemon calls this once healthy (after its self-test). True if it ended a trial.

    Cheap and safe to call at every start: without a trial of the running slot it
    does nothing.
    """
    layout = Layout(root)
    if not ledger.trial_path(layout).exists():
        return False
    disk = disk or Disk()
    with locked(layout):
        record = ledger.read_trial(layout)
        if record is None or record.boot_id is None or layout.active() != record.slot:
            return False
        disk.point(layout.good, f"slots/{record.slot}")
        ledger.clear_trial(layout, disk)
        ledger.write_result(
            layout, disk, "INSTALLED", record.bundle,
            f"Capstan {record.version} is installed and running (was "
            f"{record.previous_version or 'nothing'}).",
            "Nothing. You may delete the .capstan file from the card.")
        return True


def _rollback(layout: Layout, record: ledger.TrialRecord, disk: Disk, why: str) -> None:
    # Order: remember the failure first, so that a cut anywhere below repeats the
    # rollback at the next start and never re-installs the bundle.
    ledger.remember(layout, disk, failed_manifest=record.manifest_sha256)
    previous = record.previous if record.previous and read_marker(layout,
                                                                  record.previous) else None
    if previous:
        disk.point(layout.current, f"slots/{previous}")
    ledger.clear_trial(layout, disk)
    back = f"back on {record.previous_version}" if previous else "no previous slot to go back to"
    ledger.write_result(
        layout, disk, "ROLLED BACK", record.bundle,
        f"Capstan {record.version} was installed but {why}; {back}.",
        "Nothing is lost. Report this with the bundle's name; this bundle will not be "
        "installed again. You may delete it from the card.")
