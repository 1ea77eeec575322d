"""The update drive: a small FAT image behind the gadget's mass-storage LUN.

The computer sees a removable drive labelled CAPSTAN holding UPDATE-RESULT.txt. When
it ejects the drive (SCSI START STOP UNIT with "eject": the kernel's f_mass_storage
closes the LUN's backing file, and `lun.0/file` reads empty), the player has the image
to itself and:

1. copies every `*.capstan` off the image into a private directory (root only),
2. hands that directory to the same code as the SD card at start-up
   (`capstan.update.boot.boot`): the same checks, the same history of bundles already
   dealt with, the same UPDATE-RESULT.txt on the boot partition, the same LEDs,
3. writes that UPDATE-RESULT.txt into the image, and attaches the image again.

The image holds nothing else of the player's: no state, no keys, no settings. It is
read and written with mtools (no mount, no loop device) only while the LUN is
detached, so the computer and the player never have it at the same time. A bundle
installed this way starts on trial as a bundle from the card does; `after_install`
(on the player: restart the updater, the daemon and this service) runs it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from capstan.update import ledger
from capstan.update.boot import BootReport, boot
from capstan.update.disk import Disk
from capstan.update.slots import Layout
from capstan.usb.gadget import Gadget

log = logging.getLogger(__name__)

IMAGE = Path("/var/lib/capstan-usb/drive.img")
SIZE_MIB = 64  # sparse: only what is written takes room on the card
LABEL = "CAPSTAN"
RESULT = "UPDATE-RESULT.txt"
SUFFIX = ".capstan"
NO_RESULT = ("Capstan update drive\r\n\r\nNo update has been tried yet.\r\nCopy a .capstan "
             "bundle onto this drive, then eject the drive: the player checks and installs "
             "it, and the outcome is written here.\r\n")
_ENV = {"MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0", "LC_ALL": "C.UTF-8"}


class DriveError(Exception):
    """The image cannot be read as FAT (the computer reformatted it, or it is damaged)."""


def _run(*cmd: str) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, **_ENV})
    except FileNotFoundError as exc:
        raise DriveError(f"{cmd[0]} is missing (Debian packages mtools and dosfstools)") from exc
    if proc.returncode != 0:
        raise DriveError(f"{cmd[0]} failed: {(proc.stderr or proc.stdout).strip()[:200]}")
    return proc.stdout


class FatImage:
    """A FAT image file, read and written with mtools (`-i IMAGE`, no mount)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self, size_mib: int = SIZE_MIB) -> None:
        """A new empty FAT drive (any old image is replaced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + ".new")
        tmp.unlink(missing_ok=True)
        _run("mkfs.vfat", "-C", "-n", LABEL, str(tmp), str(size_mib * 1024))
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def names(self) -> list[str]:
        """The file names in the drive's top directory (long names)."""
        out = _run("mdir", "-b", "-i", str(self.path), "::/")
        return [line[3:] for line in out.splitlines() if line.startswith("::/")]

    def copy_out(self, name: str, dest: Path) -> None:
        _run("mcopy", "-n", "-i", str(self.path), f"::/{name}", str(dest))

    def put(self, name: str, data: bytes) -> None:
        """Write `name` in the top directory, replacing what is there."""
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / name
            src.write_bytes(data)
            _run("mcopy", "-o", "-D", "o", "-i", str(self.path), str(src), f"::/{name}")

    def read(self, name: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            dest = Path(tmp) / "out"
            self.copy_out(name, dest)
            return dest.read_bytes()


@dataclass
class Taken:
    """What one eject did: the bundles found and the update's report."""
    bundles: list[str]
    report: BootReport | None
    problem: str | None = None


class UpdateDrive:
    """The drive's life: prepare the image, and on each eject take the bundles off it."""

    def __init__(self, gadget: Gadget, image: FatImage, root: Path, *,
                 this_boot: Callable[[], str], now: Callable[[], float],
                 after_install: Callable[[BootReport], None] | None = None,
                 before_update: Callable[[], None] | None = None,
                 update: Callable[..., BootReport] = boot) -> None:
        self.gadget, self.image, self.root = gadget, image, root
        self.layout = Layout(root)
        self.this_boot, self.now = this_boot, now
        self.after_install = after_install or (lambda report: None)
        self.before_update = before_update or (lambda: None)
        self.update = update
        self.taken: list[Taken] = []

    @property
    def staging(self) -> Path:
        return self.layout.state / "from-usb"

    def prepare(self) -> None:
        """Before the gadget is up: an image that mtools can read, with the last result."""
        try:
            if not self.image.path.is_file():
                raise DriveError("no image yet")
            self.image.names()
        except DriveError:
            self.image.create()
        self._write_result()

    def _write_result(self) -> None:
        text = ledger.read_result(self.layout)
        self.image.put(RESULT, (text or NO_RESULT).encode())

    def poll(self) -> Taken | None:
        """One look at the LUN: if the computer ejected the drive, take it (see take)."""
        if self.gadget.attached():
            return None
        return self.take()

    def take(self) -> Taken:
        """The LUN is detached: bundles off the image, through the update, result back on."""
        bundles: list[str] = []
        report = None
        problem = None
        try:
            bundles = self._copy_bundles()
            if bundles:
                self.before_update()
                report = self.update(self.root, this_boot=self.this_boot(), now=self.now(),
                                     source=self.staging, medium="drive")
        except DriveError as exc:
            problem = str(exc)
            log.warning("the update drive cannot be read: %s", exc)
            ledger.write_result(self.layout, Disk(), "REFUSED", "(the USB drive)",
                                f"The drive could not be read as a FAT drive ({exc}).",
                                "The drive was made empty again. Copy the .capstan bundle "
                                "onto it and eject it; do not format it.")
            self.image.create()
        except Exception as exc:  # a bug must not leave the computer without its drive
            problem = f"{exc!r:.200}"
            log.exception("taking the update drive failed")
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self._write_result()
        finally:
            self.gadget.attach()
        taken = Taken(bundles, report, problem)
        self.taken.append(taken)
        if report is not None and report.installed:
            self.after_install(report)
        return taken

    def _copy_bundles(self) -> list[str]:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True, mode=0o700)
        found = []
        for name in self.image.names():
            if not name.lower().endswith(SUFFIX) or "/" in name or name.startswith("."):
                continue
            stem = name[:-len(SUFFIX)]
            self.image.copy_out(name, self.staging / (stem + SUFFIX))
            found.append(name)
        return found


def watch(drive: UpdateDrive, sleep: Callable[[float], None], running: Callable[[], bool],
          poll: float = 0.5) -> None:
    """Look at the LUN every `poll` seconds while `running()`."""
    while running():
        taken = drive.poll()
        if taken is not None:
            log.info("update drive ejected: bundles %s, installed %s, refused %s%s",
                     taken.bundles or "none",
                     taken.report.installed if taken.report else None,
                     taken.report.rejected if taken.report else [],
                     f", problem: {taken.problem}" if taken.problem else "")
            continue
        sleep(poll)
