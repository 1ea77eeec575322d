"""The bundle manifest (manifest.toml): what the bundle is for and what it carries.

    format = 1
    compatible = "capstan,reference-v1"   # hardware/board.toml [board].compatible
    version = "0.2.0"                      # MAJOR.MINOR.PATCH, compared as numbers
    [[payload]]
    path = "wheels/capstan-0.2.0-py3-none-any.whl"
    size = 41234
    sha256 = "…64 hex digits…"

Any bytes go in; a Manifest or a BundleRejected with one line comes out.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from capstan.update.archive import check_path
from capstan.update.errors import BundleRejected

FORMAT = 1
MAX_MANIFEST = 64 * 1024
MAX_PAYLOAD = 256
# The largest bundle a player takes (the whole .capstan file, and so its payload): it is
# checked in the manifest and against the file's size before anything is copied.
MAX_BUNDLE = 256 * 1024 * 1024
_VERSION = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def parse_version(text: str) -> tuple[int, int, int]:
    """'1.2.3' -> (1, 2, 3); anything else is a BundleRejected."""
    match = _VERSION.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise BundleRejected(f"manifest: version {str(text)[:40]!r} is not MAJOR.MINOR.PATCH")
    return (int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True)
class PayloadFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    compatible: str
    version: str
    payload: tuple[PayloadFile, ...]

    @property
    def version_key(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    @property
    def wheels(self) -> tuple[PayloadFile, ...]:
        return tuple(f for f in self.payload if f.path.endswith(".whl"))


def _field(table: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = table.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise BundleRejected(f"manifest: {where}{name} is missing or has the wrong type")
    return value


def parse_manifest(raw: bytes) -> Manifest:
    if len(raw) > MAX_MANIFEST:
        raise BundleRejected(f"manifest: larger than {MAX_MANIFEST} bytes")
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        raise BundleRejected("manifest: not valid UTF-8 TOML") from None
    known = {"format", "compatible", "version", "payload"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise BundleRejected(f"manifest: unknown key {unknown[0][:40]!r}")
    fmt = table.get("format")
    if fmt != FORMAT or isinstance(fmt, bool):
        raise BundleRejected(f"manifest: format {str(fmt)[:20]} is not {FORMAT}; this firmware "
                             "is too old for the bundle, or the bundle is not for Capstan")
    compatible = _field(table, "compatible", str, "")
    version = _field(table, "version", str, "")
    parse_version(version)
    entries = _field(table, "payload", list, "")
    if not 1 <= len(entries) <= MAX_PAYLOAD:
        raise BundleRejected(f"manifest: payload must list 1..{MAX_PAYLOAD} files")
    payload = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"payload[{i}]."
        if not isinstance(entry, dict) or set(entry) != {"path", "size", "sha256"}:
            raise BundleRejected(f"manifest: payload[{i}] must have exactly path, size, sha256")
        path = check_path(_field(entry, "path", str, where))
        size = _field(entry, "size", int, where)
        digest = _field(entry, "sha256", str, where)
        if size < 0 or not _SHA256.fullmatch(digest):
            raise BundleRejected(f"manifest: {where}size or sha256 is malformed")
        if path in seen:
            raise BundleRejected(f"manifest: {path!r} is listed twice")
        seen.add(path)
        payload.append(PayloadFile(path, size, digest))
    total = sum(f.size for f in payload)
    if total > MAX_BUNDLE:
        raise BundleRejected(f"manifest: the payload adds up to {total >> 20} MiB, more than "
                             f"the {MAX_BUNDLE >> 20} MiB a bundle may carry")
    if not any(f.path.endswith(".whl") for f in payload):
        raise BundleRejected("manifest: the payload has no wheel to install")
    return Manifest(compatible, version, tuple(payload))


def dump_manifest(manifest: Manifest) -> bytes:
    import tomli_w

    return tomli_w.dumps({
        "format": FORMAT, "compatible": manifest.compatible, "version": manifest.version,
        "payload": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                    for f in manifest.payload],
    }).encode()
