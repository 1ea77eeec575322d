"""Load and validate hardware/board.toml, the one description of the board.

Everything that knows a pin number, an I2C address, an ALSA device name or a
mechanism constant reads it from here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capstan import schema
from capstan.errors import BoardFileError, ConfigError
from capstan.hardware.capabilities import Capabilities
from capstan.hardware.profiles import CAPABILITIES, ProfileTable, parse_profile_table, profile_name

BUTTON_ROLES = ("play", "stop", "ff", "rew", "rec", "pair", "vol_up", "vol_down")
SWITCH_ROLES = ("cassette_in", "tab_a", "tab_b", "notch_type2", "notch_type4")
TACH_ROLES = ("take_up", "supply")
OUTPUT_ROLES = (
    "motor", "motor_reverse", "head_solenoid", "wind_idler", "record_relay", "adc_mux",
    "dac_unmute",
)
LED_ROLES = ("status", "rec", "bt", "charge")
I2C_ROLES = ("fuel_gauge", "charger", "led_driver")
CASSETTE_LENGTHS = ("C46", "C60", "C90", "C120")
BUS_PINS = {2: "I2C-1 SDA", 3: "I2C-1 SCL", 18: "I2S BCLK", 19: "I2S LRCLK", 20: "I2S DIN",
            21: "I2S DOUT"}
SAFE_OUTPUT_PINS = range(9, 28)  # pulled low at reset on every Pi
# The Pi's GPIO libraries (lgpio, and RPi.GPIO's API over it) time PWM in software, up to
# 10 kHz; a PWM output asked for more would be refused when the player opens it.
PWM_FREQUENCIES = (10, 10_000)  # Hz
PULLS = ("internal", "external")
GPIO_LIBRARIES = ("auto", "lgpio", "rpigpio")
# [wiring]: the colour of the wires of each kind of signal (the wiring diagram draws them)
WIRE_KINDS = ("buttons", "switches", "tachometers", "outputs", "i2c_sda", "i2c_scl",
              "i2s_bclk", "i2s_lrclk", "i2s_din", "i2s_dout")
WIRE_COLOURS = ("black", "brown", "red", "orange", "yellow", "green", "blue", "violet", "grey",
                "white", "pink")

# mechanism numbers: (low, high, more-than-low?, unit); docs/configuration.md lists them
MECHANISM_RANGES: dict[str, tuple[float, float, bool, str]] = {
    "nominal_speed": (0.01, 0.2, False, "m/s"),
    "hub_radius": (0.001, 0.05, False, "m"),
    "leader": (0.0, 30.0, False, "s"),
    "play_duty": (0.0, 1.0, True, "(a duty)"),
    "motor_time_constant": (0.001, 10.0, False, "s"),
    "wind_spindle_rpm": (1.0, 5000.0, False, "rpm"),
    "wind_duty": (0.0, 1.0, True, "(a duty)"),
}

REPO_PATH = Path(__file__).resolve().parents[3] / "hardware" / "board.toml"
INSTALLED_PATH = Path("/etc/capstan/board.toml")  # put there by tools/install and the image


def default_path() -> Path:
    """$CAPSTAN_BOARD, else the checkout's hardware/board.toml, else /etc/capstan/board.toml."""
    env = os.environ.get("CAPSTAN_BOARD")
    if env:
        return Path(env)
    return REPO_PATH if REPO_PATH.exists() else INSTALLED_PATH


DEFAULT_PATH = REPO_PATH


@dataclass(frozen=True)
class InputPin:
    role: str
    pin: int
    active_low: bool
    label: str = ""


@dataclass(frozen=True)
class TachPin:
    role: str
    pin: int
    pulses_per_turn: int
    label: str = ""


@dataclass(frozen=True)
class OutputPin:
    role: str
    pin: int
    pwm: bool
    frequency: float | None
    label: str = ""


@dataclass(frozen=True)
class Led:
    role: str
    channel: int
    label: str = ""


