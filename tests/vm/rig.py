"""The virtual Pi's hardware stand-ins, as the tests and the bench drive them.

- `Header`: the gpio-sim chip laid out like a Pi 4's gpiochip0 (58 lines GPIO0..GPIO57).
  An input is driven from outside through its line's pull (`drive`), as a switch or a
  resistor on the board would; an output is read back (`level`).
- `stub_bus()`: the i2c-stub adapter; `mirror()` copies a register model's bytes into
  it so that byte, word and block reads return what the real chip's bus delivers.
- `setup()` (run at boot by tools/vm/run-tests): loads the modules, makes the chip,
  sets every line to its resting level from hardware/virtual-pi.toml, loads the
  chips' power-on registers from the simulator's models.

Command line: `python tests/vm/rig.py setup`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BOARD_FILE = ROOT / "hardware" / "virtual-pi.toml"
CONFIGFS = Path("/sys/kernel/config")
SIM_NAME = "capstan-vpi"
LINES = 58
STUB_NAME = "SMBus stub driver"
STUB_ADDRESSES = (0x36, 0x40, 0x6A)


def modprobe(*args: str) -> None:
    subprocess.run(["modprobe", *args], check=True)


class Header:
    """The gpio-sim chip of the virtual Pi."""

    def __init__(self, name: str = SIM_NAME) -> None:
        bank = CONFIGFS / "gpio-sim" / name / "gpio-bank0"
        self.chip_name = (bank / "chip_name").read_text().strip()
        self.chip = int(self.chip_name.removeprefix("gpiochip"))
        dev = (CONFIGFS / "gpio-sim" / name / "dev_name").read_text().strip()
        self.sysfs = Path("/sys/devices/platform") / dev / self.chip_name

    @classmethod
    def create(cls, name: str = SIM_NAME, lines: int = LINES) -> Header:
        if not (CONFIGFS / "gpio-sim").is_dir():
            modprobe("gpio-sim")
        dev = CONFIGFS / "gpio-sim" / name
        if not dev.is_dir():
            bank = dev / "gpio-bank0"
            dev.mkdir()
            bank.mkdir()
            (bank / "num_lines").write_text(str(lines))
            (bank / "label").write_text("pinctrl-bcm2711")
            for i in range(lines):
                (bank / f"line{i}").mkdir()
                (bank / f"line{i}" / "name").write_text(f"GPIO{i}")
            (dev / "live").write_text("1")
        return cls(name)

    def drive(self, line: int, level: bool) -> None:
        """Hold an input high or low from outside (its pull)."""
        (self.sysfs / f"sim_gpio{line}" / "pull").write_text("pull-up" if level else "pull-down")

    def level(self, line: int) -> int:
        """The line's level: what an output drives, or an input's pull."""
        return int((self.sysfs / f"sim_gpio{line}" / "value").read_text())

    def wait_level(self, line: int, level: int, timeout: float = 5.0) -> bool:
        """Poll until the line has the level (a failure guard, not a measurement)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.level(line) == level:
                return True
            time.sleep(0.005)
        return self.level(line) == level


def stub_bus() -> int:
    for d in Path("/sys/class/i2c-dev").glob("i2c-*"):
        if (d / "name").read_text().strip() == STUB_NAME:
            return int(d.name.removeprefix("i2c-"))
    raise RuntimeError("no i2c-stub adapter (modprobe i2c-stub chip_addr=...)")


def mirror(bus: Any, address: int, model: Any, registers: range = range(0x100)) -> None:
    """Copy a register model into the stub as the chip's bus delivers it.

    i2c-stub keeps one 16-bit cell per register: a byte access uses its low half, a
    word its whole, an I2C block read the low halves of consecutive cells. A real chip
    sends the bytes of register R, R+1, ... on the wire, and SMBus takes the first as
    a word's low byte. So cell R holds byte R low and byte R+1 high: byte, block and
    word reads then all return the chip's big-endian words exactly as on the Pi.
    """
    data = [model.read_register(r) & 0xFF for r in registers]
    data.append(0)
    for i, r in enumerate(registers):
        bus.write_word_data(address, r, data[i] | data[i + 1] << 8)


def chip_models() -> dict[int, Any]:
    """The simulator's register models of the gauge and the charger, at power-on."""
    from capstan.sim.chips.battery import SimBattery
    from capstan.sim.chips.bq25895 import BQ25895Model
    from capstan.sim.chips.max17048 import MAX17048Model

    battery = SimBattery(percent=80.0)
    return {0x36: MAX17048Model(battery), 0x6A: BQ25895Model(battery)}


