"""Every wheel of a verified bundle is checked before the inactive slot is touched.

The signature proves who made the bundle, not that what it carries installs: a wheel
that pip would reject, two wheels of one name, or a bundle without the firmware would
otherwise be found only after the slot was emptied. Checked here, in place inside the
bundle (zipfile reads through a window, a piece at a time):

- the file name is a wheel name (PEP 427) of a pure-Python wheel (`…-none-any.whl`);
- no two wheels share a file name or a project name;
- the zip is whole (every member's CRC), its names are plain relative paths, each once;
- its `NAME-VERSION.dist-info` has WHEEL (version 1), METADATA (the same name and
  version) and RECORD, and RECORD lists every member with a matching sha256;
- exactly one wheel is the firmware: project `capstan`, with the `capstan` package, of
  the bundle's version.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import PurePosixPath

from capstan.update import archive
from capstan.update.bundle import VerifiedBundle
from capstan.update.errors import BundleRejected

FIRMWARE = "capstan"
MAX_MEMBERS = 20000
MAX_UNPACKED = 1 << 30  # what one bundle's wheels may unpack to
MAX_META = 1 << 20  # WHEEL, METADATA, RECORD
_NAME = re.compile(r"([A-Za-z0-9_.]+)-([A-Za-z0-9_.!+]+)(-[0-9][A-Za-z0-9_.]*)?"
                   r"-([A-Za-z0-9_.]+)-([A-Za-z0-9_.]+)-([A-Za-z0-9_.]+)\.whl")


@dataclass(frozen=True)
class WheelInfo:
    file_name: str
    project: str  # normalized (PEP 503)
    version: str
    unpacked: int  # bytes once installed


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _refuse(wheel: str, why: str) -> BundleRejected:
    return BundleRejected(f"wheel {wheel[:80]!r} {why}; the bundle is not installed and the "
                          "player is unchanged")


def _record_hash(digest: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_wheels(bundle: VerifiedBundle) -> list[WheelInfo]:
    """Check every wheel of the bundle; raises BundleRejected naming the wheel."""
    infos: list[WheelInfo] = []
    names: set[str] = set()
    projects: dict[str, str] = {}
    with bundle.opened() as f:
        for spec in bundle.manifest.wheels:
            file_name = PurePosixPath(spec.path).name
            if file_name in names:
                raise _refuse(file_name, "is in the bundle twice (two wheels of one file name)")
            names.add(file_name)
            info = _check_one(file_name, archive.Window(f, bundle.members[spec.path]))
            if info.project in projects:
                raise _refuse(file_name, f"is a second wheel of {info.project!r} (with "
                                         f"{projects[info.project]!r})")
            projects[info.project] = file_name
            infos.append(info)
    firmware = [i for i in infos if i.project == FIRMWARE]
    if not firmware:
        raise BundleRejected("the bundle carries no wheel of the capstan firmware (only "
                             + ", ".join(repr(i.file_name) for i in infos)[:200]
                             + "); the bundle is not installed and the player is unchanged")
    if firmware[0].version != bundle.manifest.version:
        raise _refuse(firmware[0].file_name, f"is capstan {firmware[0].version}, the manifest "
                                             f"says {bundle.manifest.version}")
    if sum(i.unpacked for i in infos) > MAX_UNPACKED:
        raise BundleRejected(f"the bundle's wheels unpack to more than {MAX_UNPACKED >> 20} "
                             "MiB; the bundle is not installed and the player is unchanged")
    return infos


def _check_one(file_name: str, window: archive.Window) -> WheelInfo:
    match = _NAME.fullmatch(file_name)
    if not match:
        raise _refuse(file_name, "is not a wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl)")
    name, version, _build, _py, abi, platform = match.groups()
    if (abi, platform) != ("none", "any"):
        raise _refuse(file_name, "is not a pure-Python wheel (only …-none-any.whl can go in "
                                 "a bundle)")
    try:
        with zipfile.ZipFile(io.BufferedReader(window, 1 << 16)) as zf:
            return _check_zip(file_name, name, version, zf)
    except (BundleRejected, MemoryError):
        raise
    except Exception as exc:  # a hostile zip may make zipfile or zlib raise anything
        raise _refuse(file_name, f"is not a valid zip ({str(exc)[:80] or type(exc).__name__})"
                      ) from None


def _check_zip(file_name: str, name: str, version: str, zf: zipfile.ZipFile) -> WheelInfo:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(file_name, f"has more than {MAX_MEMBERS} files")
    seen: set[str] = set()
    for info in infos:
        path = info.filename
        parts = path.rstrip("/").split("/")
        if (not path or path.startswith("/") or "\\" in path or "\0" in path
                or any(p in ("", ".", "..") for p in parts)):
            raise _refuse(file_name, f"has an unsafe path {path[:80]!r}")
        if path in seen:
            raise _refuse(file_name, f"has {path[:80]!r} twice")
        seen.add(path)
    dist = f"{name}-{version}.dist-info"
    for needed in ("WHEEL", "METADATA", "RECORD"):
        if f"{dist}/{needed}" not in seen:
            raise _refuse(file_name, f"has no {dist}/{needed}")
    wheel_meta = HeaderParser().parsestr(_read_small(zf, f"{dist}/WHEEL", file_name))
    if not str(wheel_meta.get("Wheel-Version", "")).startswith("1."):
        raise _refuse(file_name, "is not of Wheel-Version 1.x")
    meta = HeaderParser().parsestr(_read_small(zf, f"{dist}/METADATA", file_name))
    if normalize(str(meta.get("Name", ""))) != normalize(name) or \
            str(meta.get("Version", "")) != version:
        raise _refuse(file_name, f"has METADATA for {meta.get('Name')!s:.40} "
                                 f"{meta.get('Version')!s:.20}, not {name} {version}")
    record = _read_small(zf, f"{dist}/RECORD", file_name)
    hashes: dict[str, str] = {}
    for row in csv.reader(io.StringIO(record)):
        if row:
            hashes[row[0]] = row[1] if len(row) > 1 else ""
    unsigned = {f"{dist}/RECORD", f"{dist}/RECORD.jws", f"{dist}/RECORD.p7s"}
    unpacked = 0
    for info in infos:
        if info.is_dir() or info.filename in unsigned:
            continue
        want = hashes.get(info.filename)
        if not want:
            raise _refuse(file_name, f"has {info.filename[:80]!r}, which its RECORD does not "
                                     "list with a hash")
        digest = hashlib.sha256()
        with zf.open(info) as member:
            while piece := member.read(1 << 20):
                digest.update(piece)
        if _record_hash(digest.digest()) != want:
            raise _refuse(file_name, f"has {info.filename[:80]!r}, which does not match its "
                                     "RECORD hash")
        unpacked += info.file_size
    missing = sorted(p for p in hashes if p not in seen and p not in unsigned)
    if missing:
        raise _refuse(file_name, f"lists {missing[0][:80]!r} in RECORD but does not carry it")
    if normalize(name) == FIRMWARE and f"{FIRMWARE}/__init__.py" not in seen:
        raise _refuse(file_name, "has no capstan package (capstan/__init__.py)")
    return WheelInfo(file_name, normalize(name), version, unpacked)


def _read_small(zf: zipfile.ZipFile, path: str, file_name: str) -> str:
    info = zf.getinfo(path)
    if info.file_size > MAX_META:
        raise _refuse(file_name, f"has a {path.rsplit('/', 1)[-1]} larger than 1 MiB")
    with zf.open(info) as member:
        data = member.read(MAX_META + 1)
    try:
        return data[:MAX_META].decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(file_name, f"has a {path.rsplit('/', 1)[-1]} that is not UTF-8") from None
