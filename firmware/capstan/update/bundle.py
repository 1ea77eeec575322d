"""Read and check a `.capstan` bundle: archive, signature, manifest, payload hashes.

Layout (a canonical ustar archive, see `archive`):

    manifest.toml            what the bundle is for and the sha256 of every payload file
    manifest.toml.minisig    minisign signature of manifest.toml
    payload/<path>           each payload file, in manifest order

The signature covers the manifest, the manifest covers every payload byte, and the
archive reader rejects any byte it does not expect, so nothing in a bundle is trusted
before it is checked. `minisign -Vm manifest.toml -p key.pub` checks the same signature
after `tar xf`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from capstan.update import archive, minisign
from capstan.update.errors import BundleRejected
from capstan.update.manifest import (
    MAX_BUNDLE,
    MAX_MANIFEST,
    Manifest,
    parse_manifest,
    parse_version,
)

MANIFEST = "manifest.toml"
SIGNATURE = "manifest.toml.minisig"
PAYLOAD_DIR = "payload/"
MAX_SIGNATURE = 4096
# The file may exceed its payload by the archive's own blocks, the manifest and signature.
MAX_FILE = MAX_BUNDLE + (1 << 20)
CHUNK = 1 << 20  # what is read at a time: the memory a check needs does not grow with it
# The untrusted comment is outside minisign's signature; fixing it makes a changed byte
# there a rejection too (tools/make-bundle writes it, also when the minisign tool signs).
SIGNATURE_COMMENT = "signature from capstan make-bundle"

Source = Path | bytes  # a bundle file, or (tests, fuzzing) its bytes


@dataclass(frozen=True)
class VerifiedBundle:
    manifest: Manifest
    manifest_sha256: str  # the bundle's identity: what "never re-apply" remembers
    trusted_comment: str
    source: Source  # where the checked bytes are
    members: dict[str, archive.Member]  # payload path -> its place in the source

    @contextlib.contextmanager
    def opened(self) -> Iterator[BinaryIO]:
        with _open(self.source) as (f, _total):
            yield f

    def chunks(self, path: str) -> Iterator[bytes]:
        """A payload file's bytes, a piece at a time (re-read from the source)."""
        with self.opened() as f:
            yield from archive.chunks(f, self.members[path], CHUNK)

    def read(self, path: str) -> bytes:
        """A payload file whole (small files, tests)."""
        return b"".join(self.chunks(path))


def bundle_size(path: Path) -> int:
    """The size of a bundle file; refuses one over the cap before anything reads it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleRejected(f"{path}: cannot be read ({exc.strerror}); copy it again") from None
    if size > MAX_FILE:
        raise BundleRejected(f"{path.name}: {size >> 20} MiB, larger than the "
                             f"{MAX_BUNDLE >> 20} MiB a bundle may be; not a bundle for "
                             "this player")
    return size


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read a piece at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(CHUNK):
            digest.update(piece)
    return digest.hexdigest()


@contextlib.contextmanager
def _open(source: Source) -> Iterator[tuple[BinaryIO, int]]:
    if isinstance(source, bytes | bytearray):
        yield io.BytesIO(source), len(source)
        return
    bundle_size(source)
    try:
        f = source.open("rb")
    except OSError as exc:
        raise BundleRejected(f"{source}: cannot be read ({exc.strerror}); copy it "
                             "again") from None
    with f:
        yield f, os.fstat(f.fileno()).st_size


def _small(f: BinaryIO, member: archive.Member, limit: int, what: str) -> bytes:
    if member.size > limit:
        raise BundleRejected(f"{what}: larger than {limit} bytes; the bundle is damaged or "
                             "was not made by tools/make-bundle")
    return b"".join(archive.chunks(f, member))


def open_bundle(source: Source, key: minisign.PublicKey) -> VerifiedBundle:
    """Check everything that does not depend on the player; raises BundleRejected.

    The archive is read a piece at a time: the memory needed is the same for a bundle of
    1 KiB or of MAX_BUNDLE.
    """
    try:
        with _open(source) as (f, total):
            return _check(source, f, total, key)
    except OSError as exc:
        raise BundleRejected(f"the bundle cannot be read ({exc.strerror or exc}); copy it "
                             "again") from None


def _check(source: Source, f: BinaryIO, total: int, key: minisign.PublicKey) -> VerifiedBundle:
    members = archive.index(f, total)
    if len(members) < 3 or members[0].name != MANIFEST or members[1].name != SIGNATURE:
        raise BundleRejected("not a Capstan bundle: it must start with manifest.toml and its "
                             "signature, then the payload (make it with tools/make-bundle)")
    manifest_bytes = _small(f, members[0], MAX_MANIFEST, "manifest")
    signature = _small(f, members[1], MAX_SIGNATURE, "the signature")
    if not signature.startswith(f"{minisign.UNTRUSTED}{SIGNATURE_COMMENT}\n".encode()):
        raise BundleRejected("the first line of the signature is damaged: copy the bundle onto "
                             "the card again (or make it with tools/make-bundle)")
    trusted = minisign.verify(manifest_bytes, signature, key)
    manifest = parse_manifest(manifest_bytes)
    payload = members[2:]
    names = [m.name for m in payload]
    wanted = [PAYLOAD_DIR + f.path for f in manifest.payload]
    if names != wanted:
        extra = sorted(set(names) - set(wanted))
        missing = sorted(set(wanted) - set(names))
        what = (f"unlisted file {extra[0]!r}" if extra else
                f"missing file {missing[0]!r}" if missing else "files in the wrong order")
        raise BundleRejected(f"the payload does not match the manifest ({what}); the bundle "
                             "is damaged or was not made by tools/make-bundle")
    places = {}
    for spec, member in zip(manifest.payload, payload, strict=True):
        if member.size != spec.size:
            raise BundleRejected(f"payload file {spec.path!r} has {member.size} bytes, the "
                                 f"manifest says {spec.size}; the bundle is damaged")
        digest = hashlib.sha256()
        for piece in archive.chunks(f, member, CHUNK):
            digest.update(piece)
        if digest.hexdigest() != spec.sha256:
            raise BundleRejected(f"payload file {spec.path!r} does not match its sha256 in the "
                                 "manifest; the bundle is damaged, download it again")
        places[spec.path] = member
    return VerifiedBundle(manifest, hashlib.sha256(manifest_bytes).hexdigest(), trusted,
                          source, places)


def check_fits_player(bundle: VerifiedBundle, compatible: str,
                      installed_version: str | None) -> None:
    """The bundle is for this board and strictly newer than what is installed."""
    manifest = bundle.manifest
    if manifest.compatible != compatible:
        raise BundleRejected(f"the bundle is for {manifest.compatible[:60]!r}, this player is "
                             f"{compatible!r}; use the bundle made for this board")
    if installed_version is not None and \
            manifest.version_key <= parse_version(installed_version):
        raise BundleRejected(f"version {manifest.version} is not newer than the installed "
                             f"{installed_version}; downgrades are refused (flash an SD image "
                             "to go back)")
