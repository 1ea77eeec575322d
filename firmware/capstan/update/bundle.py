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

import hashlib
from dataclasses import dataclass
from pathlib import Path

from capstan.update import archive, minisign
from capstan.update.errors import BundleRejected
from capstan.update.manifest import Manifest, parse_manifest, parse_version

MANIFEST = "manifest.toml"
SIGNATURE = "manifest.toml.minisig"
PAYLOAD_DIR = "payload/"
MAX_BUNDLE = 512 * 1024 * 1024
# The untrusted comment is outside minisign's signature; fixing it makes a changed byte
# there a rejection too (tools/make-bundle writes it, also when the minisign tool signs).
SIGNATURE_COMMENT = "signature from capstan make-bundle"


@dataclass(frozen=True)
class VerifiedBundle:
    manifest: Manifest
    manifest_sha256: str  # the bundle's identity: what "never re-apply" remembers
    trusted_comment: str
    files: dict[str, bytes]  # payload path -> content, each checked against the manifest


def read_bundle_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE:
            raise BundleRejected(f"{path.name}: larger than {MAX_BUNDLE >> 20} MiB; not a bundle")
        return path.read_bytes()
    except OSError as exc:
        raise BundleRejected(f"{path}: cannot be read ({exc.strerror}); copy it again") from None


def open_bundle(blob: bytes, key: minisign.PublicKey) -> VerifiedBundle:
    """Check everything that does not depend on the player; raises BundleRejected."""
    entries = archive.unpack(blob)
    if len(entries) < 3 or entries[0].name != MANIFEST or entries[1].name != SIGNATURE:
        raise BundleRejected("not a Capstan bundle: it must start with manifest.toml and its "
                             "signature, then the payload (make it with tools/make-bundle)")
    manifest_bytes = entries[0].data
    if not entries[1].data.startswith(f"{minisign.UNTRUSTED}{SIGNATURE_COMMENT}\n".encode()):
        raise BundleRejected("the first line of the signature is damaged: copy the bundle onto "
                             "the card again (or make it with tools/make-bundle)")
    trusted = minisign.verify(manifest_bytes, entries[1].data, key)
    manifest = parse_manifest(manifest_bytes)
    payload = entries[2:]
    names = [e.name for e in payload]
    wanted = [PAYLOAD_DIR + f.path for f in manifest.payload]
    if names != wanted:
        extra = sorted(set(names) - set(wanted))
        missing = sorted(set(wanted) - set(names))
        what = (f"unlisted file {extra[0]!r}" if extra else
                f"missing file {missing[0]!r}" if missing else "files in the wrong order")
        raise BundleRejected(f"the payload does not match the manifest ({what}); the bundle "
                             "is damaged or was not made by tools/make-bundle")
    files = {}
    for spec, entry in zip(manifest.payload, payload, strict=True):
        if len(entry.data) != spec.size:
            raise BundleRejected(f"payload file {spec.path!r} has {len(entry.data)} bytes, the "
                                 f"manifest says {spec.size}; the bundle is damaged")
        if hashlib.sha256(entry.data).hexdigest() != spec.sha256:
            raise BundleRejected(f"payload file {spec.path!r} does not match its sha256 in the "
                                 "manifest; the bundle is damaged, download it again")
        files[spec.path] = entry.data
    return VerifiedBundle(manifest, hashlib.sha256(manifest_bytes).hexdigest(), trusted, files)


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
