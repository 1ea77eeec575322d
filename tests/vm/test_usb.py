"""The USB-C port on the virtual Pi: the gadget (configfs, libcomposite) on dummy_hcd's
device side, and this same guest as the computer on its host side.

`capstan usb run` sets up the gadget with the update drive; the guest's usb-storage sees
it as a SCSI disk: a bundle copied onto it (mount, cp, umount, eject) is taken when the
drive is ejected, through the same update path as the SD card. The sound card's
stream is not tested here yet (docs/usb.md).
Real time: every wait is on an event, with a guard against a hang.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.update.helpers import make_bundle, seeded_root
from tests.vm.daemon import CONFIG, GUARD
from tests.vm.rig import BOARD_FILE, modprobe

from capstan.update import minisign, pack
from capstan.update.slots import Layout, read_marker

COMPATIBLE = "capstan,virtual-pi"  # hardware/virtual-pi.toml
CONFIGFS = Path("/sys/kernel/config")
LUN = CONFIGFS / "usb_gadget/capstan/functions/mass_storage.usb0/lun.0/file"
MODULES = ("libcomposite", "usb_f_mass_storage", "dummy_hcd", "usb-storage", "sd_mod", "vfat")


def wait(predicate: Any, what: str, guard: float = GUARD) -> Any:
    deadline = time.monotonic() + guard  # a failure guard, not a measurement
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {guard:.0f} s")
        time.sleep(0.2)


def usb_disk() -> Path | None:
    for vendor in Path("/sys/block").glob("sd*/device/vendor"):
        if vendor.read_text().strip() == "Capstan":
            return Path("/dev") / vendor.parent.parent.name
    return None


@dataclass
class Usb:
    proc: subprocess.Popen[bytes]
    log: Path
    root: Path
    key: minisign.SecretKey
    config: Path
    disk: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def taken(self) -> int:
        return self.output().count("update drive ejected")


@pytest.fixture(scope="module")
def usb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Usb]:
    if not os.path.ismount(CONFIGFS):
        modprobe("configfs")
        subprocess.run(["mount", "-t", "configfs", "none", str(CONFIGFS)], check=True)
    for m in MODULES:
        modprobe(m)
    tmp = tmp_path_factory.mktemp("usb")
    key = minisign.generate()
    seeded_root(tmp / "root", key, "0.1.0")
    config = tmp / "capstan.toml"
    config.write_text(CONFIG.read_text() + '\n[usb]\ngadget = "storage"\n')
    log = tmp / "usb.log"
    env = {**os.environ, "CAPSTAN_BOARD": str(BOARD_FILE), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "capstan", "-v", "usb", "run",
                                 "--config", str(config), "--root", str(tmp / "root"),
                                 "--image", str(tmp / "drive.img")],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    u = Usb(proc, log, tmp / "root", key, config, Path())
    try:
        wait(lambda: "gadget up" in u.output() or proc.poll() is not None, "the gadget")
        assert proc.poll() is None, u.output()
        u.disk = wait(usb_disk, "usb-storage's disk for the drive")
        yield u
    finally:
        proc.terminate()
        proc.wait(GUARD)
        keep = os.environ.get("CAPSTAN_VM_OUT")
        if keep:
            (Path(keep) / "usb.log").write_bytes(log.read_bytes())
    assert "gadget down" in u.output()
    assert not (CONFIGFS / "usb_gadget/capstan").exists()


def copy_onto_drive(usb: Usb, name: str, blob: bytes, mnt: Path) -> str:
    """As a person does: mount the drive, copy the file, unmount, eject; then wait for the
    player to take it and give the drive back; returns UPDATE-RESULT.txt from the drive."""
    before = usb.taken()
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "vfat", str(usb.disk), str(mnt)], check=True)
    try:
        (mnt / name).write_bytes(blob)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    ej = subprocess.run(["eject", str(usb.disk)], capture_output=True, text=True)
    assert ej.returncode == 0, ej.stderr
    wait(lambda: usb.taken() > before, "the player taking the drive after the eject",
         guard=3 * GUARD)
    wait(lambda: LUN.read_text().strip(), "the drive attached again")

    def mounted() -> bool:
        Path(f"/sys/block/{usb.disk.name}/device/rescan").write_text("1")
        return subprocess.run(["mount", "-t", "vfat", "-o", "ro", str(usb.disk), str(mnt)],
                              capture_output=True).returncode == 0
    wait(mounted, "the drive back on the computer")
    try:
        return (mnt / "UPDATE-RESULT.txt").read_text()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_bundles_copied_onto_the_drive(usb: Usb, tmp_path: Path) -> None:
    layout = Layout(usb.root)
    # a corrupt bundle: refused, and the refusal is on the drive
    blob = bytearray(make_bundle(usb.key, "0.2.0", COMPATIBLE))
    blob[len(blob) // 2] ^= 0x01
    text = copy_onto_drive(usb, pack.bundle_name("0.2.0"), bytes(blob), tmp_path / "mnt")
    assert "Result: REFUSED" in text and pack.bundle_name("0.2.0") in text, text
    assert layout.active() == "a"
    # a valid one: installed into the other slot (a real venv), on trial from now
    text = copy_onto_drive(usb, pack.bundle_name("0.2.1"),
                           make_bundle(usb.key, "0.2.1", COMPATIBLE), tmp_path / "mnt")
    assert layout.active() == "b", usb.output()
    marker = read_marker(layout, "b")
    assert marker is not None and marker.version == "0.2.1"
    assert (layout.slot("b") / "bin" / "python").exists()
    assert re.search(r"installed '?0\.2\.1", usb.output()), usb.output()
