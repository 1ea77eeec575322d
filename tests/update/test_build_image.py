"""tools/build-image on a small synthetic Raspberry Pi OS-like image (no root, no mounts)."""

from __future__ import annotations

import hashlib
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

from capstan.update import minisign

from .helpers import make_bundle

TOOL = Path(__file__).resolve().parents[2] / "tools" / "build-image"
MB = 1024 * 1024


def sh(*cmd: str, **kw: object) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout


def synthetic_base(tmp: Path) -> Path:
    """8 MB FAT boot + 16 MB ext4 root, like the official image's two partitions."""
    image = tmp / "base.img"
    with image.open("wb") as f:
        f.truncate(26 * MB)
    sh("sfdisk", "-q", str(image), input="label: dos\nstart=2048, size=16384, type=c\n"
                                         "start=18432, size=32768, type=83\n")
    fat, ext4 = tmp / "fat.img", tmp / "ext4.img"
    sh("mkfs.vfat", "-C", str(fat), str(8 * 1024))
    (tmp / "config.txt").write_text("# Raspberry Pi OS\ndtparam=audio=on\n[pi4]\narm_boost=1\n")
    sh("mcopy", "-i", str(fat), str(tmp / "config.txt"), "::config.txt")
    rootdir = tmp / "rootdir"
    for d in ("etc", "usr/bin", "var/lib", "opt"):
        (rootdir / d).mkdir(parents=True)
    (rootdir / "etc/os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    sh("mke2fs", "-q", "-t", "ext4", "-d", str(rootdir), str(ext4), "16M")
    with image.open("r+b") as f:
        f.seek(2048 * 512)
        f.write(fat.read_bytes())
        f.seek(18432 * 512)
        f.write(ext4.read_bytes())
    xz = tmp / "base.img.xz"
    xz.write_bytes(lzma.compress(image.read_bytes(), preset=0))
    return xz


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("image")
    key = minisign.generate()
    (tmp / "key.pub").write_text(key.public().to_text())
    (tmp / "capstan-0.3.0.capstan").write_bytes(make_bundle(key, "0.3.0"))
    (tmp / "debs").mkdir()
    (tmp / "debs/python3-smbus2_0.4.2-1_all.deb").write_bytes(b"!<arch>\nfake deb\n")
    base = synthetic_base(tmp)
    out = tmp / "out/capstan-0.3.0.img.xz"
    proc = subprocess.run([sys.executable, str(TOOL), "--base", str(base), "--bundle",
                           str(tmp / "capstan-0.3.0.capstan"), "--key", str(tmp / "key.pub"),
                           "--debs", str(tmp / "debs"), "--out", str(out), "--xz-level", "0"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    image = tmp / "result.img"
    image.write_bytes(lzma.decompress(out.read_bytes()))
    parts = json.loads(sh("sfdisk", "--json", str(image)))["partitiontable"]["partitions"]
    fat, ext4 = tmp / "result.fat", tmp / "result.ext4"
    for part, dest in zip(parts, (fat, ext4), strict=True):
        with image.open("rb") as f:
            f.seek(part["start"] * 512)
            dest.write_bytes(f.read(part["size"] * 512))
    return {"out": out, "fat": fat, "ext4": ext4, "key": tmp / "key.pub", "tmp": tmp}


def debugfs(ext4: Path, request: str) -> str:
    return sh("debugfs", "-R", request, str(ext4))


def test_both_filesystems_are_clean(built: dict[str, Path]) -> None:
    sh("fsck.vfat", "-n", str(built["fat"]))
    sh("e2fsck", "-fn", str(built["ext4"]))


def test_the_sha256_file_matches(built: dict[str, Path]) -> None:
    line = built["out"].with_name(built["out"].name + ".sha256").read_text()
    assert line == f"{hashlib.sha256(built['out'].read_bytes()).hexdigest()}  " \
                   f"{built['out'].name}\n"


def test_config_txt_keeps_its_lines_and_gains_ours(built: dict[str, Path]) -> None:
    text = sh("mtype", "-i", str(built["fat"]), "::config.txt")
    assert text.startswith("# Raspberry Pi OS\ndtparam=audio=on\n[pi4]\narm_boost=1\n")
    ours = text.split("# capstan: begin (tools/build-image)\n")[1]
    assert "[all]\ndtparam=i2c_arm=on\ndtparam=i2s=on\n" in ours


def test_slot_a_holds_the_bundle_and_is_current_and_good(built: dict[str, Path]) -> None:
    ext4 = built["ext4"]
    assert 'Fast link dest: "slots/a"' in debugfs(ext4, "stat /opt/capstan/current")
    assert 'Fast link dest: "slots/a"' in debugfs(ext4, "stat /opt/capstan/good")
    marker = debugfs(ext4, "cat /opt/capstan/slots/a/capstan-slot.toml")
    assert marker.startswith('version = "0.3.0"\n')
    cfg = debugfs(ext4, "cat /opt/capstan/slots/a/pyvenv.cfg")
    assert "include-system-site-packages = true" in cfg and "home = /usr/bin" in cfg
    init = debugfs(ext4, "cat /opt/capstan/slots/a/lib/python3.11/site-packages/capstan/"
                         "__init__.py")
    assert init == '__version__ = "0.3.0"\n'
    assert "Type: regular    Mode:  0644" in debugfs(
        ext4, "stat /opt/capstan/slots/a/lib/python3.11/site-packages/capstan/reel.py")
    assert "Mode:  0700" in debugfs(ext4, "stat /opt/capstan/update")
    pycache = debugfs(ext4, "ls /opt/capstan/slots/a/lib/python3.11/site-packages/capstan/"
                            "__pycache__")
    assert "reel.cpython-311.pyc" in pycache


def test_key_units_state_and_debs(built: dict[str, Path]) -> None:
    ext4 = built["ext4"]
    assert debugfs(ext4, "cat /etc/capstan/update.pub") == built["key"].read_text()
    assert 'compatible = "capstan,reference-v1"' in debugfs(ext4, "cat /etc/capstan/board.toml")
    unit = debugfs(ext4, "cat /etc/systemd/system/capstan-update.service")
    assert "capstan update boot" in unit
    wants = debugfs(ext4, "ls -l /etc/systemd/system/multi-user.target.wants")
    assert "capstan-update.service" in wants and "capstan-debs.service" in wants
    assert "Mode:  0750" in debugfs(ext4, "stat /var/lib/capstan")
    assert "python3-smbus2_0.4.2-1_all.deb" in debugfs(ext4, "ls /var/cache/capstan/debs")
    assert 'PRETTY_NAME="Debian' in debugfs(ext4, "cat /etc/os-release")  # base kept


def test_a_bundle_with_the_wrong_key_is_refused(built: dict[str, Path]) -> None:
    tmp = built["tmp"]
    other = minisign.generate()
    (tmp / "other.pub").write_text(other.public().to_text())
    proc = subprocess.run([sys.executable, str(TOOL), "--base", str(tmp / "base.img.xz"),
                           "--bundle", str(tmp / "capstan-0.3.0.capstan"), "--key",
                           str(tmp / "other.pub"), "--out", str(tmp / "no.img")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "this player trusts key" in proc.stderr
    assert not (tmp / "no.img").exists()
