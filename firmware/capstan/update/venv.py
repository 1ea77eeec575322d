"""Fill a slot: a virtual environment over the system's site-packages, from wheels only.

`VenvBuilder` is what the player uses: `python3 -m venv --system-site-packages
--without-pip`, then pip, run straight from the wheel Debian ships for `ensurepip`
(`/usr/share/python-wheels/pip-*.whl`, package python3-pip-whl, which python3-venv
depends on), installs the bundle's wheels into it with `--no-index --no-deps` (no
network, nothing from outside the bundle; the Debian packages of the image provide the
rest). No copy of pip goes into the slot (that would cost a Zero 2 W half a minute per
install), and Debian's python3-pip is not needed. `VenvBuilder.preflight` checks all of
that, and the free space, before the installer touches the slot.
`UnpackBuilder` lays the wheels out as pip would, but through the `Disk` layer, so the
power-cut harness can cut inside the slot's own writes; the same check (`check_slot`)
accepts both.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Protocol

from capstan.update.disk import Disk
from capstan.update.errors import UpdateError

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


WHEEL_DIR = Path("/usr/share/python-wheels")
# A slot takes its wheels (kept in slot/bundle), their unpacked files and bytecode: room
# for them, the bytecode counted as large as the files, plus the venv itself.
SPACE_MARGIN = 16 * 1024 * 1024


class SlotBuilder(Protocol):
    def preflight(self, slots_dir: Path, wheel_bytes: int, unpacked_bytes: int) -> None: ...

    def build(self, slot: Path, wheels: list[Path], disk: Disk) -> None: ...


def slot_space(wheel_bytes: int, unpacked_bytes: int) -> int:
    return wheel_bytes + 2 * unpacked_bytes + SPACE_MARGIN


def check_space(slots_dir: Path, need: int) -> None:
    """Refuses (UpdateError) when the filesystem of `slots_dir` has less than `need` free."""
    probe = slots_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need:
        raise UpdateError(f"not enough free space for the update in {slots_dir}: "
                          f"{free >> 20} MiB free, {need >> 20} MiB needed; the player is "
                          "unchanged")


def pip_wheel(wheel_dir: Path = WHEEL_DIR) -> Path:
    """The pip wheel Debian ships for ensurepip (python3-pip-whl), newest first."""
    found = sorted(wheel_dir.glob("pip-*-py3-none-any.whl"), reverse=True)
    for wheel in found:
        try:
            with zipfile.ZipFile(wheel) as zf:
                if "pip/__main__.py" in zf.namelist():
                    return wheel
        except (OSError, zipfile.BadZipFile):
            continue
    raise UpdateError(f"no pip wheel in {wheel_dir} to install updates with: install "
                      "Debian's python3-venv (it brings python3-pip-whl); the player is "
                      "unchanged")


def site_packages(slot: Path) -> Path:
    return slot / "lib" / PY / "site-packages"


class VenvBuilder:
    """The real thing; needs only the system's python3 and the bundle's wheels."""

    def __init__(self, python: str = "/usr/bin/python3", wheel_dir: Path = WHEEL_DIR) -> None:
        self.python = python
        self.wheel_dir = wheel_dir

    def preflight(self, slots_dir: Path, wheel_bytes: int, unpacked_bytes: int) -> None:
        """Everything the build needs, checked before the slot is touched."""
        probe = subprocess.run(
            [self.python, "-c", "import venv, sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False) if Path(self.python).exists() else None
        if probe is None or probe.returncode:
            raise UpdateError(f"{self.python} cannot make a virtual environment (install "
                              "Debian's python3 and python3-venv); the player is unchanged")
        if probe.stdout.strip() != PY[6:]:
            raise UpdateError(f"{self.python} is Python {probe.stdout.strip()}, the firmware "
                              f"runs on {PY[6:]}; the player is unchanged")
        pip_wheel(self.wheel_dir)
        check_space(slots_dir, slot_space(wheel_bytes, unpacked_bytes))

    def build(self, slot: Path, wheels: list[Path], disk: Disk) -> None:
        pip = pip_wheel(self.wheel_dir)
        self._run([self.python, "-m", "venv", "--system-site-packages", "--without-pip",
                   str(slot)])
        # The slot's own python runs pip from its wheel (a zip on sys.path): it installs
        # into the slot's environment, and nothing of pip stays behind.
        self._run([str(slot / "bin" / "python"), str(pip / "pip"), "install", "--quiet",
                   "--no-index", "--no-deps", "--no-cache-dir", "--ignore-installed",
                   "--disable-pip-version-check", "--no-warn-script-location",
                   *map(str, wheels)])

    @staticmethod
    def _run(cmd: list[str]) -> None:
        # Nothing of the caller's environment may point pip or python elsewhere: the slot
        # gets the bundle's wheels and sees only the system's site-packages.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise UpdateError(f"installing into the slot failed: {last[:200]}")


class UnpackBuilder:
    """Unzips the wheels into the slot's site-packages (tests; no console scripts)."""

    def preflight(self, slots_dir: Path, wheel_bytes: int, unpacked_bytes: int) -> None:
        check_space(slots_dir, slot_space(wheel_bytes, unpacked_bytes))

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
                    with zf.open(info) as member:
                        disk.write_stream(dest, iter(lambda m=member: m.read(1 << 20), b""))


def _file_hash(path: Path) -> str:
    """A file's hash in RECORD's form (sha256=urlsafe-base64), read a piece at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return "sha256=" + base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


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
                digest = _file_hash(path)
            except OSError:
                raise UpdateError(f"{row[0]} is missing from the slot; the SD card may be "
                                  "failing") from None
            if digest != row[1]:
                raise UpdateError(f"{row[0]} does not match its hash after install; the SD "
                                  "card may be failing: try another card")
            checked += 1
    return checked
