"""tools/build-image --from-debian: which archive and which packages the Debian root is
made of (the build itself and its boot are tests/image, tools/test's image tier)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "lib"))

import debian_image  # noqa: E402


def test_deb822_sources_give_the_bookworm_suites_with_non_free_firmware(tmp_path: Path) -> None:
    f = tmp_path / "debian.sources"
    f.write_text("Types: deb\nURIs: http://mirror.example/debian\n"
                 "Suites: bookworm bookworm-updates\nComponents: main\n"
                 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                 "Types: deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
                 "Components: main\n\n"
                 "Types: deb\nURIs: http://mirror.example/debian-security\n"
                 "Suites: bookworm-security\nComponents: main\n\n"
                 "Types: deb\nURIs: http://other.example/\nSuites: trixie\nComponents: main\n")
    assert debian_image.host_sources(f) == [
        "deb http://mirror.example/debian bookworm main non-free-firmware",
        "deb http://mirror.example/debian bookworm-updates main non-free-firmware",
        "deb http://mirror.example/debian-security bookworm-security main non-free-firmware"]


def test_one_line_sources(tmp_path: Path) -> None:
    f = tmp_path / "sources.list"
    f.write_text("# a comment\ndeb [arch=amd64] http://m.example/debian bookworm main\n"
                 "deb-src http://m.example/debian bookworm main\n"
                 "deb http://m.example/debian-security bookworm-security/updates main\n")
    assert debian_image.host_sources(f) == [
        "deb http://m.example/debian bookworm main non-free-firmware",
        "deb http://m.example/debian-security bookworm-security/updates main non-free-firmware"]


def test_sources_without_bookworm_are_refused_by_name(tmp_path: Path) -> None:
    f = tmp_path / "sources.list"
    f.write_text("deb http://m.example/debian trixie main\n")
    with pytest.raises(debian_image.DebianImageError, match=r"no bookworm suite .*--sources"):
        debian_image.host_sources(f)


def test_the_root_has_the_players_packages_and_debians_pi_boot_packages() -> None:
    names = debian_image.package_lists()
    for name in ("python3", "python3-numpy", "bluez-alsa-utils", "linux-image-arm64",
                 "raspi-firmware", "systemd-sysv", "python3-rpi.gpio"):
        assert name in names
    assert "python3-lgpio" not in names  # Raspberry Pi OS's archive only
    assert len(names) == len(set(names))


def test_the_cache_key_follows_packages_and_sources() -> None:
    a = debian_image.base_key(["python3"], ["deb http://a/debian bookworm main"])
    assert a == debian_image.base_key(["python3"], ["deb http://a/debian bookworm main"])
    assert a != debian_image.base_key(["python3", "bluez"], ["deb http://a/debian bookworm main"])
    assert a != debian_image.base_key(["python3"], ["deb http://b/debian bookworm main"])


def test_debs_are_for_base_only(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build-image"), "--from-debian",
                           "--bundle", "b", "--key", "k", "--debs", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "--debs is for --base" in proc.stderr
