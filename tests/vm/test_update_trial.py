"""The trial start of an update under real systemd in the virtual Pi.

tools/install wrote `capstan-update.service` and `capstan.service`; slot a is this
checkout's firmware. Each test leaves slot b as an install leaves it (the slot, its
marker, trial.json, `current` switched to it, with the updater's own functions), then
starts the units as a boot does: capstan-update.service (which settles the trial and
stays to watch it), then capstan.service, which it pulls in. A slot whose daemon
never reports READY is rolled back at the trial's deadline and the player comes back
on slot a; a healthy one is confirmed by capstan.service's ExecStartPost. Either way
UPDATE-RESULT.txt on the boot partition says so.

The units run as tools/install wrote them, with one drop-in: the trial's deadline
(180 s on a player) shortened, so that the test does not wait three minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.vm.conftest import run
from tests.vm.rig import Header, HeadSignal, load_chips, rest_lines

from capstan.update import ledger
from capstan.update.disk import Disk
from capstan.update.slots import Layout, marker_text, read_marker

GUARD = 300.0  # s: a failure guard, never a measurement (a starved TCG guest is slow)
UPDATER, PLAYER = "capstan-update.service", "capstan.service"
LAYOUT = Layout(Path("/"))
DROPIN = Path(f"/etc/systemd/system/{UPDATER}.d/trial-deadline.conf")
BROKEN = """#!/bin/sh
# A firmware that cannot start: its daemon dies before the self-test, at every start.
echo "capstan: ModuleNotFoundError: No module named 'capstan.deck.transport2'" >&2
exit 1
"""


def show(unit: str, prop: str) -> str:
    return run("systemctl", "show", "-P", prop, unit).strip()


def journal(unit: str) -> str:
    return run("journalctl", "-b", "-u", unit, "--no-pager", "-o", "cat", check=False)


def wait_until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD  # a failure guard
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen; updater:\n{journal(UPDATER)[-2000:]}"
                                 f"\nplayer:\n{journal(PLAYER)[-2500:]}")
        time.sleep(0.25)


def deadline(seconds: int) -> None:
    """The updater's unit as installed, but with a trial deadline of SECONDS."""
    exec_start = next(line for line in Path(f"/etc/systemd/system/{UPDATER}").read_text()
                      .splitlines() if line.startswith("ExecStart="))
    assert "--deadline 180" in exec_start, exec_start
    DROPIN.parent.mkdir(parents=True, exist_ok=True)
    DROPIN.write_text("[Service]\nExecStart=\n"
                      + exec_start.replace("--deadline 180", f"--deadline {seconds}") + "\n")
    run("systemctl", "daemon-reload")


def stage(version: str, broken: bool) -> str:
    """Slot b as an install leaves it: built, marked complete, on trial, `current` at it."""
    disk = Disk()
    good = read_marker(LAYOUT, "a")
    assert good is not None and LAYOUT.active() == "a"
    slot = LAYOUT.slot("b")
    subprocess.run(["rm", "-rf", str(slot)], check=True)
    (slot / "bin").mkdir(parents=True)
    if broken:
        (slot / "bin" / "capstan").write_text(BROKEN)
        (slot / "bin" / "capstan").chmod(0o755)
    else:  # the same firmware as slot a, a newer version number
        for entry in (LAYOUT.slot("a") / "bin").iterdir():
            (slot / "bin" / entry.name).symlink_to(entry.resolve())
    disk.mkdir(LAYOUT.state, 0o700)
    manifest = f"manifest-of-{version}"
    disk.write_durably(slot / "capstan-slot.toml", marker_text(version, manifest))
    bundle = f"capstan-{version}.capstan"
    ledger.write_trial(LAYOUT, ledger.TrialRecord(
        slot="b", previous="a", version=version, previous_version=good.version,
        manifest_sha256=manifest, bundle=bundle), disk)
    disk.point(LAYOUT.current, "slots/b")
    return bundle


