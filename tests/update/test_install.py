"""A/B install into a directory tree standing for /, the trial start, and rollback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from capstan.cli import main
from capstan.update import ledger, minisign
from capstan.update.boot import boot
from capstan.update.errors import BundleRejected, UpdateError
from capstan.update.install import install
from capstan.update.slots import Layout, read_marker
from capstan.update.trial import check_deadline, confirm_healthy, settle, watch
from capstan.update.venv import UnpackBuilder, VenvBuilder, check_slot

from .helpers import COMPATIBLE, make_bundle, put_on_card, seeded_root, tree_digest


def _boot(layout: Layout, boot_id: str, now: float = 100.0, **kw: object):  # type: ignore[no-untyped-def]
    return boot(layout.root, this_boot=boot_id, now=now, deadline=60.0, compatible=COMPATIBLE,
                builder=UnpackBuilder(), **kw)


def running_version(layout: Layout) -> str | None:
    """What the daemon would run: the slot `current` names, checked for completeness."""
    active = layout.active()
    info = read_marker(layout, active) if active else None
    if info is None:
        return None
    check_slot(layout.slot(active), [f"capstan-{info.version}-py3-none-any.whl"])
    return (layout.slot(active) / "lib").glob("*/site-packages/capstan/__init__.py").__next__() \
        .read_text().split('"')[1]


def test_install_goes_to_the_inactive_slot_and_switches_last(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    slot_a = tree_digest(layout.slot("a"))
    card = put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    done = install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    assert (done.slot, done.previous, done.previous_version) == ("b", "a", "0.1.0")
    assert done.files_checked >= 4
    assert layout.active() == "b" and layout.pointed(layout.good) == "a"
    assert running_version(layout) == "0.2.0"
    assert tree_digest(layout.slot("a")) == slot_a
    assert layout.incoming.stat().st_mode & 0o777 == 0o700
    assert list(layout.incoming.iterdir()) == []  # the private copy is gone after use
    record = ledger.read_trial(layout)
    assert record and record.previous == "a" and record.boot_id is None


def test_healthy_trial_is_confirmed_and_reported(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    report = _boot(layout, "boot-1")
    assert (report.installed, report.trial) == ("0.2.0", "started")
    assert confirm_healthy(tmp_path)
    assert layout.active() == layout.pointed(layout.good) == "b"
    assert ledger.read_trial(layout) is None
    result = layout.result.read_text()
    assert "Result: INSTALLED" in result and "Capstan 0.2.0 is installed and running" in result
    assert not confirm_healthy(tmp_path)  # nothing left to confirm
    # The bundle left on the card is not installed again at the next start.
    again = _boot(layout, "boot-2")
    assert again.installed is None and again.rejected == []
    assert layout.active() == "b"


def test_a_trial_that_never_reports_healthy_is_rolled_back_at_the_next_start(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    assert _boot(layout, "boot-1").trial == "started"
    # The new firmware crashes or the Pi hangs and is power-cycled: no confirmation.
    report = _boot(layout, "boot-2")
    assert report.settled == "rolled-back"
    assert layout.active() == "a" and running_version(layout) == "0.1.0"
    assert "Result: ROLLED BACK" in layout.result.read_text()
    assert "back on 0.1.0" in layout.result.read_text()
    # Never re-applied: not at the next start, not by hand.
    assert _boot(layout, "boot-3").installed is None
    with pytest.raises(BundleRejected, match="failed its trial start before"):
        install(layout.boot / "capstan-0.2.0.capstan", layout, key=key.public(),
                compatible=COMPATIBLE, builder=UnpackBuilder())
    # A newer bundle still installs.
    put_on_card(layout, make_bundle(key, "0.2.1"), "0.2.1")
    assert _boot(layout, "boot-4").installed == "0.2.1"


def test_a_trial_that_hangs_past_its_deadline_is_rolled_back_in_the_same_boot(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    _boot(layout, "boot-1", now=100.0)
    clock = {"now": 100.0}
    restarts = []

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    state = watch(layout, "boot-1", lambda: clock["now"], sleep, lambda: restarts.append(1),
                  poll=5.0)
    assert state == "rolled-back" and restarts == [1]
    assert 160.0 <= clock["now"] < 165.0  # the 60 s deadline, to one poll
    assert layout.active() == "a"


def test_confirmation_before_the_deadline_wins(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    _boot(layout, "boot-1", now=100.0)
    assert check_deadline(layout, "boot-1", 159.0) == "pending"
    assert confirm_healthy(tmp_path)
    assert check_deadline(layout, "boot-1", 1000.0) == "done"
    assert layout.active() == "b"


def test_a_trial_is_not_confirmed_before_it_starts(tmp_path: Path,
                                                  key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    card = put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    assert not confirm_healthy(tmp_path)  # the old daemon, still running, is not the trial
    assert settle(layout, "boot-1", 0.0) == "started"
    assert settle(layout, "boot-1", 1.0) == "running"


def test_not_enough_power_refuses_and_tries_again_later(tmp_path: Path,
                                                       key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    report = _boot(layout, "boot-1", power_ok=lambda: False)
    assert report.installed is None and "plug in the charger" in report.rejected[0]
    assert "Result: NOT YET" in layout.result.read_text()
    assert not layout.slot("b").exists()
    assert _boot(layout, "boot-2").installed == "0.2.0"


def test_a_refused_bundle_is_reported_once(tmp_path: Path, key: minisign.SecretKey,
                                           other_key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(other_key, "0.2.0"), "0.2.0")
    report = _boot(layout, "boot-1")
    assert "this player trusts key" in report.rejected[0]
    assert "Result: REFUSED" in layout.result.read_text()
    layout.result.unlink()
    assert _boot(layout, "boot-2").rejected == []
    assert not layout.result.exists()


def test_the_newest_bundle_on_the_card_wins(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    for version in ("0.2.0", "0.10.0", "0.3.0"):
        put_on_card(layout, make_bundle(key, version), version)
    assert _boot(layout, "boot-1").installed == "0.10.0"


def test_status_and_confirm_commands(tmp_path: Path, key: minisign.SecretKey,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    _boot(layout, "boot-1")
    assert main(["update", "status", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "slot a: 0.1.0  [good]" in out and "slot b: 0.2.0  [current]" in out
    assert "trial: slot b (0.2.0), started, awaiting healthy" in out
    assert main(["update", "confirm", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "trial confirmed\n"
    assert main(["update", "status", "--root", str(tmp_path), "--json"]) == 0
    assert '"good": "b"' in capsys.readouterr().out


def test_the_real_slot_is_a_venv_with_the_real_firmware(tmp_path: Path,
                                                        key: minisign.SecretKey) -> None:
    """pip install --no-index of a capstan wheel into a venv over the system packages."""
    import subprocess

    from .helpers import make_wheel, new_root

    layout = new_root(tmp_path, key)
    name, wheel = make_wheel("0.5.0", name="capstan_probe", extra={
        "capstan_probe-0.5.0.dist-info/entry_points.txt":
            b"[console_scripts]\ncapstan-probe = capstan_probe:main\n",
        "capstan_probe/__init__.py": b"def main():\n    print('probe 0.5.0')\n",
    })
    card = tmp_path / "b.capstan"
    firmware, firmware_wheel = make_wheel("0.5.0")
    card.write_bytes(make_bundle(key, "0.5.0", files={f"wheels/{firmware}": firmware_wheel,
                                                      f"wheels/{name}": wheel}))
    done = install(card, layout, key=key.public(), compatible=COMPATIBLE,
                   builder=VenvBuilder(python=sys.executable))
    slot = layout.slot(done.slot)
    assert (slot / "pyvenv.cfg").read_text().count("include-system-site-packages = true") == 1
    out = subprocess.run([str(layout.current / "bin" / "capstan-probe")], capture_output=True,
                         text=True, check=True).stdout
    assert out == "probe 0.5.0\n"


def test_the_led_word_for_the_last_result(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    assert ledger.last_outcome(layout) is None
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    _boot(layout, "boot-1")
    _boot(layout, "boot-2")
    assert ledger.last_outcome(layout) == "ROLLED BACK"


def test_an_unreadable_board_description_blames_the_player_not_the_bundle(
        tmp_path: Path, key: minisign.SecretKey, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    monkeypatch.setenv("CAPSTAN_BOARD", str(tmp_path / "missing.toml"))
    report = boot(tmp_path, this_boot="boot-1", now=0.0, builder=UnpackBuilder())
    assert "cannot tell which board this is" in report.rejected[0]
    assert ledger.read_history(layout).seen_files == []
    monkeypatch.undo()
    assert _boot(layout, "boot-2").installed == "0.2.0"


def test_capstan_update_boot_installs_into_a_real_venv_and_sends_ready(
        tmp_path: Path, key: minisign.SecretKey, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    layout = seeded_root(tmp_path / "root", key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / "notify"))
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        assert main(["update", "boot", "--root", str(layout.root)]) == 0
        assert notify.recv(64) == b"READY=1"
    assert "trial: none -> started; installed: 0.2.0" in capsys.readouterr().out
    assert (layout.slot("b") / "bin" / "python").exists()  # a real venv, by the real builder
    assert running_version(layout) == "0.2.0"


def test_no_install_while_a_trial_is_under_way(tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    card = put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    good = tree_digest(layout.slot("a"))
    newer = put_on_card(layout, make_bundle(key, "0.3.0"), "0.3.0")
    with pytest.raises(UpdateError, match=r"0\.2\.0 is still on trial"):
        install(newer, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    report = _boot(layout, "boot-1")  # the trial of 0.2.0 starts; 0.3.0 waits
    assert (report.trial, report.installed) == ("started", None)
    assert tree_digest(layout.slot("a")) == good
    assert confirm_healthy(tmp_path)
    assert _boot(layout, "boot-2").installed == "0.3.0"
    assert layout.active() == "a" and layout.pointed(layout.good) == "b"


@pytest.mark.parametrize("what", ["no pip wheel", "no python", "no room"])
def test_the_self_check_refuses_before_the_slot_is_touched(
        tmp_path: Path, key: minisign.SecretKey, what: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    from capstan.update import venv

    layout = seeded_root(tmp_path / "root", key)
    layout.slot("b").mkdir(parents=True)
    (layout.slot("b") / "leftover").write_text("old")
    before = {name: tree_digest(layout.slot(name)) for name in "ab"}
    card = put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    (tmp_path / "empty").mkdir()
    builder = VenvBuilder()
    if what == "no pip wheel":
        builder = VenvBuilder(wheel_dir=tmp_path / "empty")
        message = "no pip wheel in .*empty.*python3-venv"
    elif what == "no python":
        builder = VenvBuilder(python=str(tmp_path / "empty" / "python3"))
        message = "cannot make a virtual environment"
    else:
        usage = namedtuple("usage", "total used free")
        real = shutil.disk_usage
        monkeypatch.setattr(venv.shutil, "disk_usage",
                            lambda p: usage(*real(p)[:2], 5 << 20))
        message = "not enough free space for the update in .*slots: 5 MiB free"
    with pytest.raises(UpdateError, match=message):
        install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=builder)
    assert {name: tree_digest(layout.slot(name)) for name in "ab"} == before
    assert list(layout.incoming.iterdir()) == []
