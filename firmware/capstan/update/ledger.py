"""What the updater remembers between starts, and what it tells the user.

- trial.json: the slot on trial and the one to go back to (present only during a trial).
- history.json: manifests that failed a trial (never applied again), bundle files
  already dealt with (not re-checked, not re-reported, at every boot), and installs
  begun but never finished (a power cut, or the kernel stopping an updater out of
  memory): after MAX_ATTEMPTS such starts the bundle is refused, not tried forever.
- UPDATE-RESULT.txt on the FAT partition: the outcome in words, for the user's computer.
All writes are durable (temporary file, fsync, rename, fsync of the directory).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from capstan.update.disk import Disk
from capstan.update.slots import Layout

HISTORY_MAX = 64
MAX_ATTEMPTS = 3


@dataclass
class TrialRecord:
    slot: str
    previous: str | None
    version: str
    previous_version: str | None
    manifest_sha256: str
    bundle: str
    boot_id: str | None = None  # the boot in which the trial start began
    deadline: float | None = None  # CLOCK_MONOTONIC seconds (same boot only)


def trial_path(layout: Layout) -> Path:
    return layout.state / "trial.json"


def read_trial(layout: Layout) -> TrialRecord | None:
    try:
        raw = json.loads(trial_path(layout).read_text())
        return TrialRecord(**raw)
    except (OSError, ValueError, TypeError):
        return None


def write_trial(layout: Layout, record: TrialRecord, disk: Disk) -> None:
    disk.write_durably(trial_path(layout), json.dumps(asdict(record), indent=1).encode())


def clear_trial(layout: Layout, disk: Disk) -> None:
    if trial_path(layout).exists():
        disk.remove(trial_path(layout))
        disk.fsync(layout.state)


@dataclass
class History:
    failed_manifests: list[str]
    seen_files: list[str]
    attempts: dict[str, int] = field(default_factory=dict)  # bundle file sha256 -> starts


def read_history(layout: Layout) -> History:
    try:
        raw = json.loads((layout.state / "history.json").read_text())
        attempts = raw.get("attempts", {})
        return History([str(x) for x in raw["failed_manifests"]],
                       [str(x) for x in raw["seen_files"]],
                       {str(k): int(v) for k, v in attempts.items()}
                       if isinstance(attempts, dict) else {})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return History([], [])


def remember(layout: Layout, disk: Disk, *, failed_manifest: str | None = None,
             seen_file: str | None = None, attempt: str | None = None,
             done: str | None = None) -> None:
    """Record, durably: a failed manifest, a file dealt with (which ends its attempts), an
    install about to begin (`attempt`), or one whose outcome is known (`done`)."""
    history = read_history(layout)
    if failed_manifest and failed_manifest not in history.failed_manifests:
        history.failed_manifests = [*history.failed_manifests, failed_manifest][-HISTORY_MAX:]
    if seen_file and seen_file not in history.seen_files:
        history.seen_files = [*history.seen_files, seen_file][-HISTORY_MAX:]
    for finished in (seen_file, done):
        if finished:
            history.attempts.pop(finished, None)
    if attempt:
        history.attempts[attempt] = history.attempts.get(attempt, 0) + 1
        history.attempts = dict(list(history.attempts.items())[-HISTORY_MAX:])
    disk.mkdir(layout.state, 0o700)
    disk.write_durably(layout.state / "history.json",
                       json.dumps(asdict(history), indent=1).encode())


def write_result(layout: Layout, disk: Disk, outcome: str, bundle: str, detail: str,
                 todo: str) -> None:
    """UPDATE-RESULT.txt, plain text with CRLF line ends so every computer shows it."""
    lines = ["Capstan update result", "", f"Result: {outcome}", f"Bundle: {bundle}",
             f"Details: {detail}", f"What to do: {todo}", ""]
    if layout.boot.is_dir():
        disk.write_durably(layout.result, "\r\n".join(lines).encode())


def read_result(layout: Layout) -> str | None:
    try:
        return layout.result.read_text(errors="replace")
    except OSError:
        return None


OUTCOMES = ("INSTALLED", "ROLLED BACK", "REFUSED", "NOT YET")


def last_outcome(layout: Layout) -> str | None:
    """The last result in one word for the LEDs: one of OUTCOMES, or None."""
    return outcome_of(read_result(layout))


def outcome_of(text: str | None) -> str | None:
    """The outcome a result file's text states: one of OUTCOMES, or None."""
    for line in (text or "").splitlines():
        if line.startswith("Result: ") and line[8:].strip() in OUTCOMES:
            return line[8:].strip()
    return None
