"""The update drive: a real FAT image (mkfs.vfat, mtools), the LUN in a configfs-shaped
tree, and the same update path as the SD card (capstan.update.boot) behind the eject."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from tests.update.helpers import COMPATIBLE, make_bundle, seeded_root, tree_digest
from tests.usb.configfs import PlainTree

from capstan.update import minisign, pack
from capstan.update.boot import BootReport, boot
from capstan.update.disk import Disk
from capstan.update.ledger import write_result
from capstan.update.venv import UnpackBuilder
from capstan.usb.drive import NO_RESULT, RESULT, FatImage, UpdateDrive, watch
from capstan.usb.gadget import Gadget, GadgetSpec


@pytest.fixture(scope="module")
def key() -> minisign.SecretKey:
    return minisign.generate()


class Rig:
    def __init__(self, tmp: Path, key: minisign.SecretKey) -> None:
        self.layout = seeded_root(tmp / "root", key, "0.1.0")
        self.image = FatImage(tmp / "usb" / "drive.img")
        configfs = tmp / "usb_gadget"
        configfs.mkdir()
        self.gadget = Gadget(GadgetSpec("storage", self.image.path), configfs, PlainTree())
        self.installed: list[BootReport] = []
        self.drive = UpdateDrive(
            self.gadget, self.image, self.layout.root, this_boot=lambda: "boot-1",
            now=lambda: 100.0, after_install=self.installed.append,
            update=functools.partial(boot, compatible=COMPATIBLE, builder=UnpackBuilder()))
        self.drive.prepare()
        self.gadget.up("dummy_udc.0")

    def eject(self) -> None:
        """What the host's eject leaves: the LUN without its file."""
        (self.gadget.lun / "file").write_text("\n")

    def result(self) -> str:
        return self.image.read(RESULT).decode()


@pytest.fixture
def rig(tmp_path: Path, key: minisign.SecretKey) -> Rig:
    return Rig(tmp_path, key)


def test_the_drive_holds_only_the_result_file(rig: Rig, key: minisign.SecretKey) -> None:
    assert rig.image.names() == [RESULT]
    assert rig.result() == NO_RESULT
    text = rig.result()
    assert key.public().to_text().split()[-1] not in text
    assert rig.image.path.stat().st_mode & 0o077 == 0  # root's alone on the player


def test_the_last_result_from_the_card_is_on_the_drive(tmp_path: Path,
                                                       key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path / "root", key)
    write_result(layout, Disk(), "ROLLED BACK", "capstan-0.3.0.capstan", "it hung", "nothing")
    image = FatImage(tmp_path / "drive.img")
    gadget = Gadget(GadgetSpec("storage", image.path), tmp_path)
    UpdateDrive(gadget, image, layout.root, this_boot=lambda: "b", now=lambda: 0.0).prepare()
    assert image.read(RESULT).decode() == layout.result.read_text()
    assert "Result: ROLLED BACK" in image.read(RESULT).decode()


def test_nothing_happens_while_the_computer_has_the_drive(rig: Rig,
                                                          key: minisign.SecretKey) -> None:
    rig.image.put("capstan-0.2.0.capstan", make_bundle(key, "0.2.0"))
    before = rig.image.path.read_bytes()
    assert rig.drive.poll() is None
    assert rig.image.path.read_bytes() == before
    assert rig.layout.active() == "a"


def test_a_valid_bundle_is_installed_after_the_eject(rig: Rig, key: minisign.SecretKey) -> None:
    rig.image.put("capstan-0.2.0.capstan", make_bundle(key, "0.2.0"))
    rig.eject()
    taken = rig.drive.poll()
    assert taken is not None and taken.bundles == ["capstan-0.2.0.capstan"]
    assert taken.report is not None and taken.report.installed == "0.2.0"
    assert taken.report.trial == "started"  # on trial now, as after an install at boot
    assert rig.layout.active() == "b"
    assert [r.installed for r in rig.installed] == ["0.2.0"]
    assert rig.gadget.attached()  # the computer has its drive back
    assert not rig.drive.staging.exists()  # the private copies are gone
    # a second eject: the same file was dealt with, as on the card
    rig.eject()
    again = rig.drive.poll()
    assert again is not None and again.report is not None
    assert again.report.installed is None and rig.installed[1:] == []


def test_a_corrupt_bundle_is_refused_and_the_refusal_is_on_the_drive(
        rig: Rig, key: minisign.SecretKey) -> None:
    blob = bytearray(make_bundle(key, "0.2.0"))
    blob[len(blob) // 2] ^= 0xFF
    rig.image.put("CAPSTAN-0.2.0.CAPSTAN", bytes(blob))  # as a computer may name it
    slots = tree_digest(rig.layout.base / "slots")
    rig.eject()
    taken = rig.drive.poll()
    assert taken is not None and taken.report is not None
    assert taken.report.installed is None and len(taken.report.rejected) == 1
    text = rig.result()
    assert "Result: REFUSED" in text and "Bundle: CAPSTAN-0.2.0.capstan" in text
    assert "copy it onto the drive" in text
    assert text == rig.layout.result.read_text()  # the same UPDATE-RESULT.txt as the card's
    assert tree_digest(rig.layout.base / "slots") == slots and rig.layout.active() == "a"
    assert rig.installed == [] and rig.gadget.attached()


def test_a_bundle_signed_by_another_key_is_refused(rig: Rig) -> None:
    other = minisign.generate()
    rig.image.put(pack.bundle_name("0.2.0"), make_bundle(other, "0.2.0"))
    rig.eject()
    rig.drive.poll()
    assert "Result: REFUSED" in rig.result() and "key" in rig.result()
    assert rig.layout.active() == "a"


def test_a_drive_the_computer_reformatted_is_made_fat_again(rig: Rig) -> None:
    with open(rig.image.path, "r+b") as f:
        f.write(b"\0" * 65536)  # the boot sector and the FAT gone
    rig.eject()
    taken = rig.drive.poll()
    assert taken is not None and taken.problem and taken.report is None
    assert rig.image.names() == [RESULT]
    assert "could not be read as a FAT drive" in rig.result()
    assert rig.gadget.attached()


def test_watch_polls_until_told_to_stop(rig: Rig, key: minisign.SecretKey) -> None:
    rig.image.put("capstan-0.2.0.capstan", make_bundle(key, "0.2.0"))
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        if len(slept) == 2:
            rig.eject()  # the computer ejects while the player waits

    watch(rig.drive, sleep, lambda: len(slept) < 4, poll=0.5)
    assert slept == [0.5] * 4
    assert [t.report.installed for t in rig.drive.taken if t.report] == ["0.2.0"]
