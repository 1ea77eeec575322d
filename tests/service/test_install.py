"""tools/install into a tree (--root): user, groups, units, config.txt, the configuration,
`capstan` on PATH, BlueZ's files diverted; twice changes nothing; --remove undoes it."""

from __future__ import annotations

import configparser
import hashlib
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from capstan.update.pack import build_firmware_wheel

ROOT = Path(__file__).resolve().parents[2]
DISTRO_MAIN = b"# BlueZ's main.conf as the distribution ships it\n[General]\n#Name = BlueZ\n"
DISTRO_INPUT = b"# BlueZ's input.conf as the distribution ships it\n[General]\n#IdleTimeout=0\n"


def run_install(tree: Path, *extra: str) -> str:
    done = subprocess.run([str(ROOT / "tools" / "install"), "--root", str(tree), "--no-packages",
                           "--no-venv", *extra], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def digest(tree: Path) -> dict[str, str]:
    return {str(p.relative_to(tree)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() and not p.is_symlink() else str(p.readlink() if p.is_symlink() else "")
            for p in sorted(tree.rglob("*")) if not p.name.endswith(("-", "-old"))}


def files(tree: Path) -> dict[str, str]:
    """Files and links only (directories left empty do not count)."""
    return {k: v for k, v in digest(tree).items()
            if (tree / k).is_symlink() or (tree / k).is_file()}


def pi_os(tmp_path: Path) -> Path:
    """A tree standing for a fresh Raspberry Pi OS Lite: its users, dpkg's database,
    bluez's own configuration files, config.txt."""
    tree = tmp_path / "pi"
    (tree / "etc").mkdir(parents=True)
    for name in ("passwd", "shadow", "gshadow"):
        (tree / "etc" / name).write_text("")
    (tree / "etc" / "group").write_text("audio:x:29:pi\n")  # Pi OS has some groups already
    (tree / "var" / "lib" / "dpkg").mkdir(parents=True)
    for name in ("status", "diversions"):
        (tree / "var" / "lib" / "dpkg" / name).write_text("")
    (tree / "etc" / "bluetooth").mkdir()
    (tree / "etc" / "bluetooth" / "main.conf").write_bytes(DISTRO_MAIN)
    (tree / "etc" / "bluetooth" / "input.conf").write_bytes(DISTRO_INPUT)
    (tree / "boot" / "firmware").mkdir(parents=True)
    (tree / "boot" / "firmware" / "config.txt").write_text("arm_64bit=1\ndtoverlay=vc4-kms-v3d\n")
    return tree


def diversions(tree: Path) -> list[str]:
    return subprocess.run(["dpkg-divert", "--root", str(tree), "--list"], capture_output=True,
                          text=True, check=True).stdout.splitlines()


def test_install_into_a_tree_is_complete_and_idempotent(tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
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
    assert (etc / "systemd/system/multi-user.target.wants/capstan-usb.service").is_symlink()
    assert (etc / "capstan/board.toml").read_bytes() == (ROOT / "hardware/board.toml").read_bytes()
    for f in ("bluetooth/main.conf", "bluetooth/input.conf",
              "polkit-1/rules.d/50-capstan-poweroff.rules"):
        assert (etc / f).read_bytes() == (ROOT / "system/rootfs/etc" / f).read_bytes(), f
    # the distribution's files are kept, diverted, so that a bluez upgrade asks nothing
    assert (etc / "bluetooth/main.conf.distrib").read_bytes() == DISTRO_MAIN
    assert (etc / "bluetooth/input.conf.distrib").read_bytes() == DISTRO_INPUT
    assert sorted(diversions(tree)) == [
        f"diversion of /etc/bluetooth/{n}.conf to /etc/bluetooth/{n}.conf.distrib by capstan"
        for n in ("input", "main")]
    config = (tree / "boot" / "firmware" / "config.txt").read_text()
    assert config.startswith("arm_64bit=1\ndtoverlay=vc4-kms-v3d\n")  # the user's lines kept
    for line in ("dtparam=i2c_arm=on", "dtparam=i2s=on", "dtoverlay=capstan-i2s"):
        assert config.count(line + "\n") == 1
    shipped = (ROOT / "system/capstan.toml").read_bytes()
    assert (etc / "capstan/capstan.toml").read_bytes() == shipped
    link = tree / "usr" / "local" / "bin" / "capstan"
    assert link.readlink() == Path("../../../opt/capstan/current/bin/capstan")

    before = digest(tree)
    second = run_install(tree)
    assert digest(tree) == before
    assert "adding" not in second and "updating" not in second and "keeping" not in second


def test_twice_then_remove_leaves_the_distribution_as_it_was(tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
    fresh = files(tree)
    run_install(tree)
    run_install(tree)
    said = run_install(tree, "--remove")
    after = files(tree)
    # what stays, on purpose: the builder's configuration and the user the files belong to
    kept = {"etc/capstan/capstan.toml"}
    users = {"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"}
    assert set(after) == set(fresh) | kept
    assert {k for k in fresh if fresh[k] != after[k]} <= users
    assert (tree / "etc/bluetooth/main.conf").read_bytes() == DISTRO_MAIN
    assert (tree / "etc/bluetooth/input.conf").read_bytes() == DISTRO_INPUT
    assert diversions(tree) == []
    assert (tree / "boot/firmware/config.txt").read_text() == "arm_64bit=1\ndtoverlay=vc4-kms-v3d\n"
    assert "Kept: /etc/capstan/capstan.toml" in said.splitlines()[-1]
    run_install(tree)  # and it installs again after a removal
    assert (tree / "etc/bluetooth/main.conf.distrib").read_bytes() == DISTRO_MAIN


def test_an_earlier_install_that_overwrote_main_conf_is_not_kept_as_the_original(
        tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
    shutil.copy(ROOT / "system/rootfs/etc/bluetooth/main.conf", tree / "etc/bluetooth/main.conf")
    said = run_install(tree)
    assert "replaced by an earlier install" in said and "--force-confmiss bluez" in said
    assert not (tree / "etc/bluetooth/main.conf.distrib").exists()
    assert (tree / "etc/bluetooth/input.conf.distrib").read_bytes() == DISTRO_INPUT


def test_a_tree_without_dpkg_is_refused(tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
    shutil.rmtree(tree / "var")
    done = subprocess.run([str(ROOT / "tools" / "install"), "--root", str(tree), "--no-packages",
                           "--no-venv"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no dpkg database" in done.stderr
    assert (tree / "etc/bluetooth/main.conf").read_bytes() == DISTRO_MAIN  # nothing touched


def make_slot(tree: Path, work: Path) -> Path:
    """Slot a as tools/install builds it: a venv over Debian's python3 with the firmware's
    wheel installed (built offline from this checkout); its dependencies are taken from the
    environment running the tests (a .pth), since the tests run without a network."""
    build_firmware_wheel(ROOT, work / "wheel", timeout=300)
    pip = [sys.executable, "-m", "pip"]
    slot = tree / "opt" / "capstan" / "slots" / "a"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(slot)], check=True,
                   timeout=120)
    subprocess.run([*pip, "--python", str(slot / "bin" / "python"), "install", "-q", "--no-deps",
                    "--no-index", *map(str, (work / "wheel").glob("capstan-*.whl"))],
                   check=True, timeout=300)
    site = next(slot.glob("lib/python3*/site-packages"))
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(paths)) + "\n")
    (tree / "opt/capstan/current").symlink_to("slots/a")
    (tree / "opt/capstan/good").symlink_to("slots/a")
    return slot


def test_capstan_is_on_path_and_runs_from_the_slot(tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
    slot = make_slot(tree, tmp_path / "build")
    run_install(tree)
    said = run_install(tree)
    capstan = tree / "usr" / "local" / "bin" / "capstan"
    version = subprocess.run([str(capstan), "--version"], capture_output=True, text=True,
                             timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("capstan ")
    assert capstan.resolve() == (slot / "bin" / "capstan").resolve()
    assert (slot / "bin" / "capstan").read_text().startswith(f"#!{slot}/bin/python")
    installed = tree / "etc/capstan/capstan.toml"
    check = subprocess.run([str(capstan), "config", "check", str(installed)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "a valid configuration" in check.stdout, check.stderr
    # the installer's last words are the bring-up's (hardware/BRINGUP.md runs the same)
    last = said.splitlines()[-1]
    command = last.split("(hardware/BRINGUP.md): ")[1]
    bringup = (ROOT / "hardware" / "BRINGUP.md").read_text()
    for step in command.split(" && "):
        assert f"    {step}" in bringup, step
    run_install(tree, "--remove")
    assert not capstan.is_symlink() and not (tree / "opt/capstan").exists()


def test_the_unit_is_hardened_and_tells_systemd_when_it_is_ready() -> None:
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


def test_the_configuration_is_the_builders_once_written(tmp_path: Path) -> None:
    tree = pi_os(tmp_path)
    (tree / "etc/capstan").mkdir()
    config = tree / "etc/capstan/capstan.toml"
    config.write_text('# Capstan daemon configuration (see firmware/capstan/config.py for every '
                      'key).\n[player]\nboard = "pi"\n')  # what earlier installs wrote
    run_install(tree)
    assert config.read_bytes() == (ROOT / "system/capstan.toml").read_bytes()
    config.write_text("[audio]\nvolume = 0.4\n")  # the builder's own
    assert "writing /etc/capstan/capstan.toml" not in run_install(tree)
    assert config.read_text() == "[audio]\nvolume = 0.4\n"