def boot() -> None:
    """What a boot runs: the updater (Type=notify, READY once the trial is settled), and
    the player it pulls in after it."""
    run("systemctl", "stop", PLAYER, UPDATER)
    run("systemctl", "reset-failed", PLAYER, UPDATER, check=False)
    run("systemctl", "start", UPDATER)


def result() -> str:
    return LAYOUT.result.read_text().replace("\r\n", "\n")


@pytest.fixture
def trial(installed: None, vpi: Any) -> Iterator[None]:
    header = Header()
    rest_lines(header, vpi)
    load_chips()
    header.drive(vpi.switches["cassette_in"].pin, False)
    LAYOUT.result.unlink(missing_ok=True)
    with HeadSignal():
        try:
            yield
        finally:
            run("systemctl", "stop", PLAYER, UPDATER, check=False)
            DROPIN.unlink(missing_ok=True)
            run("systemctl", "daemon-reload")
            # slot a for whatever runs next
            Disk().point(LAYOUT.current, "slots/a")
            Disk().point(LAYOUT.good, "slots/a")
            ledger.clear_trial(LAYOUT, Disk())
            rest_lines(header, vpi)


def test_a_slot_that_never_reports_ready_is_rolled_back(trial: None) -> None:
    deadline(15)
    bundle = stage("99.0.0", broken=True)
    t0 = time.monotonic()
    boot()
    record = ledger.read_trial(LAYOUT)
    assert record is not None and record.boot_id == Path(
        "/proc/sys/kernel/random/boot_id").read_text().strip(), "the trial did not start"
    wait_until(lambda: LAYOUT.result.exists(), "a result on the boot partition")
    assert LAYOUT.active() == "a", "current was not pointed back at slot a"
    wait_until(lambda: show(PLAYER, "SubState") == "running"
               and show(PLAYER, "StatusText").startswith("self-test passed"),
               "the player back on slot a")
    took = time.monotonic() - t0
    text = result()
    assert "Result: ROLLED BACK" in text and f"Bundle: {bundle}" in text, text
    assert "within the deadline" in text and "back on" in text, text
    assert LAYOUT.pointed(LAYOUT.good) == "a" and ledger.read_trial(LAYOUT) is None
    assert "manifest-of-99.0.0" in ledger.read_history(LAYOUT).failed_manifests
    assert "No module named 'capstan.deck.transport2'" in journal(PLAYER)
    print(f"rolled back and the player READY on slot a {took:.1f} s after the boot")


def test_a_healthy_slot_is_confirmed(trial: None) -> None:
    # the trial deadline of a player (180 s) is only a bound here: the test waits for the
    # result, and an emulated CPU shared with other work may take minutes to be READY
    deadline(300)
    bundle = stage("99.0.1", broken=False)
    t0 = time.monotonic()
    boot()
    wait_until(lambda: LAYOUT.result.exists(), "a result on the boot partition")
    took = time.monotonic() - t0
    text = result()
    assert "Result: INSTALLED" in text and f"Bundle: {bundle}" in text, text
    assert "Capstan 99.0.1 is installed and running" in text, text
    assert LAYOUT.active() == "b" and LAYOUT.pointed(LAYOUT.good) == "b"
    assert ledger.read_trial(LAYOUT) is None
    assert show(PLAYER, "SubState") == "running"
    assert "trial confirmed" in journal(PLAYER)
    wait_until(lambda: show(UPDATER, "MainPID") == "0", "the updater's watch ending")
    assert "trial: done" in journal(UPDATER)
    status = json.loads(run(str(LAYOUT.current / "bin" / "capstan"), "update", "status",
                            "--json"))
    assert status["current"] == "b" and status["good"] == "b", status
    assert os.path.realpath(LAYOUT.current) == str(LAYOUT.slot("b"))
    print(f"confirmed {took:.1f} s after the boot")
