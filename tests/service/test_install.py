"""tools/install into a tree (--root): user, groups, unit, config.txt; twice changes nothing."""

from __future__ import annotations

import configparser
import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_install(tree: Path) -> str:
    done = subprocess.run([str(ROOT / "tools" / "install"), "--root", str(tree), "--no-packages",
                           "--no-venv"], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def digest(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() and not p.is_symlink() else str(p.readlink() if p.is_symlink() else "")
            for p in sorted(tree.rglob("*")) if not p.name.endswith("-")}


def test_install_into_a_tree_is_complete_and_idempotent(tmp_path: Path) -> None:
    tree = tmp_path / "pi"
    (tree / "etc").mkdir(parents=True)
    for name in ("passwd", "shadow", "gshadow"):
        (tree / "etc" / name).write_text("")
    (tree / "etc" / "group").write_text("audio:x:29:pi\n")  # Pi OS has some groups already
    (tree / "boot" / "firmware").mkdir(parents=True)
    (tree / "boot" / "firmware" / "config.txt").write_text("arm_64bit=1\ndtoverlay=vc4-kms-v3d\n")
    (tree / "etc" / "capstan").mkdir()

    run_install(tree)
    passwd = (tree / "etc" / "passwd").read_text()
    assert "capstan:" in passwd and "/usr/sbin/nologin" in passwd
    groups = {line.split(":")[0]: line.split(":")[3]
              for line in (tree / "etc" / "group").read_text().splitlines()}
    for g in ("gpio", "i2c", "audio", "bluetooth"):
        assert "capstan" in groups[g].split(","), g
    assert groups["audio"].startswith("pi,")  # existing members kept
    unit = tree / "etc" / "systemd" / "system" / "capstan.service"
    assert unit.read_bytes() == (ROOT / "system" / "systemd" / "capstan.service").read_bytes()
    wants = unit.parent / "multi-user.target.wants" / "capstan.service"
    assert wants.readlink() == Path("/etc/systemd/system/capstan.service")
    etc = tree / "etc"
    assert (etc / "systemd/system/multi-user.target.wants/capstan-update.service").is_symlink()
    assert (etc / "capstan/board.toml").read_bytes() == (ROOT / "hardware/board.toml").read_bytes()
    for f in ("bluetooth/main.conf", "bluetooth/input.conf",
              "polkit-1/rules.d/50-capstan-poweroff.rules"):
        assert (etc / f).read_bytes() == (ROOT / "system/rootfs/etc" / f).read_bytes(), f
    config = (tree / "boot" / "firmware" / "config.txt").read_text()
    assert config.startswith("arm_64bit=1\ndtoverlay=vc4-kms-v3d\n")  # the user's lines kept
    for line in ("dtparam=i2c_arm=on", "dtparam=i2s=on", "dtoverlay=capstan-i2s"):
        assert config.count(line + "\n") == 1
    assert '[player]\nboard = "pi"' in (tree / "etc" / "capstan" / "capstan.toml").read_text()

    before = digest(tree)
    second = run_install(tree)
    assert digest(tree) == before
    assert "adding" not in second and "updating" not in second


def test_the_unit_asks_for_what_the_issue_asks() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read_string((ROOT / "system" / "systemd" / "capstan.service").read_text()
                     .replace("DeviceAllow", "DeviceAllow_"))  # repeated keys
    s = unit["Service"]
    assert s["Type"] == "notify" and int(s["WatchdogSec"]) > 0
    assert s["Restart"] == "on-failure" and s["User"] == "capstan"
    assert set(s["SupplementaryGroups"].split()) == {"gpio", "i2c", "audio", "bluetooth"}
    assert "safe-outputs" in s["ExecStopPost"]
    assert s["NoNewPrivileges"] == "yes" and s["ProtectSystem"] == "strict"
    assert s["RuntimeDirectory"] == "capstan" and s["StateDirectory"] == "capstan"
