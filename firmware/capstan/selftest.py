"""`capstan selftest`: check every sensor, output and chip, and say what is wrong in words.

The same checks run at every start of the daemon (READY is sent after them) and
on a freshly built player (`capstan selftest`, with `--motor` to run the tape
for a moment with a cassette in). They work on any board, the simulated one too:

- buttons at rest (a stuck or shorted button reads pressed);
- the cassette switches agree (no tab or notch switch closed without a cassette);
- the reel tachometers are quiet with the motor off (a floating line pulses);
- every output is driven to its safe level;
- every I2C chip answers and is the chip it should be;
- the ADC delivers audio, and not stuck digital silence; the DAC takes a block;
- with `--motor` and a cassette: both reels turn in PLAY.

A finding marked critical means the player cannot play at all. What a run did not
check (the motor without `--motor` or without a cassette, the state directory when
none is given) is listed as "not checked", never as passed.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from typing import Any

CAPTURE_BLOCKS = 3
CAPTURE_TIMEOUT = 1.5  # s (loop time) for the ADC's first blocks
MOTOR_SECONDS = 1.5

CHIP_NAMES = {"max17048": "fuel gauge (MAX17048)", "bq25895": "charger (BQ25895)",
              "pca9685": "LED driver (PCA9685)"}


def _chip_id_ok(chip: str, data: list[int]) -> str | None:
    """None if the identification registers read as the chip's, else what they read."""
    if chip == "max17048":  # VERSION (0x08): 0x001X
        if data[0] != 0x00 or data[1] & 0xF0 != 0x10:
            return f"its VERSION register reads 0x{data[0]:02x}{data[1]:02x}, not 0x001X"
    elif chip == "bq25895":  # REG14 bits 5:3 are the part number, 0b111
        if (data[0] >> 3) & 0x7 != 0x7:
            return f"its part number (REG14) reads 0x{data[0]:02x}, not a BQ25895"
    return None


ID_REGISTERS = {"max17048": (0x08, 2), "bq25895": (0x14, 1), "pca9685": (0x00, 1)}


@dataclass
class Finding:
    part: str
    ok: bool
    message: str
    critical: bool = False
    checked: bool = True  # False: not checked this time (ok says nothing then)

    def line(self) -> str:
        if not self.checked:
            return f"--    {self.part}: not checked: {self.message}"
        mark = "ok  " if self.ok else ("FAIL" if self.critical else "warn")
        return f"{mark}  {self.part}: {self.message}"


@dataclass
class SelfTestReport:
    findings: list[Finding] = field(default_factory=list)

    def add(self, part: str, ok: bool, message: str, critical: bool = False) -> None:
        self.findings.append(Finding(part, ok, message, critical))

    def not_checked(self, part: str, why: str) -> None:
        """`part` was not checked this time; `why` says how to have it checked."""
        self.findings.append(Finding(part, True, why, checked=False))

    @property
    def unchecked(self) -> list[Finding]:
        return [f for f in self.findings if not f.checked]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    @property
    def critical(self) -> list[Finding]:
        return [f for f in self.problems if f.critical]

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.passed:
            checked = len(self.findings) - len(self.unchecked)
            rest = f", {len(self.unchecked)} not checked" if self.unchecked else ""
            return f"self-test passed ({checked} checks{rest})"
        return (f"self-test: {len(self.problems)} problem(s): "
                + "; ".join(f"{f.part}: {f.message}" for f in self.problems))

    def text(self) -> str:
        return "\n".join([*(f.line() for f in self.findings), self.summary()])

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "summary": self.summary(),
                "findings": [vars(f) for f in self.findings]}


