"""The SD image from Debian's packages, built by `tools/build-image --from-debian` and
booted in qemu-system-aarch64: the `virt` machine with the image's own kernel and
initrd (read out of its FAT partition) and the image's root named as its cmdline.txt
names it. The guest's console (serial, with the journal forwarded to it) must show
systemd reach multi-user.target, capstan-update.service run, capstan.service start and
its self-test say in words which hardware it could not find (a virt machine has no Pi
GPIO, no I2C-1 and no sound card), and then no restart of capstan.service while the
test watches; the guest powers off on the power button.

Needs root and the Debian archive the first time (the Debian root is then cached in
/var/cache/capstan/image); runs under TCG: minutes.
tools/test's image tier runs it (CAPSTAN_TIERS=image)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
CACHE = Path(os.environ.get("CAPSTAN_IMAGE_CACHE", "/var/cache/capstan/image"))
BOOT_DEADLINE = 1200.0  # s of real time to the self-test's verdict under TCG
WATCH = 45.0  # s watched after the verdict for a restart
POWEROFF_DEADLINE = 240.0


def sh(*cmd: str, **kw: object) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    assert proc.returncode == 0, f"{cmd[0]} {cmd[1:3]} failed: {proc.stderr[-1500:]}"
    return proc.stdout


class Console:
    """The guest's serial console, read line by line as it comes."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc, self.lines, self.log = proc, [], log
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as log:
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace").rstrip("\r\n")
                log.write(line + "\n")
                log.flush()
                with self._lock:
                    self.lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, deadline: float, what: str) -> re.Match[str]:
        """The first match of `pattern`; fails with the console's tail if none by `deadline`
        (time.monotonic()) or if the guest stops first."""
        while True:
            m = re.search(pattern, self.text(), re.MULTILINE)
            if m:
                return m
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(self.text().splitlines()[-60:])
                pytest.fail(f"no {what} on the guest's console (qemu "
                            f"{'exited' if self.proc.poll() is not None else 'still running'}); "
                            f"full log {self.log}; its end:\n{tail}")
            time.sleep(1)


