"""The Debian base of `tools/build-image --from-debian`: an arm64 bookworm root made with
mmdebstrap from Debian's archive alone, and the SD card image made from a root tree.

The root: mmdebstrap --variant=minbase with the player's packages and the image's
(tools/lib/setup.sh: CAPSTAN_DEBS_PLAYER, CAPSTAN_DEBS_IMAGE), from the suites of this
machine's apt sources with non-free-firmware added (raspi-firmware, the Pi's Bluetooth
firmware). arm64 maintainer scripts run through qemu-user-static: binfmt_misc is mounted
and qemu-aarch64 registered for the build if they are not already, and unregistered after.
Debian's raspi-firmware hook fills /boot/firmware (the Pi's boot firmware, the kernel,
its initrd and device trees, config.txt and cmdline.txt with root=LABEL=RASPIROOT).
Kept as a tarball in the cache directory, named by a digest of everything that went in.

The image: an MBR card with a FAT32 boot partition (RASPIFIRM, /boot/firmware) and an
ext4 root (RASPIROOT), made with mkfs.vfat + mtools and mkfs.ext4 -d: no loop devices.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
COMPONENTS = "main non-free-firmware"
BOOT_LABEL, ROOT_LABEL = "RASPIFIRM", "RASPIROOT"
BOOT_MIB = 256
ROOT_SLACK_MIB = 384  # free space on the root: logs, state, a second firmware slot
FIRST_MIB = 4  # the boot partition starts 4 MiB in (the erase block of most SD cards)
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_BINFMT = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")

# Run on the build machine by mmdebstrap after the packages are in ($1 is the root).
HOOKS = [
    # the kernel command line names the root by label, not by the SD card's device name
    f'sed -i "s|^#\\?ROOTPART=.*|ROOTPART=LABEL={ROOT_LABEL}|" "$1/etc/default/raspi-firmware"',
    f'printf "LABEL={ROOT_LABEL} / ext4 rw,noatime 0 1\\nLABEL={BOOT_LABEL} /boot/firmware '
    f'vfat rw,noatime,umask=0022 0 2\\n" > "$1/etc/fstab"',
    'echo capstan > "$1/etc/hostname"',
    'printf "127.0.0.1 localhost\\n127.0.1.1 capstan\\n::1 localhost\\n" > "$1/etc/hosts"',
    'ln -sfn /lib/systemd/system/multi-user.target "$1/etc/systemd/system/default.target"',
    # the raspi-firmware hook again, now with ROOTPART: cmdline.txt, config.txt, kernel
    'chroot "$1" env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware',
    'test -s "$1/boot/firmware/start4.elf" && test -s "$1/boot/firmware/cmdline.txt"',
]


class DebianImageError(Exception):
    pass


def _run(cmd: list[str], **kw: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    if proc.returncode:
        raise DebianImageError(f"{cmd[0]} failed: {(proc.stderr or proc.stdout).strip()[-600:]}")
    return proc.stdout


def package_lists() -> list[str]:
    """CAPSTAN_DEBS_PLAYER and CAPSTAN_DEBS_IMAGE of tools/lib/setup.sh, in that order."""
    out = _run(["bash", "-c", 'source "$1"; echo "${CAPSTAN_DEBS_PLAYER[@]}"; '
                'echo "${CAPSTAN_DEBS_IMAGE[@]}"', "lists", str(REPO / "tools/lib/setup.sh")])
    names: list[str] = []
    for name in out.split():
        if name not in names:
            names.append(name)
    return names


def host_sources(path: Path | None = None) -> list[str]:
    """One-line sources for the bookworm suites of this machine's Debian archive (its
    mirror or proxy), with the components the image needs."""
    candidates = [path] if path else [Path("/etc/apt/sources.list.d/debian.sources"),
                                      Path("/etc/apt/sources.list")]
    for f in candidates:
        if f is None or not f.is_file():
            continue
        text = f.read_text()
        pairs: list[tuple[str, str]] = []
        if re.search(r"(?m)^Types:", text):  # deb822
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"(?m)^([A-Za-z-]+):\s*(.*)$", stanza))
                if "deb" not in fields.get("Types", "").split():
                    continue
                pairs += [(u, s) for u in fields.get("URIs", "").split()
                          for s in fields.get("Suites", "").split()]
        else:
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m:
                    pairs.append((m.group(1), m.group(2)))
        lines = [f"deb {uri} {suite} {COMPONENTS}" for uri, suite in pairs
                 if suite.split("/")[0].split("-")[0] == SUITE]
        if lines:
            return list(dict.fromkeys(lines))
    raise DebianImageError(f"no {SUITE} suite in the apt sources "
                           f"({', '.join(str(c) for c in candidates if c)}): give --sources")


def base_key(packages: list[str], sources: list[str]) -> str:
    text = "\n".join([SUITE, *packages, *sources, *HOOKS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextlib.contextmanager
def qemu_binfmt() -> Iterator[None]:
    """arm64 programs run through qemu-user-static while the root is built."""
    entry = BINFMT / "qemu-aarch64"
    if entry.exists() and entry.read_text().startswith("enabled"):
        yield
        return
    if not QEMU_BINFMT.is_file():
        raise DebianImageError(f"{QEMU_BINFMT} is missing: apt-get install qemu-user-static")
    if not (BINFMT / "register").exists():
        proc = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            raise DebianImageError(
                f"binfmt_misc cannot be mounted on {BINFMT} ({proc.stderr.strip()}): arm64 "
                "maintainer scripts cannot run on this machine, so the root cannot be built "
                "here; build on a machine where qemu-user-static is registered")
    line = next(x for x in QEMU_BINFMT.read_text().splitlines() if x.startswith(":"))
    (BINFMT / "register").write_text(line)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            entry.write_text("-1")  # unregister what this build registered


@contextlib.contextmanager
def locked(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def debian_root(cache: Path, sources: list[str], say: object = print) -> Path:
    """The root tarball for these packages and sources: from the cache, or built now."""
    packages = package_lists()
    tar = cache / f"{SUITE}-arm64-{base_key(packages, sources)}.tar"
    with locked(cache):
        if tar.is_file() and tar.stat().st_size:
            say(f"Debian root from the cache: {tar}")  # type: ignore[operator]
            return tar
        if os.geteuid() != 0:
            raise DebianImageError("building the Debian root needs root (mmdebstrap chroots "
                                   "into it); later builds reuse it from the cache")
        for tool in ("mmdebstrap", "arch-test"):
            if not shutil.which(tool):
                raise DebianImageError(f"{tool} is not installed (apt-get install {tool})")
        say(f"building the Debian arm64 root (mmdebstrap, qemu-user): {tar}")  # type: ignore[operator]
        part = tar.with_name(tar.name + ".part")
        cmd = ["mmdebstrap", "--quiet", "--architectures=arm64", "--variant=minbase",
               "--format=tar", f"--include={','.join(packages)}"]
        cmd += [f"--customize-hook={hook}" for hook in HOOKS]
        cmd += [SUITE, str(part), *sources]
        with qemu_binfmt():
            _run(cmd)
        for old in cache.glob(f"{SUITE}-arm64-*.tar"):  # one root at a time: they are large
            old.unlink()
        part.rename(tar)
    return tar


def unpack(tar: Path, root: Path) -> None:
    root.mkdir(parents=True)
    _run(["tar", "-C", str(root), "--numeric-owner", "--xattrs", "--xattrs-include=*",
          "-xpf", str(tar)])


def _du_mib(path: Path) -> int:
    return int(_run(["du", "-s", "--block-size=1M", "-x", str(path)]).split()[0])


def make_card(root: Path, out: Path, work: Path) -> None:
    """The card: the root's /boot/firmware as the FAT partition, the rest as ext4."""
    firmware = root / "boot" / "firmware"
    fat = work / "boot.vfat"
    _run(["mkfs.vfat", "-F", "32", "-n", BOOT_LABEL, "-C", str(fat), str(BOOT_MIB * 1024)])
    items = sorted(str(p) for p in firmware.iterdir())
    _run(["mcopy", "-s", "-p", "-m", "-i", str(fat), *items, "::"])
    run_fsck = _run(["fsck.vfat", "-n", str(fat)])
    del run_fsck
    for p in firmware.iterdir():  # an empty mount point on the root
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    root_mib = _du_mib(root) * 6 // 5 + ROOT_SLACK_MIB
    ext4 = work / "root.ext4"
    _run(["mkfs.ext4", "-q", "-L", ROOT_LABEL, "-E", "root_owner=0:0", "-d", str(root),
          str(ext4), f"{root_mib}M"])
    _run(["e2fsck", "-fn", str(ext4)])
    boot_start = FIRST_MIB * 2048
    root_start = boot_start + BOOT_MIB * 2048
    total = (root_start + root_mib * 2048) * 512
    with out.open("wb") as f:
        f.truncate(total)
    table = (f"label: dos\nstart={boot_start}, size={BOOT_MIB * 2048}, type=c, bootable\n"
             f"start={root_start}, type=83\n")
    _run(["sfdisk", "--quiet", str(out)], input=table)
    with out.open("r+b") as dst:
        for part, start in ((fat, boot_start), (ext4, root_start)):
            dst.seek(start * 512)
            with part.open("rb") as src:
                shutil.copyfileobj(src, dst, 1 << 20)