@dataclass(frozen=True)
class I2CDevice:
    role: str
    chip: str
    address: int


@dataclass(frozen=True)
class CassetteSpec:
    length: str
    minutes: float
    thickness: float


@dataclass(frozen=True)
class Mechanism:
    profile: str
    nominal_speed: float
    hub_radius: float
    leader: float
    play_duty: float
    motor_time_constant: float
    wind_spindle_rpm: float
    wind_duty: float
    cassettes: dict[str, CassetteSpec]
    tables: dict[str, ProfileTable] = field(default_factory=dict)  # [mechanism.<profile>]

    @property
    def capabilities(self) -> Capabilities:
        """What the fitted mechanism can do (the transport is told this)."""
        return CAPABILITIES[self.profile]

    @property
    def table(self) -> ProfileTable | None:
        """The fitted profile's own pins and constants (None for the reference)."""
        return self.tables.get(self.profile)


@dataclass(frozen=True)
class Alsa:
    capture: str
    playback: str
    rate: int
    channels: int
    capture_format: str
    playback_format: str


@dataclass(frozen=True)
class NoiseReduction:
    """[nr]: what the ADC makes of the tape's reference flux (200 nWb/m, 400 Hz)."""

    head_output_mv: float  # the playhead's output at the reference flux, mV RMS
    preamp_gain_db: float  # the head preamp's gain at 400 Hz
    adc_full_scale_vrms: float  # the ADC's full scale, V RMS of a sine

    @property
    def reference_dbfs(self) -> float:
        """The reference flux's 400 Hz tone at the ADC: its peak in dBFS."""
        volts = self.head_output_mv * 1e-3 * 10 ** (self.preamp_gain_db / 20)
        return 20 * math.log10(volts / self.adc_full_scale_vrms)


@dataclass(frozen=True)
class BoardDescription:
    name: str
    compatible: str
    computer: str
    buttons: dict[str, InputPin]
    switches: dict[str, InputPin]
    tachometers: dict[str, TachPin]
    outputs: dict[str, OutputPin]
    leds: dict[str, Led]
    led_driver: str
    i2c_bus: int
    i2c: dict[str, I2CDevice]
    alsa: Alsa
    mechanism: Mechanism
    source: Path = field(default=DEFAULT_PATH)
    wiring: dict[str, str] = field(default_factory=dict)  # kind of signal -> wire colour
    nr: NoiseReduction | None = None  # [nr]: the B-type reference level's default
    # "internal": the Pi's pull-ups/downs hold the inputs at rest; "external": the board's
    # resistors do, and the Pi's are switched off ([gpio] pulls)
    pulls: str = "internal"
    # which GPIO library drives the header ([gpio] library): "auto" picks RPi.GPIO's API up
    # to the Pi 4 and lgpio on the Pi 5; "lgpio" gives every edge the kernel's timestamp
    gpio_library: str = "auto"


def load_board(path: Path | str | None = None) -> BoardDescription:
    """Read and validate a board description; errors name the offending key."""
    path = Path(path) if path else default_path()
    try:
        raw = schema.read_toml(path, "board description")
    except ConfigError as exc:
        raise BoardFileError(str(exc)) from None
    return parse_board(raw, path)


