"""hardware/overlays/capstan-i2s.dts compiles with dtc, and the compiled overlay makes
the PCM1808 (the codec side) the clock master and the Pi's I2S the clock consumer.

The properties are read back from the .dtbo with fdtget (both from Debian's
device-tree-compiler, which tools/lib/setup.sh installs for the tests)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from capstan.hardware.description import load_board

ROOT = Path(__file__).resolve().parents[2]
DTS = ROOT / "hardware" / "overlays" / "capstan-i2s.dts"
CARD = "/fragment@2/__overlay__"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} not found: apt-get install device-tree-compiler (tools/lib/setup.sh)"
    return path


@pytest.fixture(scope="module")
def dtbo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("overlay") / "capstan-i2s.dtbo"
    done = subprocess.run([tool("dtc"), "-@", "-I", "dts", "-O", "dtb", "-o", str(out), str(DTS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    return out


def get(dtbo: Path, node: str, prop: str, kind: str = "s") -> list[str]:
    done = subprocess.run([tool("fdtget"), "-t", kind, str(dtbo), node, prop],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{node} {prop}: {done.stderr.strip()}"
    return done.stdout.split()


def phandle(dtbo: Path, node: str) -> int:
    return int(get(dtbo, node, "phandle", "u")[0])


def test_the_codec_side_is_bit_and_frame_clock_master(dtbo: Path) -> None:
    codec = phandle(dtbo, f"{CARD}/simple-audio-card,codec")
    assert int(get(dtbo, CARD, "simple-audio-card,bitclock-master", "u")[0]) == codec
    assert int(get(dtbo, CARD, "simple-audio-card,frame-master", "u")[0]) == codec
    assert get(dtbo, CARD, "simple-audio-card,format") == ["i2s"]
    assert get(dtbo, CARD, "compatible") == ["simple-audio-card"]


def test_the_codec_link_holds_the_pcm1808_and_the_pcm5102a(dtbo: Path) -> None:
    dais = [int(p) for p in get(dtbo, f"{CARD}/simple-audio-card,codec", "sound-dai", "u")]
    by_phandle = {phandle(dtbo, f"/fragment@1/__overlay__/{n}"): n
                  for n in ("pcm1808-codec", "pcm5102a-codec")}
    assert sorted(by_phandle[p] for p in dais) == ["pcm1808-codec", "pcm5102a-codec"]
    adc = get(dtbo, "/fragment@1/__overlay__/pcm1808-codec", "compatible")
    dac = get(dtbo, "/fragment@1/__overlay__/pcm5102a-codec", "compatible")
    assert (adc, dac) == (["linux,spdif-dir"], ["ti,pcm5102a"])


def test_the_pi_is_the_i2s_clock_consumer(dtbo: Path) -> None:
    consumer = get(dtbo, "/__fixups__", "i2s_clk_consumer")
    assert sorted(consumer) == ["/fragment@0:target:0",
                                f"{CARD}/simple-audio-card,cpu:sound-dai:0"]
    listing = subprocess.run([tool("fdtget"), "-p", str(dtbo), "/__fixups__"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert "i2s_clk_producer" not in listing and "i2s" not in listing
    assert get(dtbo, "/fragment@0/__overlay__", "status") == ["okay"]
    # 64 BCK per frame, the PCM1808's fixed frame in master mode
    slots = int(get(dtbo, f"{CARD}/simple-audio-card,cpu", "dai-tdm-slot-num", "u")[0])
    width = int(get(dtbo, f"{CARD}/simple-audio-card,cpu", "dai-tdm-slot-width", "u")[0])
    assert slots * width == 64


def test_the_overlay_follows_the_raspberry_pi_conventions(dtbo: Path) -> None:
    # one compatible string for every Pi, the sound node by its label, the card name
    # overridable by a parameter that the header documents
    assert get(dtbo, "/", "compatible") == ["brcm,bcm2835"]
    assert get(dtbo, "/__fixups__", "sound") == ["/fragment@2:target:0"]
    raw = get(dtbo, "/__overrides__", "card-name", "bx")
    assert bytes(int(b, 16) for b in raw[4:]).rstrip(b"\0") == b"simple-audio-card,name"
    assert int("".join(raw[:4]), 16) == phandle(dtbo, CARD)
    listing = subprocess.run([tool("fdtget"), "-p", str(dtbo), "/__overrides__"],
                             capture_output=True, text=True, check=True).stdout.split()
    header = DTS.read_text().split("/dts-v1/")[0]
    params = re.search(r"// Params:(.*?)//\n", header, re.S)
    assert params, "the header documents the parameters (Name/Info/Load/Params)"
    for name in listing:
        assert f"// Params: {name} " in header or f"//         {name} " in header, name
    assert "// Name:   capstan-i2s\n" in header and "// Load:   dtoverlay=capstan-i2s" in header


def test_the_card_is_the_one_the_firmware_opens(dtbo: Path) -> None:
    name = get(dtbo, CARD, "simple-audio-card,name")[0]
    alsa = load_board().alsa
    assert f"CARD={name}," in alsa.capture and f"CARD={name}," in alsa.playback
    config = (ROOT / "hardware" / "overlays" / "config.txt").read_text()
    assert "\ndtoverlay=capstan-i2s\n" in config and "\ndtparam=i2s=on\n" in config