def qmp(path: Path, command: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(path))
        f = s.makefile("rw")
        f.readline()  # the greeting
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}) + "\n")
            f.flush()
            reply = json.loads(f.readline())
            while "event" in reply:
                reply = json.loads(f.readline())
            assert "return" in reply, reply


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("debian-image")
    wheels = sorted((VENV / "bundle-wheels").glob("gpiozero-*-py3-none-any.whl"))
    assert wheels, f"no gpiozero wheel in {VENV}/bundle-wheels (tools/test fetches it)"
    sh(sys.executable, str(ROOT / "tools/make-bundle"), "--generate-key", str(tmp / "key"))
    sh(sys.executable, str(ROOT / "tools/make-bundle"), "--key", str(tmp / "key.key"),
       "--extra-wheel", str(wheels[-1]), "--out", str(tmp / "out"))
    bundle = next((tmp / "out").glob("capstan-*.capstan"))
    out = tmp / "capstan.img"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "tools/build-image"), "--from-debian",
                           "--bundle", str(bundle), "--key", str(tmp / "key.pub"),
                           "--cache", str(CACHE), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    print(f"tools/build-image --from-debian: {time.monotonic() - started:.0f} s\n{proc.stdout}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def partitions(image: Path) -> list[dict[str, object]]:
    return json.loads(sh("sfdisk", "--json", str(image)))["partitiontable"]["partitions"]


def fat(image: Path) -> str:
    return f"{image}@@{int(partitions(image)[0]['start']) * 512}"


def test_the_card_has_the_pi_boot_firmware_and_the_kernel(image: Path) -> None:
    parts = partitions(image)
    assert [p["type"] for p in parts] == ["c", "83"]
    names = sh("mdir", "-b", "-i", fat(image), "::").split()
    names = [n.rsplit("/", 1)[-1] for n in names]
    for needed in ("bootcode.bin", "start4.elf", "fixup4.dat", "config.txt", "cmdline.txt",
                   "bcm2711-rpi-4-b.dtb", "bcm2837-rpi-3-b.dtb"):
        assert needed in names, names
    assert any(n.startswith("vmlinuz-") for n in names), names
    assert any(n.startswith("initrd.img-") for n in names), names
    config = sh("mtype", "-i", fat(image), "::config.txt")
    assert "arm_64bit=1" in config
    assert "dtoverlay=capstan-i2s" in config and "dtparam=i2c_arm=on" in config
    assert "capstan-i2s.dtbo" in sh("mdir", "-b", "-i", fat(image), "::overlays")
    assert "root=LABEL=RASPIROOT" in sh("mtype", "-i", fat(image), "::cmdline.txt")


def test_it_boots_runs_the_update_unit_and_the_player_which_names_missing_hardware(
        image: Path, tmp_path: Path) -> None:
    names = [n.rsplit("/", 1)[-1] for n in sh("mdir", "-b", "-i", fat(image), "::").split()]
    kernel = next(n for n in names if n.startswith("vmlinuz-"))
    initrd = next(n for n in names if n.startswith("initrd.img-"))
    for name in (kernel, initrd):
        sh("mcopy", "-n", "-i", fat(image), f"::{name}", str(tmp_path / name))
    cmdline = sh("mtype", "-i", fat(image), "::cmdline.txt").split()
    root = [a for a in cmdline if a.startswith(("root=", "rootwait"))]
    append = " ".join([*root, "rw", "console=ttyAMA0", "panic=-1",
                       "systemd.journald.forward_to_console=1"])
    qmp_path = tmp_path / "qmp"
    qemu = shutil.which("qemu-system-aarch64")
    assert qemu, "qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"
    started = time.monotonic()
    proc = subprocess.Popen(
        [qemu, "-M", "virt", "-cpu", "cortex-a53", "-smp", "2", "-m", "1024",
         "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot", "-nic", "none",
         "-qmp", f"unix:{qmp_path},server=on,wait=off",
         "-kernel", str(tmp_path / kernel), "-initrd", str(tmp_path / initrd),
         "-append", append,
         "-drive", f"file={image},format=raw,if=virtio,snapshot=on"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    console = Console(proc, tmp_path / "console.log")
    try:
        deadline = started + BOOT_DEADLINE
        console.wait_for(r"Reached target multi-user\.target", deadline, "multi-user.target")
        console.wait_for(r"Started capstan-update\.service", deadline,
                         "start of capstan-update.service")
        verdict = console.wait_for(r"capstan: self-test: (\d+) problem\(s\): (.*)", deadline,
                                   "self-test verdict from capstan.service")
        booted = time.monotonic() - started
        words = verdict.group(2)
        assert "GPIO header: cannot open the Pi's GPIO" in words, words
        assert "I2C-1: no bus /dev/i2c-1" in words, words
        assert "ADC (capture): no ALSA device hw:CARD=capstan,DEV=0" in words, words
        assert "DAC (playback): no ALSA device hw:CARD=capstan,DEV=0" in words, words
        assert words.endswith("Not restarting: the hardware is missing "
                              "(`sudo systemctl restart capstan` once it is there)"), words
        console.wait_for(r"capstan\.service: Main process exited, code=exited, "
                         r"status=5/NOTINSTALLED", time.monotonic() + 60, "capstan's exit 5")
        time.sleep(WATCH)  # real time by nature: the guest runs on its own clock
        text = console.text()
        assert "capstan.service: Scheduled restart job" not in text, "capstan.service restarted"
        assert len(re.findall(r"capstan: self-test: \d+ problem", text)) == 1, \
            "capstan.service ran more than once"
        assert not re.search(r"Failed to start capstan-update\.service", text)
        qmp(qmp_path, "system_powerdown")
        try:
            proc.wait(POWEROFF_DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the guest did not power off on the power button; log {console.log}")
        assert re.search(r"reboot: Power down", console.text()), "no clean power-off"
        print(f"booted to the self-test's verdict in {booted:.0f} s; "
              f"powered off after {time.monotonic() - started:.0f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
