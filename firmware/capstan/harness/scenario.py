"""Scenario files: a scripted session on the simulated deck (see docs/scenarios.md).

Parsing is strict (capstan.schema): an unknown key, a value of the wrong type or out of
range, a missing or unreadable WAV is a ConfigError naming the file and the key, and
nothing runs. The accepted ranges are in docs/scenarios.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capstan import schema as sc
from capstan.bluetooth.pairing import WINDOW
from capstan.bluetooth.remote import REMOTE_BUTTONS
from capstan.devices.buttons import PAIR_HOLD
from capstan.errors import ConfigError
from capstan.hardware.capabilities import REVERSE_MODES
from capstan.hardware.description import BUTTON_ROLES, CASSETTE_LENGTHS, Mechanism, load_board
from capstan.hardware.profiles import profile_name
from capstan.sim.deck import FAULTS
from capstan.wavfile import WavError, probe_wav

ACTIONS = ("press", "hold", "insert", "eject", "flip", "fault", "headphones",
           "headphones_button", "headphones_volume", "key")
KEYS = ("play", "ff", "rew", "rec", "stop")  # a mechanical mechanism's keys
# the steps a scenario on another profile than the reference can take (harness/profile_runner.py)
PROFILE_STEPS = ("press", "hold", "insert", "eject", "key", "fault")
PROFILE_FAULTS = ("stall_take_up", "release_reels", "gear_jam")
REMOTE_STEPS = ("headphones_button", "headphones_volume")  # need connected headphones


@dataclass
class Step:
    at: float
    action: str
    value: Any = True
    duration: float = 0.0  # `for` of a hold
    bounce: float = 0.0  # seconds of contact bounce on press and release
    address: str = ""  # the headphones a headphones* step acts on ("": the connected ones)


@dataclass
class Scenario:
    path: Path
    cassette: dict[str, Any] | None = None
    line_in: dict[str, Any] | None = None
    battery: dict[str, Any] = field(default_factory=lambda: {"percent": 80.0, "charger": False})
    headphones: list[dict[str, Any]] = field(default_factory=list)
    until: float = 60.0
    steps: list[Step] = field(default_factory=list)
    mechanism: str | None = None  # [board] mechanism: the profile (None: the board file's)
    reverse: str | None = None  # [board] reverse (None: the board file's)


MAX_UNTIL = 4 * 3600.0  # s of simulated time: a C120 both ways with room; jack.wav < 4 GiB
_time = sc.number(0, MAX_UNTIL, unit="s")


def _sides(key: str, v: Any) -> list[str]:
    return sc.list_of(sc.choice("A", "B"), max_items=2)(key, v)


def _address(key: str, v: Any) -> str:
    parts = v.split(":") if isinstance(v, str) else []
    if len(parts) != 6 or any(len(p) != 2 or any(c not in "0123456789ABCDEFabcdef" for c in p)
                              for p in parts):
        raise ConfigError(f"{key} = {sc._show(v)}: must be a Bluetooth address like "
                          "00:1B:66:AA:BB:CC")
    return v.upper()


SCHEMA: dict[str, dict[str, sc.Checker]] = {
    "cassette": {"length": sc.choice(*CASSETTE_LENGTHS), "type": sc.choice("I", "II", "IV"),
                 "side": sc.choice("A", "B"), "position": sc.number(0, 7300, unit="s"),
                 "protected": _sides, "side_a": sc.text, "side_b": sc.text,
                 "speed_error": sc.number(-0.2, 0.2), "flutter": sc.number(0, 5, unit="%"),
                 "name": sc.text},
    "line_in": {"file": sc.text, "at": _time},
    "battery": {"percent": sc.number(0, 100, unit="%"), "charger": sc.flag},
    "headphones": {"name": sc.text, "address": _address, "pairing_at": _time},
    "run": {"until": sc.number(0.001, MAX_UNTIL, unit="s")},
    "board": {"mechanism": profile_name, "reverse": sc.choice(*REVERSE_MODES)},
}
STEP_KEYS: dict[str, sc.Checker] = {
    "at": _time, "press": sc.choice(*BUTTON_ROLES), "hold": sc.choice(*BUTTON_ROLES),
    "for": sc.number(0, 3600, unit="s"), "insert": sc.true_only, "eject": sc.true_only,
    "flip": sc.true_only, "fault": sc.choice(*FAULTS),
    "bounce": sc.number(0, 0.05, unit="s"),
    "headphones": sc.choice("drop", "back", "stranger"),
    "headphones_button": sc.choice(*REMOTE_BUTTONS), "headphones_volume": sc.number(0, 1),
    "address": _address, "key": sc.choice(*KEYS)}


def _table(name: str, raw: Any, files_from: Path) -> dict[str, Any]:
    out = sc.table(SCHEMA[name], name, raw)
    for key in ("side_a", "side_b", "file"):
        if key in out:
            path = (files_from / out[key]).resolve()
            try:
                info = probe_wav(path)  # before anything runs
            except WavError as exc:
                raise WavError(f"{name}.{key}: {exc}") from None
            out[key] = path
            out[key + "_seconds"] = info.seconds
    return out


def parse_scenario(text: str, path: Path, mechanism: Mechanism | None = None) -> Scenario:
    """A Scenario, or a ConfigError naming the file and the key (nothing has run)."""
    try:
        return _parse(sc.parse_toml(text.encode(), str(path)), path, mechanism)
    except ConfigError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith(f"{path}:") else f"{path}: {msg}") from None


def _parse(raw: dict[str, Any], path: Path, mechanism: Mechanism | None) -> Scenario:
    base = path.parent
    sc_ = Scenario(path)
    for key in raw:
        if key not in (*SCHEMA, "step"):
            raise ConfigError(f"unknown key {key} (known: {', '.join([*SCHEMA, 'step'])})")
    if "cassette" in raw:
        sc_.cassette = {"length": "C60", "type": "I", "side": "A", "position": 0.0,
                        "protected": [], "speed_error": 0.0, "flutter": 0.0,
                        **_table("cassette", raw["cassette"], base)}
        _fits(sc_.cassette, mechanism or load_board().mechanism)
    if "line_in" in raw:
        sc_.line_in = {"at": 0.0, **_table("line_in", raw["line_in"], base)}
        if "file" not in sc_.line_in:
            raise ConfigError("line_in.file is missing")
        sc_.line_in.pop("file_seconds")
    if "battery" in raw:
        sc_.battery.update(_table("battery", raw["battery"], base))
    heads = raw.get("headphones", [])
    if not isinstance(heads, list):
        raise ConfigError("headphones must be an array of tables: [[headphones]]")
    for i, h in enumerate(heads):
        entry = _table("headphones", h, base)
        for key in ("name", "address"):
            if key not in entry:
                raise ConfigError(f"headphones[{i}].{key} is missing")
        sc_.headphones.append({"pairing_at": 0.0, **entry})
    if "run" in raw:
        sc_.until = _table("run", raw["run"], base).get("until", sc_.until)
    if "board" in raw:
        chosen = _table("board", raw["board"], base)
        sc_.mechanism, sc_.reverse = chosen.get("mechanism"), chosen.get("reverse")
    profile = sc_.mechanism or (mechanism or load_board().mechanism).profile
    steps = raw.get("step", [])
    if not isinstance(steps, list):
        raise ConfigError("step must be an array of tables: [[step]]")
    for i, s in enumerate(steps):
        step = _step(i, s)
        if step.at > sc_.until:
            raise ConfigError(f"step[{i}].at = {step.at:g} is after run.until = "
                              f"{sc_.until:g}: it would never happen")
        if step.action == "key" and profile != "mechanical":
            raise ConfigError(f"step[{i}].key: keys belong to a mechanism moved by hand "
                              '([board] mechanism = "mechanical")')
        if step.action == "fault":
            known = (PROFILE_FAULTS if profile == "crp42602y" else PROFILE_FAULTS[:2]
                     if profile == "mechanical" else
                     tuple(f for f in FAULTS if f not in PROFILE_FAULTS[2:]))
            if step.value not in known:
                raise ConfigError(f'step[{i}].fault = "{step.value}": not a fault of the '
                                  f"simulated {profile} mechanism (its faults: "
                                  f"{', '.join(known)})")
        if profile != "reference" and step.action not in PROFILE_STEPS:
            raise ConfigError(f"step[{i}].{step.action}: not simulated with the {profile} "
                              f"mechanism (its steps: {', '.join(PROFILE_STEPS)})")
        sc_.steps.append(step)
    for name in ("line_in", "headphones"):
        if raw.get(name) and profile != "reference":
            raise ConfigError(f"{name}: not simulated with the {profile} mechanism (its "
                              "scenarios drive the transport, without audio)")
    if sc_.reverse and profile != "crp42602y":
        raise ConfigError(f'board.reverse = "{sc_.reverse}": only an auto-reverse mechanism '
                          '([board] mechanism = "crp42602y") turns the side')
    _check_remote_steps(sc_)
    sc_.steps.sort(key=lambda s: s.at)
    return sc_


def _fits(cassette: dict[str, Any], mechanism: Mechanism) -> None:
    """Refuse a position past the tape's end and audio longer than a side."""
    spec = mechanism.cassettes[cassette["length"]]
    duration = spec.minutes * 60.0 + 2 * mechanism.leader
    if cassette["position"] > duration:
        raise ConfigError(f"cassette.position = {cassette['position']:g}: a "
                          f"{cassette['length']} side is {duration:g} s long (leaders "
                          "included)")
    for key in ("side_a", "side_b"):
        seconds = cassette.pop(key + "_seconds", None)
        if seconds is not None and seconds > spec.minutes * 60.0:
            raise ConfigError(f"cassette.{key}: {cassette[key]} is {seconds / 60:.1f} min "
                              f"long; a {cassette['length']} side holds {spec.minutes:g} min")


