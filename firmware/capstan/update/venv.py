"""Fill a slot: a virtual environment over the system's site-packages, from wheels only.

`VenvBuilder` is what the player uses: `python3 -m venv --system-site-packages
--without-pip`, then the system's pip (Debian python3-pip) installs the bundle's wheels
into it with `--python slot/bin/python --no-index --no-deps` (no network, nothing from
outside the bundle; the Debian packages of the image provide the rest; no copy of pip
in every slot, which would cost a Zero 2 W half a minute per install).
`UnpackBuilder` lays the wheels out as pip would, but through the `Disk` layer, so the
power-cut harness can cut inside the slot's own writes; the same check (`check_slot`)
accepts both.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Protocol

from capstan.update.disk import Disk
from capstan.update.errors import UpdateError

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


class SlotBuilder(Protocol):
    def build(self, slot: Path, wheels: list[Path], disk: Disk) -> None: ...


def site_packages(slot: Path) -> Path:
    return slot / "lib" / PY / "site-packages"


class VenvBuilder:
    """The real thing; needs only the system's python3 and the bundle's wheels."""

    def __init__(self, python: str = "/usr/bin/python3") -> None:
        self.python = python

    def build(self, slot: Path, wheels: list[Path], disk: Disk) -> None:
        self._run([self.python, "-m", "venv", "--system-site-packages", "--without-pip",
                   str(slot)])
        self._run([self.python, "-m", "pip", "--python", str(slot / "bin" / "python"),
                   "install", "--quiet", "--no-index", "--no-deps", "--no-cache-dir",
                   "--disable-pip-version-check", *map(str, wheels)])

    @staticmethod
    def _run(cmd: list[str]) -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise UpdateError(f"installing into the slot failed: {last[:200]}")


class UnpackBuilder:
    """Unzips the wheels into the slot's site-packages (tests; no console scripts)."""

    def build(self, slot: Path, wheels: list[Path], disk: Disk) -> None:
        target = site_packages(slot)
        disk.mkdir(slot / "bin")
        disk.write(slot / "pyvenv.cfg",
                   f"include-system-site-packages = true\nversion = {PY[6:]}\n".encode())
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    dest = target / info.filename
                    disk.mkdir(dest.parent)
                    disk.write(dest, zf.read(info))


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def check_slot(slot: Path, wheel_names: list[str]) -> int:
    """Hash every installed file again against its wheel's RECORD; returns files checked.

    The RECORDs come from wheels whose sha256 the signed manifest fixed, so this ties
    every byte written into the slot back to the signature.
    """
    site = site_packages(slot)
    checked = 0
    for wheel in wheel_names:
        name, version = wheel.split("-")[:2]
        dist = site / f"{name}-{version}.dist-info"
        try:
            rows = list(csv.reader(io.StringIO((dist / "RECORD").read_text())))
        except OSError:
            raise UpdateError(f"{wheel} is not installed in the slot (no {dist.name}/RECORD); "
                              "the SD card may be failing") from None
        for row in rows:
            if len(row) < 2 or not row[1]:
                continue
            path = (site / row[0]).resolve()
            try:
                data = path.read_bytes()
            except OSError:
                raise UpdateError(f"{row[0]} is missing from the slot; the SD card may be "
                                  "failing") from None
            if _record_hash(data) != row[1]:
                raise UpdateError(f"{row[0]} does not match its hash after install; the SD "
                                  "card may be failing: try another card")
            checked += 1
    return checked