def parse_board(raw: dict[str, Any], path: Path = DEFAULT_PATH) -> BoardDescription:
    r = _Reader(raw, str(path))
    r.known(raw, "", {"board", "buttons", "switches", "tachometers", "outputs", "leds", "i2c",
                      "alsa", "mechanism", "wiring", "nr", "gpio"})
    board = r.table(raw, "board")
    r.known(board, "board", {"name", "compatible", "computer"})
    pins_used: dict[int, str] = {}

    def claim(pin: int, key: str, output: bool) -> int:
        if not isinstance(pin, int) or isinstance(pin, bool) or not 0 <= pin <= 27:
            raise BoardFileError(f"{path}: {key}.pin must be a BCM GPIO number 0..27, got {pin!r}")
        if pin in BUS_PINS:
            raise BoardFileError(f"{path}: {key}.pin {pin} is taken by {BUS_PINS[pin]}")
        if pin in pins_used:
            raise BoardFileError(f"{path}: {key}.pin {pin} is already used by {pins_used[pin]}")
        if output and pin not in SAFE_OUTPUT_PINS:
            raise BoardFileError(f"{path}: {key}.pin {pin}: outputs must be on GPIO 9..27, "
                             "which are pulled low at reset")
        pins_used[pin] = key
        return pin

    def inputs(section: str, roles: tuple[str, ...]) -> dict[str, InputPin]:
        table = r.table(raw, section)
        r.roles(table, section, roles)
        out = {}
        for role in roles:
            key = f"{section}.{role}"
            entry = r.table(table, role, key)
            r.known(entry, key, {"pin", "active", "label"})
            active = r.value(entry, "active", key, str, choices=("low", "high"))
            out[role] = InputPin(role, claim(r.value(entry, "pin", key, int), key, False),
                                 active == "low", r.label(entry, key))
        return out

    buttons = inputs("buttons", BUTTON_ROLES)
    switches = inputs("switches", SWITCH_ROLES)

    tach_table = r.table(raw, "tachometers")
    r.roles(tach_table, "tachometers", TACH_ROLES)
    tachs = {}
    for role in TACH_ROLES:
        key = f"tachometers.{role}"
        entry = r.table(tach_table, role, key)
        r.known(entry, key, {"pin", "pulses_per_turn", "label"})
        ppt = r.number(entry, "pulses_per_turn", key, 1, 256, integer=True)
        tachs[role] = TachPin(role, claim(r.value(entry, "pin", key, int), key, False), ppt,
                              r.label(entry, key))

    out_table = r.table(raw, "outputs")
    r.roles(out_table, "outputs", OUTPUT_ROLES)
    outputs = {}
    for role in OUTPUT_ROLES:
        key = f"outputs.{role}"
        entry = r.table(out_table, role, key)
        r.known(entry, key, {"pin", "kind", "frequency", "label"})
        kind = r.value(entry, "kind", key, str, choices=("pwm", "digital"))
        freq = entry.get("frequency")
        if kind == "pwm" or freq is not None:
            low, high = PWM_FREQUENCIES
            freq = r.number(entry, "frequency", key, low, high,
                            unit="Hz (a pwm output: the Pi's GPIO libraries, lgpio and "
                            "RPi.GPIO over it, make PWM in software up to 10 kHz)")
        outputs[role] = OutputPin(role, claim(r.value(entry, "pin", key, int), key, True),
                                  kind == "pwm", float(freq) if freq else None,
                                  r.label(entry, key))
    if not outputs["motor"].pwm:
        raise BoardFileError(f"{path}: outputs.motor.kind must be \"pwm\" "
                             "(the motor speed is a duty)")

    i2c_table = r.table(raw, "i2c")
    r.roles(i2c_table, "i2c", I2C_ROLES, extra={"bus"})
    bus = r.number(i2c_table, "bus", "i2c", 0, 31, integer=True)
    i2c = {}
    addresses: dict[int, str] = {}
    for role in I2C_ROLES:
        key = f"i2c.{role}"
        entry = r.table(i2c_table, role, key)
        r.known(entry, key, {"chip", "address"})
        addr = r.number(entry, "address", key, 0, 0xFFFF, integer=True)
        if not 0x08 <= addr <= 0x77:
            raise BoardFileError(f"{path}: {key}.address 0x{addr:02x} is out of the 7-bit range "
                             "0x08..0x77")
        if addr in addresses:
            raise BoardFileError(f"{path}: {key}.address 0x{addr:02x} is already used by "
                             f"{addresses[addr]}")
        addresses[addr] = key
        i2c[role] = I2CDevice(role, r.value(entry, "chip", key, str), addr)

    led_table = r.table(raw, "leds")
    r.roles(led_table, "leds", LED_ROLES, extra={"driver"})
    led_driver = r.value(led_table, "driver", "leds", str, choices=tuple(i2c))
    leds = {}
    channels: dict[int, str] = {}
    for role in LED_ROLES:
        key = f"leds.{role}"
        entry = r.table(led_table, role, key)
        r.known(entry, key, {"channel", "label"})
        ch = r.number(entry, "channel", key, 0, 15, integer=True)
        if not 0 <= ch <= 15 or ch in channels:
            raise BoardFileError(f"{path}: {key}.channel must be a free channel 0..15, got {ch}")
        channels[ch] = key
        leds[role] = Led(role, ch, r.label(entry, key))

    alsa = r.table(raw, "alsa")
    r.known(alsa, "alsa", {"capture", "playback", "rate", "channels", "capture_format",
                           "playback_format"})
    formats = ("S16_LE", "S32_LE")
    alsa_desc = Alsa(
        r.value(alsa, "capture", "alsa", str), r.value(alsa, "playback", "alsa", str),
        r.value(alsa, "rate", "alsa", int, choices=(44100, 48000)),
        r.value(alsa, "channels", "alsa", int, choices=(2,)),
        r.value(alsa, "capture_format", "alsa", str, choices=formats),
        r.value(alsa, "playback_format", "alsa", str, choices=formats),
    )

    mech = r.table(raw, "mechanism")
    numbers = ("nominal_speed", "hub_radius", "leader", "play_duty", "motor_time_constant",
               "wind_spindle_rpm", "wind_duty")
    r.known(mech, "mechanism", {"profile", "cassettes", "crp42602y", "mechanical", *numbers})
    values = {name: r.number(mech, name, "mechanism", *MECHANISM_RANGES[name])
              for name in numbers}
    cass_table = r.table(mech, "cassettes", "mechanism")
    r.roles(cass_table, "mechanism.cassettes", CASSETTE_LENGTHS)
    cassettes = {}
    for length in CASSETTE_LENGTHS:
        key = f"mechanism.cassettes.{length}"
        entry = r.table(cass_table, length, key)
        r.known(entry, key, {"minutes", "thickness"})
        minutes = r.number(entry, "minutes", key, 1, 120, unit="minutes per side")
        thickness = r.number(entry, "thickness", key, 3e-6, 40e-6, unit="m")
        cassettes[length] = CassetteSpec(length, minutes, thickness)
    if "profile" not in mech:
        raise r.fail("missing mechanism.profile")
    role_pins = {who: pin for pin, who in pins_used.items()}
    try:
        profile = profile_name("mechanism.profile", mech["profile"])
        tables = {name: parse_profile_table(name, mech[name], pins_used, role_pins.get,
                                            BUS_PINS, SAFE_OUTPUT_PINS)
                  for name in ("crp42602y", "mechanical") if name in mech}
    except ConfigError as exc:
        raise r.fail(str(exc)) from None
    if profile != "reference" and profile not in tables:
        raise r.fail(f"missing [mechanism.{profile}] (the pins and constants of "
                     f"mechanism.profile = \"{profile}\")")
    mechanism = Mechanism(profile=profile, cassettes=cassettes, tables=tables, **values)

    wiring: dict[str, str] = {}
    if "wiring" in raw:  # optional: a description without it still runs the player
        table = r.table(raw, "wiring")
        r.roles(table, "wiring", WIRE_KINDS)
        wiring = {kind: r.value(table, kind, "wiring", str, choices=WIRE_COLOURS)
                  for kind in WIRE_KINDS}

    nr = None
    if "nr" in raw:  # optional: without it the reference level defaults to -12 dBFS
        table = r.table(raw, "nr")
        limits = {"head_output_mv": (0.01, 10.0), "preamp_gain_db": (0.0, 90.0),
                  "adc_full_scale_vrms": (0.1, 10.0)}
        r.known(table, "nr", set(limits))
        got = {name: float(r.number(table, name, "nr", lo, hi))
               for name, (lo, hi) in limits.items()}
        nr = NoiseReduction(**got)
        if not -40.0 <= nr.reference_dbfs <= -1.0:
            raise BoardFileError(f"{path}: [nr] puts the reference level at "
                             f"{nr.reference_dbfs:.1f} dBFS; it must be -40..-1 dBFS "
                             "(check nr.preamp_gain_db)")

    pulls, library = "internal", "auto"
    if "gpio" in raw:  # optional: the reference build uses the Pi's own pulls
        table = r.table(raw, "gpio")
        r.known(table, "gpio", {"pulls", "library"})
        if "pulls" in table:
            pulls = r.value(table, "pulls", "gpio", str, choices=PULLS)
        if "library" in table:
            library = r.value(table, "library", "gpio", str, choices=GPIO_LIBRARIES)

    return BoardDescription(
        name=r.value(board, "name", "board", str),
        compatible=r.value(board, "compatible", "board", str),
        computer=r.value(board, "computer", "board", str),
        buttons=buttons, switches=switches, tachometers=tachs, outputs=outputs, leds=leds,
        led_driver=led_driver, i2c_bus=bus, i2c=i2c, alsa=alsa_desc, mechanism=mechanism,
        source=path, wiring=wiring, nr=nr, pulls=pulls, gpio_library=library,
    )