def _check_remote_steps(scenario: Scenario) -> None:
    """A headphones_button/headphones_volume step needs headphones that can be connected by
    then: among [[headphones]], in pairing mode and paired by a PAIR hold before it (the
    simulated player remembers no headphones at the start)."""
    holds = [st.at + PAIR_HOLD for st in scenario.steps
             if st.action == "hold" and st.value == "pair" and st.duration >= PAIR_HOLD]
    for i, st in enumerate(scenario.steps):
        if st.action not in REMOTE_STEPS:
            continue
        where = f"step[{i}].{st.action}"
        if not scenario.headphones:
            raise ConfigError(f"{where}: the scenario has no [[headphones]] to connect")
        known = [h["address"] for h in scenario.headphones]
        if st.address and st.address not in known:
            raise ConfigError(f"step[{i}].address: {st.address} is not one of the [[headphones]] "
                              f"({', '.join(known)}): it is never connected")
        heads = [h for h in scenario.headphones if not st.address or h["address"] == st.address]
        earliest = [max(opened, h["pairing_at"]) for h in heads for opened in holds
                    if h["pairing_at"] <= opened + WINDOW]
        if not earliest or min(earliest) > st.at:
            raise ConfigError(
                f"{where} at {st.at:g} s: the headphones are not connected then (hold PAIR, "
                f'hold = "pair" with for >= {PAIR_HOLD:g}, once they are in pairing mode at '
                "pairing_at, and leave them time to pair)")


