"""Build a `.capstan` bundle (tools/make-bundle is the command around this)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from capstan.update import archive, minisign
from capstan.update.bundle import MANIFEST, PAYLOAD_DIR, SIGNATURE
from capstan.update.manifest import Manifest, PayloadFile, dump_manifest, parse_version

Signer = Callable[[bytes, str], str]  # (manifest bytes, trusted comment) -> .minisig text


def key_signer(key: minisign.SecretKey) -> Signer:
    return lambda message, comment: minisign.sign(message, key, comment)


def build_manifest(compatible: str, version: str, files: dict[str, bytes]) -> Manifest:
    parse_version(version)
    return Manifest(compatible, version, tuple(
        PayloadFile(path, len(data), hashlib.sha256(data).hexdigest())
        for path, data in files.items()))


def assemble(manifest_bytes: bytes, signature: str, files: dict[str, bytes],
             check: bool = True) -> bytes:
    """Put the parts together as they are (tests use this to make bad bundles too)."""
    entries = [archive.Entry(MANIFEST, manifest_bytes),
               archive.Entry(SIGNATURE, signature.encode())]
    entries += [archive.Entry(PAYLOAD_DIR + path, data) for path, data in files.items()]
    return archive.pack(entries, check)


def make_bundle(compatible: str, version: str, files: dict[str, bytes], sign: Signer) -> bytes:
    manifest = build_manifest(compatible, version, files)
    manifest_bytes = dump_manifest(manifest)
    comment = f"capstan {version} for {compatible}"
    return assemble(manifest_bytes, sign(manifest_bytes, comment), files)


def bundle_name(version: str) -> str:
    return f"capstan-{version}.capstan"


def write_bundle(out_dir: Path, version: str, blob: bytes, detached: Signer | None) -> Path:
    """Write the bundle, and a detached .minisig of the whole file for download pages."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / bundle_name(version)
    path.write_bytes(blob)
    if detached:
        sig_path = path.with_name(path.name + ".minisig")
        sig_path.write_text(detached(blob, f"file:{path.name}"))
    return path