async def run_selftest(board: Any, *, motor: bool = False, state_dir: str | None = None,
                       capture_timeout: float = CAPTURE_TIMEOUT) -> SelfTestReport:
    """Check the board; run before the Player takes the pins (it watches the tachometers)."""
    report = SelfTestReport()
    d = board.description
    outputs = [*board.outputs.values(), *_signal_outputs(board)]
    for out in outputs:
        out.write(0)
    report.add("outputs", True, f"all {len(outputs)} driven to their safe level (off)")
    _buttons(board, report)
    cassette = _switches(board, report)
    edges = {role: 0 for role in board.tachometers}
    for role, pin in board.tachometers.items():
        pin.watch(lambda level, t, role=role: edges.__setitem__(role, edges[role] + 1))
    try:
        _chips(board, report)
        await _audio(board, report, capture_timeout)
        for role, count in edges.items():
            p = d.tachometers[role]
            report.add(f"{role} reel tachometer", count == 0,
                       "quiet with the motor off" if count == 0 else
                       f"{count} pulses on GPIO {p.pin} with the motor off: a floating or noisy "
                       "line (check the sensor's pull-up and its wiring)")
        if motor and d.mechanism.profile != "reference":
            report.not_checked("motor and reels in PLAY", f"the {d.mechanism.profile} "
                               "mechanism's first power-up: hardware/BRINGUP.md")
        elif motor:
            await _motor(board, report, edges, cassette)
        else:
            report.not_checked("motor and reels in PLAY", "run `capstan selftest --motor` "
                               "with a cassette in")
    finally:
        for pin in board.tachometers.values():
            pin.watch(None)
        for out in outputs:
            out.write(0)
    if state_dir:
        from capstan.state.store import is_writable

        problem = is_writable(state_dir)
        report.add("state directory", problem is None, problem or f"{state_dir} is writable")
    else:
        report.not_checked("state directory", "no state directory given")
    return report


def _signal_outputs(board: Any) -> list[Any]:
    """The fitted profile's own outputs (the CRP42602Y's solenoid line)."""
    signals = getattr(board, "signals", {})
    return [signals[n] for n in getattr(board, "output_signals", []) if n in signals]


def _buttons(board: Any, report: SelfTestReport) -> None:
    d = board.description
    for role, pin in board.buttons.items():
        b = d.buttons[role]
        pressed = pin.read() != b.active_low
        report.add(f"{b.label or role} button", not pressed,
                   "released" if not pressed else
                   f"reads pressed on GPIO {b.pin} with nobody touching it: a stuck button or "
                   "a short to ground (check the switch and its wire)")


def _switches(board: Any, report: SelfTestReport) -> bool:
    d = board.description
    closed = {role: pin.read() != d.switches[role].active_low
              for role, pin in board.switches.items()}
    cassette = closed.get("cassette_in", False)
    for role, on in closed.items():
        if role == "cassette_in":
            report.add("cassette switch", True, "a cassette is in" if on else "no cassette")
        elif on and not cassette:
            s = d.switches[role]
            report.add(f"{role} switch", False,
                       f"reads closed on GPIO {s.pin} with no cassette in: the switch sticks "
                       "or its wire is shorted to ground (or the cassette switch never closes)")
    return cassette


def _chips(board: Any, report: SelfTestReport) -> None:
    check_chips(board.description, board.i2c, report)


def check_chips(d: Any, bus: Any, report: SelfTestReport) -> None:
    """Every I2C chip of the description answers on `bus` and is the chip it should be."""
    for dev in d.i2c.values():
        name = CHIP_NAMES.get(dev.chip, dev.chip)
        register, length = ID_REGISTERS.get(dev.chip, (0x00, 1))
        try:
            data = bus.read_i2c_block_data(dev.address, register, length)
        except OSError as exc:
            report.add(name, False,
                       f"no answer at 0x{dev.address:02x} on I2C-{d.i2c_bus} "
                       f"({exc.strerror or exc}): check its power, SDA (GPIO 2), SCL (GPIO 3) "
                       "and dtparam=i2c_arm=on")
            continue
        wrong = _chip_id_ok(dev.chip, list(data))
        report.add(name, wrong is None, f"answers at 0x{dev.address:02x}" if wrong is None else
                   f"answers at 0x{dev.address:02x} but {wrong}: is the right chip fitted there?")