def load_chips(bus_number: int | None = None) -> dict[int, Any]:
    from smbus2 import SMBus

    models = chip_models()
    with SMBus(stub_bus() if bus_number is None else bus_number) as bus:
        for address, model in models.items():
            mirror(bus, address, model, range(0x20 if address == 0x36 else 0x15))
        # the MAX17048's CMD register sits at 0xFE
        mirror(bus, 0x36, models[0x36], range(0xFE, 0x100))
    return models


def rest_lines(header: Header, description: Any) -> None:
    """Every line at rest: the board's resistors hold active-low inputs high and every
    output low (its 10 kΩ pull-down). gpio-sim hands a released line back to its pull,
    so a test that used an output's pin as an input (another mechanism's wiring) must
    not leave it pulled up for the next daemon's outputs."""
    for output in description.outputs.values():
        header.drive(output.pin, False)
    for group in (description.buttons, description.switches):
        for pin in group.values():
            header.drive(pin.pin, pin.active_low)
    for tach in description.tachometers.values():
        header.drive(tach.pin, True)


def setup() -> None:
    sys.path.insert(0, str(ROOT / "firmware"))
    from capstan.hardware.description import load_board

    t0 = time.monotonic()
    description = load_board(BOARD_FILE)
    header = Header.create()
    if header.chip != 0:
        raise SystemExit(f"the gpio-sim chip is {header.chip_name}, not gpiochip0 as the "
                         "Pi 4's header chip: another GPIO driver came first")
    rest_lines(header, description)
    modprobe("i2c-dev")
    modprobe("i2c-stub", "chip_addr=" + ",".join(f"0x{a:02x}" for a in STUB_ADDRESSES))
    bus = stub_bus()
    if bus != description.i2c_bus:
        raise SystemExit(f"i2c-stub is bus {bus}, hardware/virtual-pi.toml says "
                         f"{description.i2c_bus}")
    load_chips(bus)
    modprobe("snd-aloop", "pcm_substreams=4")
    cards = Path("/proc/asound/cards").read_text()
    if "Loopback" not in cards:
        raise SystemExit(f"snd-aloop made no Loopback card: {cards}")
    print(f"virtual Pi: {header.chip_name} ({LINES} lines), /dev/i2c-{bus} (i2c-stub at "
          f"{', '.join(f'0x{a:02x}' for a in STUB_ADDRESSES)}), ALSA card Loopback; "
          f"set up in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:] != ["setup"]:
        raise SystemExit("usage: rig.py setup")
    setup()


HEAD_PCM = "hw:CARD=Loopback,DEV=0,SUBDEV=1"  # into the player's capture (the tape head)
JACK_PCM = "hw:CARD=Loopback,DEV=1,SUBDEV=0"  # out of the player's playback (the jack)


class HeadSignal:
    """The playhead's signal into the player's capture, in real time on a thread:
    tape hiss (a quiet noise), or a tone."""

    def __init__(self, level: float = 0.01, tone: float | None = None, rate: int = 48000,
                 period: int = 1024) -> None:
        import threading

        self.level, self.tone, self.rate, self.period = level, tone, rate, period
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._play, name="head", daemon=True)

    def __enter__(self) -> HeadSignal:
        self._thread.start()
        self._opened.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _play(self) -> None:
        import alsaaudio
        import numpy as np

        try:
            pcm = alsaaudio.PCM(alsaaudio.PCM_PLAYBACK, alsaaudio.PCM_NORMAL, device=HEAD_PCM,
                                channels=2, rate=self.rate, format=alsaaudio.PCM_FORMAT_S32_LE,
                                periodsize=self.period, periods=4)
        except Exception as exc:
            self._error = exc
            return
        finally:
            self._opened.set()
        # one second of signal, made once and played round (the CPU is the player's)
        if self.tone:
            x = self.level * np.sin(2 * np.pi * self.tone * np.arange(self.rate) / self.rate)
        else:
            x = self.level * np.random.default_rng(1).standard_normal(self.rate)
        second = (np.repeat(x[:, None], 2, axis=1) * 2**31).astype("<i4").tobytes()
        step = self.period * 8
        try:
            while not self._stop.is_set():
                for i in range(0, len(second), step):
                    pcm.write(second[i:i + step])
        finally:
            pcm.close()
