"""Build a `.capstan` bundle (tools/make-bundle is the command around this)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from capstan.errors import CapstanError
from capstan.update import archive, minisign
from capstan.update.bundle import MANIFEST, PAYLOAD_DIR, SIGNATURE
from capstan.update.manifest import Manifest, PayloadFile, dump_manifest, parse_version

Signer = Callable[[bytes, str], str]  # (manifest bytes, trusted comment) -> .minisig text


# what the firmware's wheel is built from (setup.cfg reads README.md as its description)
WHEEL_SOURCES = ("firmware", "setup.cfg", "pyproject.toml", "README.md")


def build_firmware_wheel(checkout: Path, out: Path, timeout: float = 600.0) -> Path:
    """The firmware's wheel, built offline (pip, no network) from a clean copy of the
    checkout's sources: built in place, setuptools would pack what an earlier build left
    in `build/`, modules since renamed or deleted among them."""
    with tempfile.TemporaryDirectory(prefix="capstan-wheel-") as tmp:
        src = Path(tmp)
        for name in WHEEL_SOURCES:
            if (Path(checkout) / name).is_dir():
                shutil.copytree(Path(checkout) / name, src / name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.egg-info", "*.pyc"))
            else:
                shutil.copy(Path(checkout) / name, src / name)
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--no-index", "-w", str(out), str(src)],
                       check=True, timeout=timeout)
    wheels = sorted(out.glob("capstan-*.whl"))
    if not wheels:
        raise CapstanError("pip wheel made no capstan wheel")
    return wheels[-1]


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


def make_bundle_file(out: Path, compatible: str, version: str, files: dict[str, Path],
                     sign: Signer) -> Path:
    """The same bundle as make_bundle, written a piece at a time from files on disk."""
    parse_version(version)
    specs = []
    for path, src in files.items():
        digest, size = hashlib.sha256(), 0
        with src.open("rb") as f:
            while piece := f.read(1 << 20):
                digest.update(piece)
                size += len(piece)
        specs.append(PayloadFile(path, size, digest.hexdigest()))
    manifest_bytes = dump_manifest(Manifest(compatible, version, tuple(specs)))
    signature = sign(manifest_bytes, f"capstan {version} for {compatible}").encode()
    with out.open("wb") as dst:
        for name, data in ((MANIFEST, manifest_bytes), (SIGNATURE, signature)):
            dst.write(archive.header(name, len(data)) + data + bytes(-len(data) % archive.BLOCK))
        for spec, src in zip(specs, files.values(), strict=True):
            archive.check_path(PAYLOAD_DIR + spec.path)
            dst.write(archive.header(PAYLOAD_DIR + spec.path, spec.size))
            with src.open("rb") as f:
                while piece := f.read(1 << 20):
                    dst.write(piece)
            dst.write(bytes(-spec.size % archive.BLOCK))
        dst.write(bytes(2 * archive.BLOCK))
    return out


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