async def _audio(board: Any, report: SelfTestReport, timeout: float) -> None:
    import numpy as np

    blocks: list[Any] = []
    got = asyncio.Event()

    def on_block(block: Any) -> None:
        blocks.append(block)
        if len(blocks) >= CAPTURE_BLOCKS:
            got.set()

    try:
        board.capture.start(on_block)
    except Exception as exc:
        report.add("ADC (capture)", False, f"cannot open {board.description.alsa.capture}: {exc}. "
                   "Check the dtoverlay line in config.txt and `arecord -l`", critical=True)
    else:
        try:
            await asyncio.wait_for(got.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            board.capture.stop()
        if not blocks:
            report.add("ADC (capture)", False, f"delivered no audio in {timeout:.1f} s: the "
                       "PCM1808 drives the I2S clocks; check its power, its 12.288 MHz "
                       "oscillator on SCKI, MD0 and MD1 high (master mode) and the wiring "
                       "(BCLK GPIO 18, LRCLK GPIO 19, DIN GPIO 20)", critical=True)
        else:
            audio = np.concatenate(blocks)
            if not np.any(audio):
                report.add("ADC (capture)", False, "delivers exact digital silence: its data line "
                           "(DOUT to GPIO 20) is not connected")
            elif np.all(audio == audio[0]):
                report.add("ADC (capture)", False, "delivers a constant value: check its data "
                           "line (GPIO 20) and format pins")
            else:
                report.add("ADC (capture)", True, f"{len(blocks)} blocks of live audio")
    try:
        board.playback.write(np.zeros((board.playback.period, 2), np.float32))
    except Exception as exc:
        report.add("DAC (playback)", False, f"cannot play on {board.description.alsa.playback}: "
                   f"{exc}. Check the dtoverlay line in config.txt and `aplay -l`", critical=True)
    else:
        report.add("DAC (playback)", True, "takes audio")


async def _motor(board: Any, report: SelfTestReport, edges: dict[str, int],
                 cassette: bool) -> None:
    from capstan.deck.transport import Mode
    from capstan.devices.actuators import Motor, Solenoid
    from capstan.devices.mechanism import TapeMechanism

    if not cassette:
        report.not_checked("motor and reels in PLAY", "no cassette in: insert one to test "
                           "the motor and the reels")
        return
    o = board.outputs
    mechanism = TapeMechanism(Motor(o["motor"], o["motor_reverse"]), Solenoid(o["head_solenoid"]),
                              Solenoid(o["wind_idler"]), board.description.mechanism)
    for role in edges:
        edges[role] = 0
    mechanism.set_mode(Mode.PLAY)
    try:
        await asyncio.sleep(MOTOR_SECONDS)
    finally:
        mechanism.off()
    for role, count in edges.items():
        p = board.description.tachometers[role]
        report.add(f"{role} reel in PLAY", count > 0, f"{count} pulses in {MOTOR_SECONDS} s"
                   if count else f"did not turn (no pulses on GPIO {p.pin}): check the motor "
                   "(PWM on GPIO {m}), its driver, the pinch-roller solenoid and this reel's "
                   "tachometer".replace("{m}", str(board.description.outputs["motor"].pin)))


def _run(args: argparse.Namespace) -> int:
    import json

    from capstan.board import open_board
    from capstan.config import load_config
    from capstan.hardware.description import load_board
    from capstan.run_cli import state_dir_for

    overrides = {"player": {"board": args.board}} if args.board else None
    config = load_config(args.config, overrides)
    description = load_board(args.board_file or config["player"]["board_file"] or None)
    state_dir = state_dir_for(config, args.state_dir)

    async def main() -> SelfTestReport:
        loop = asyncio.get_running_loop()
        board = open_board(config["player"]["board"], description, loop,
                           config["player"]["period"])
        try:
            if board.deck is not None:
                board.deck.start()
            return await run_selftest(board, motor=args.motor,
                                      state_dir=str(state_dir))
        finally:
            board.close()

    report = asyncio.run(main())
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.text())
    return 0 if report.passed else 1


def register(sub: Any) -> None:
    p = sub.add_parser("selftest", help="check every sensor, output and chip of the player")
    p.add_argument("--board", choices=("pi", "sim"), help="the board (default: from config)")
    p.add_argument("--config", help="a TOML configuration file")
    p.add_argument("--board-file", help="the board description (default: hardware/board.toml)")
    p.add_argument("--motor", action="store_true",
                   help="with a cassette in, run the tape in PLAY for a moment")
    p.add_argument("--state-dir", help="the state directory to check (default: the one "
                   "`capstan run` uses with the same options)")
    p.add_argument("--json", action="store_true", help="the findings as JSON")
    p.set_defaults(func=_run)