def _step(i: int, s: Any) -> Step:
    where = f"step[{i}]"
    if not isinstance(s, dict):
        raise ConfigError(f"{where} must be a table")
    values = sc.table(STEP_KEYS, where, s)
    if "at" not in values:
        raise ConfigError(f"{where}.at is missing")
    actions = [a for a in ACTIONS if a in values]
    if len(actions) != 1:
        raise ConfigError(f"{where} needs exactly one action of {', '.join(ACTIONS)}")
    action = actions[0]
    if action == "hold" and "for" not in values:
        raise ConfigError(f"{where}.for is missing (how long to hold, in seconds)")
    if "for" in values and action != "hold":
        raise ConfigError(f"{where}.for goes with hold")
    if action == "headphones" and "address" not in values:
        raise ConfigError(f"{where}.address is missing (which headphones)")
    if "address" in values and action not in ("headphones", *REMOTE_STEPS):
        raise ConfigError(f"{where}.address goes with headphones, headphones_button or "
                          "headphones_volume")
    return Step(values["at"], action, values[action], values.get("for", 0.0),
                values.get("bounce", 0.0), values.get("address", ""))


def load_scenario(path: Path | str, mechanism: Mechanism | None = None) -> Scenario:
    path = Path(path)
    data = sc.read_bytes(path, "scenario")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start})") from None
    return parse_scenario(text, path, mechanism)