class _Reader:
    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def fail(self, msg: str) -> BoardFileError:
        return BoardFileError(f"{self.where}: {msg}")

    def table(self, parent: dict[str, Any], name: str, key: str | None = None) -> dict[str, Any]:
        key = key or name
        if name not in parent:
            raise self.fail(f"missing [{key}]")
        value = parent[name]
        if not isinstance(value, dict):
            raise self.fail(f"{key} must be a table")
        return value

    def known(self, table: dict[str, Any], key: str, allowed: set[str]) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                raise self.fail(f"unknown key {where} (known: {', '.join(sorted(allowed))})")

    def roles(self, table: dict[str, Any], key: str, roles: tuple[str, ...],
              extra: set[str] = frozenset()) -> None:
        for name in table:
            if name not in roles and name not in extra:
                raise self.fail(f"unknown role {key}.{name} (roles: {', '.join(roles)})")
        for role in roles:
            if role not in table:
                raise self.fail(f"missing role {key}.{role}")

    def number(self, table: dict[str, Any], name: str, key: str, lo: float, hi: float,
               above: bool = False, unit: str = "", integer: bool = False) -> Any:
        """A finite number in range, or a BoardFileError naming the file and the key."""
        if name not in table:
            raise self.fail(f"missing {key}.{name}")
        try:
            return schema.number(lo, hi, integer=integer, above=above,
                                 unit=unit)(f"{key}.{name}", table[name])
        except ConfigError as exc:
            raise self.fail(str(exc)) from None

    def label(self, entry: dict[str, Any], key: str) -> str:
        v = entry.get("label", "")
        if not isinstance(v, str) or len(v) > 200 or any(ord(c) < 32 for c in v):
            raise self.fail(f"{key}.label = {schema._show(v)}: must be a line of text")
        return v

    def value(self, table: dict[str, Any], name: str, key: str, kind: Any,
              choices: tuple[Any, ...] | None = None) -> Any:
        if name not in table:
            raise self.fail(f"missing {key}.{name}")
        v = table[name]
        if isinstance(v, bool) or not isinstance(v, kind):
            raise self.fail(f"{key}.{name} has the wrong type: {v!r}")
        if choices is not None and v not in choices:
            raise self.fail(f"{key}.{name} must be one of {', '.join(map(str, choices))}, "
                            f"got {v!r}")
        return v
