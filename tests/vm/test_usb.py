"""The USB-C port on the virtual Pi: the gadget (configfs, libcomposite) on dummy_hcd's
device side, and this same guest as the computer on its host side.

`capstan usb run` sets up the composite gadget; the guest's own snd-usb-audio finds
the player's sound card and records from it the 1 kHz tone the head plays (over
dummy_hcd rebuilt with isochronous IN transfers: tools/vm/dummy-hcd-iso.py), while its
usb-storage sees the update drive as a SCSI disk: a bundle copied onto it (mount, cp,
umount, eject) is taken when the drive is ejected, through the same update path as
the SD card. Real time: every wait is on an event, with a guard against a hang.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.update.helpers import make_bundle, seeded_root
from tests.vm.daemon import CONFIG, GUARD, PiDaemon
from tests.vm.rig import BOARD_FILE, Header, HeadSignal, modprobe

from capstan.audio.tape_eq import HeadFrontEnd
from capstan.update import minisign, pack
from capstan.update.slots import Layout, read_marker

COMPATIBLE = "capstan,virtual-pi"  # hardware/virtual-pi.toml
CONFIGFS = Path("/sys/kernel/config")
LUN = CONFIGFS / "usb_gadget/capstan/functions/mass_storage.usb0/lun.0/file"
TONE, LEVEL = 1000.0, 0.25
MODULES = ("libcomposite", "usb_f_uac2", "usb_f_mass_storage", "dummy_hcd", "snd-usb-audio",
           "usb-storage", "sd_mod", "vfat")


def wait(predicate: Any, what: str, guard: float = GUARD) -> Any:
    deadline = time.monotonic() + guard  # a failure guard, not a measurement
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {guard:.0f} s")
        time.sleep(0.2)


def usb_card() -> int | None:
    """The ALSA card snd-usb-audio made for the gadget (by its USB id)."""
    for usbid in Path("/proc/asound").glob("card*/usbid"):
        if usbid.read_text().strip() == "1d6b:0104":
            return int(usbid.parent.name[4:])
    return None


def usb_disk() -> Path | None:
    for vendor in Path("/sys/block").glob("sd*/device/vendor"):
        if vendor.read_text().strip() == "Capstan":
            return Path("/dev") / vendor.parent.parent.name
    return None


@dataclass
class Usb:
    proc: subprocess.Popen[bytes]
    log: Path
    root: Path
    key: minisign.SecretKey
    config: Path
    card: int
    disk: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def taken(self) -> int:
        return self.output().count("update drive ejected")


@pytest.fixture(scope="module")
def usb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Usb]:
    if not os.path.ismount(CONFIGFS):
        modprobe("configfs")
        subprocess.run(["mount", "-t", "configfs", "none", str(CONFIGFS)], check=True)
    for m in MODULES:
        modprobe(m)
    tmp = tmp_path_factory.mktemp("usb")
    key = minisign.generate()
    seeded_root(tmp / "root", key, "0.1.0")
    config = tmp / "capstan.toml"
    config.write_text(CONFIG.read_text() + '\n[usb]\ngadget = "both"\n')
    log = tmp / "usb.log"
    env = {**os.environ, "CAPSTAN_BOARD": str(BOARD_FILE), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "capstan", "-v", "usb", "run",
                                 "--config", str(config), "--root", str(tmp / "root"),
                                 "--image", str(tmp / "drive.img")],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    u = Usb(proc, log, tmp / "root", key, config, -1, Path())
    try:
        wait(lambda: "gadget up" in u.output() or proc.poll() is not None, "the gadget")
        assert proc.poll() is None, u.output()
        u.card = wait(usb_card, "snd-usb-audio's card for the gadget")
        u.disk = wait(usb_disk, "usb-storage's disk for the drive")
        yield u
    finally:
        proc.terminate()
        proc.wait(GUARD)
        keep = os.environ.get("CAPSTAN_VM_OUT")
        if keep:
            (Path(keep) / "usb.log").write_bytes(log.read_bytes())
    assert "gadget down" in u.output()
    assert not (CONFIGFS / "usb_gadget/capstan").exists()


def test_the_computer_records_the_tape(usb: Usb, tmp_path: Path, header: Header, chips: Any,
                                       vpi: Any) -> None:
    assert "UAC2Gadget" in Path("/proc/asound/cards").read_text()  # the player's side
    header.drive(vpi.switches["cassette_in"].pin, False)  # a cassette is in
    wav = tmp_path / "usb.wav"
    with HeadSignal(level=LEVEL, tone=TONE):
        d = PiDaemon(tmp_path, config=usb.config)
        try:
            d.wait_for("READY=1")
            rec = subprocess.Popen(["arecord", "-q", "-D", f"hw:{usb.card},0", "-f",
                                    "S16_LE", "-r", "48000", "-c", "2", "-d", "4", str(wav)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                rec.wait(2)
            except subprocess.TimeoutExpired:
                pass
            gadget_pcm = "\n".join(  # the player's side while the computer records
                f"{f}: {Path(f).read_text().strip()}" for f in
                ("/proc/asound/UAC2Gadget/pcm0p/sub0/status",
                 "/proc/asound/UAC2Gadget/pcm0p/sub0/sw_params")
                if Path(f).exists())
            said_rec = rec.communicate(timeout=GUARD)[0]
            with d.client() as c:
                status = c.request("status")["status"]
            said = d.output()
            assert rec.returncode == 0, f"{said_rec}\n{status.get('usb_audio')}\n{said}"
        finally:
            d.stop()
    assert status["usb_audio"]["open"], (status["usb_audio"], said)
    assert status["usb_audio"]["frames_written"] > 0
    with wave.open(str(wav)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2) / 32768.0
    x = x[48000:]  # past the stream's start
    assert len(x) >= 2 * 48000
    seen = (f"{status['usb_audio']}; recorded peak {np.abs(x).max():.4f}, "
            f"{np.mean(x == 0):.0%} zeros; {gadget_pcm}")
    spectrum = np.abs(np.fft.rfft(x[:, 0] * np.hanning(len(x))))
    peak = np.argmax(spectrum) * 48000 / len(x)
    assert abs(peak - TONE) < 5, f"the loudest frequency is {peak:.1f} Hz ({seen})"
    # the level: the head's tone through the tape EQ (type I, notches at rest), in 100 ms
    # pieces (the median: a block the emulated CPU dropped does not count)
    front = HeadFrontEnd(48000, 2, "I")
    t = np.arange(2 * 48000) / 48000
    tone = (LEVEL * np.sin(2 * np.pi * TONE * t)).astype(np.float32)
    expected = float(np.sqrt(np.mean(front(np.stack([tone, tone], 1))[48000:, 0] ** 2)))
    pieces = [float(np.sqrt(np.mean(x[i:i + 4800, 0] ** 2))) for i in range(0, len(x) - 4800,
                                                                           4800)]
    level = float(np.median(pieces))
    assert 20 * abs(np.log10(level / expected)) < 1.0, f"{level:.4f} vs {expected:.4f} rms ({seen})"
    assert np.allclose(x[:, 0], x[:, 1], atol=2 / 32768)  # both channels, as the head


def copy_onto_drive(usb: Usb, name: str, blob: bytes, mnt: Path) -> str:
    """As a person does: mount the drive, copy the file, unmount, eject; then wait for the
    player to take it and give the drive back; returns UPDATE-RESULT.txt from the drive."""
    before = usb.taken()
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "vfat", str(usb.disk), str(mnt)], check=True)
    try:
        (mnt / name).write_bytes(blob)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    ej = subprocess.run(["eject", str(usb.disk)], capture_output=True, text=True)
    assert ej.returncode == 0, ej.stderr
    wait(lambda: usb.taken() > before, "the player taking the drive after the eject",
         guard=3 * GUARD)
    wait(lambda: LUN.read_text().strip(), "the drive attached again")

    def mounted() -> bool:
        Path(f"/sys/block/{usb.disk.name}/device/rescan").write_text("1")
        return subprocess.run(["mount", "-t", "vfat", "-o", "ro", str(usb.disk), str(mnt)],
                              capture_output=True).returncode == 0
    wait(mounted, "the drive back on the computer")
    try:
        return (mnt / "UPDATE-RESULT.txt").read_text()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_bundles_copied_onto_the_drive(usb: Usb, tmp_path: Path) -> None:
    layout = Layout(usb.root)
    # a corrupt bundle: refused, and the refusal is on the drive
    blob = bytearray(make_bundle(usb.key, "0.2.0", COMPATIBLE))
    blob[len(blob) // 2] ^= 0x01
    text = copy_onto_drive(usb, pack.bundle_name("0.2.0"), bytes(blob), tmp_path / "mnt")
    assert "Result: REFUSED" in text and pack.bundle_name("0.2.0") in text, text
    assert layout.active() == "a"
    # a valid one: installed into the other slot (a real venv), on trial from now
    text = copy_onto_drive(usb, pack.bundle_name("0.2.1"),
                           make_bundle(usb.key, "0.2.1", COMPATIBLE), tmp_path / "mnt")
    assert layout.active() == "b", usb.output()
    marker = read_marker(layout, "b")
    assert marker is not None and marker.version == "0.2.1"
    assert (layout.slot("b") / "bin" / "python").exists()
    assert re.search(r"installed '?0\.2\.1", usb.output()), usb.output()
