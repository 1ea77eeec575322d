"""Build keys, wheels, bundles and player roots for the update tests (no network)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from capstan.update import minisign, pack
from capstan.update.disk import Disk
from capstan.update.install import install
from capstan.update.slots import Layout
from capstan.update.trial import confirm_healthy, settle
from capstan.update.venv import UnpackBuilder

COMPATIBLE = "capstan,reference-v1"


def make_wheel(version: str, name: str = "capstan", extra: dict[str, bytes] | None = None,
               ) -> tuple[str, bytes]:
    """A small, valid pure-Python wheel: (file name, bytes)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{name}/reel.py": b"def turns(length, radius):\n    return length / radius\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: capstan-tests\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        **(extra or {}),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}/RECORD,,")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, (2024, 1, 1, 0, 0, 0)), data)
        zf.writestr(zipfile.ZipInfo(f"{dist}/RECORD", (2024, 1, 1, 0, 0, 0)),
                    "\n".join(record) + "\n")
    return f"{name}-{version}-py3-none-any.whl", buf.getvalue()


def make_bundle(key: minisign.SecretKey, version: str, compatible: str = COMPATIBLE,
                files: dict[str, bytes] | None = None) -> bytes:
    if files is None:
        name, data = make_wheel(version)
        files = {f"wheels/{name}": data}
    return pack.make_bundle(compatible, version, files, pack.key_signer(key))


def new_root(tmp: Path, key: minisign.SecretKey) -> Layout:
    layout = Layout(tmp)
    layout.key.parent.mkdir(parents=True)
    layout.key.write_text(key.public().to_text())
    layout.boot.mkdir(parents=True)
    return layout


def seeded_root(tmp: Path, key: minisign.SecretKey, version: str = "0.1.0") -> Layout:
    """A player as the SD image leaves it: `version` in slot a, current = good = a."""
    layout = new_root(tmp, key)
    card = tmp / "seed.capstan"
    card.write_bytes(make_bundle(key, version))
    install(card, layout, key=key.public(), compatible=COMPATIBLE, builder=UnpackBuilder())
    settle(layout, "seed-boot", 0.0)
    assert confirm_healthy(tmp)
    layout.result.unlink()
    card.unlink()
    return layout


def put_on_card(layout: Layout, blob: bytes, version: str) -> Path:
    path = layout.boot / pack.bundle_name(version)
    path.write_bytes(blob)
    return path


def tree_digest(top: Path) -> str:
    """A digest of every name and byte under `top` (to show a slot was not touched)."""
    h = hashlib.sha256()
    for path in sorted(top.rglob("*")):
        h.update(str(path.relative_to(top)).encode())
        if path.is_file() and not path.is_symlink():
            h.update(path.read_bytes())
    return h.hexdigest()


class CountingDisk(Disk):
    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[str] = []

    def step(self, kind: str, path: Path) -> None:
        super().step(kind, path)
        self.kinds.append(kind)


def write_big_wheel(path: Path, version: str, size: int) -> Path:
    """A valid capstan wheel of about `size` bytes (stored, not deflated), written a MiB
    at a time: for bundles near the size cap without holding them in memory."""
    import os

    dist = f"capstan-{version}.dist-info"
    block = os.urandom(1 << 20)
    small = {
        "capstan/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: capstan\nVersion: {version}\n"
                            .encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in small.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")
        h, left = hashlib.sha256(), size - 4096
        with zf.open(zipfile.ZipInfo("capstan/tape.bin", (2024, 1, 1, 0, 0, 0)), "w",
                     force_zip64=True) as member:
            while left > 0:
                piece = block[:min(left, len(block))]
                member.write(piece)
                h.update(piece)
                left -= len(piece)
        digest = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
        record.append(f"capstan/tape.bin,sha256={digest},{size - 4096}")
        record.append(f"{dist}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist}/RECORD", (2024, 1, 1, 0, 0, 0)),
                    "\n".join(record) + "\n")
    return path


def write_big_bundle(out: Path, key: minisign.SecretKey, version: str, size: int) -> Path:
    """A signed bundle of about `size` bytes, written a piece at a time."""
    wheel = write_big_wheel(out.with_name(f"capstan-{version}-py3-none-any.whl"), version, size)
    try:
        return pack.make_bundle_file(out, COMPATIBLE, version, {f"wheels/{wheel.name}": wheel},
                                     pack.key_signer(key))
    finally:
        wheel.unlink()
