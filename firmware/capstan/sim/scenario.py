"""Scenario files: a scripted session on the simulated deck (see docs/scenarios.md).

Parsing is strict: an unknown key, a bad value or a missing file is a
ConfigError naming the key, and nothing runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capstan.bluetooth.pairing import WINDOW
from capstan.bluetooth.player import PAIR_HOLD
from capstan.bluetooth.remote import REMOTE_BUTTONS
from capstan.board.description import BUTTON_ROLES, CASSETTE_LENGTHS
from capstan.errors import ConfigError
from capstan.sim.deck import FAULTS

ACTIONS = ("press", "hold", "insert", "eject", "flip", "fault", "headphones",
           "headphones_button", "headphones_volume")
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


def _number(lo: float, hi: float) -> Callable[[str, Any], float]:
    def check(key: str, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            raise ConfigError(f"{key} must be a number from {lo:g} to {hi:g}, got {v!r}")
        return float(v)
    return check


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def check(key: str, v: Any) -> str:
        if v not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {v!r}")
        return v
    return check


def _bool(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{key} must be true or false, got {v!r}")
    return v


def _text(key: str, v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ConfigError(f"{key} must be a non-empty string, got {v!r}")
    return v


def _sides(key: str, v: Any) -> list[str]:
    if not isinstance(v, list) or any(s not in ("A", "B") for s in v):
        raise ConfigError(f'{key} must be a list of sides, e.g. ["B"], got {v!r}')
    return v


def _address(key: str, v: Any) -> str:
    parts = v.split(":") if isinstance(v, str) else []
    if len(parts) != 6 or any(len(p) != 2 or any(c not in "0123456789ABCDEFabcdef" for c in p)
                              for p in parts):
        raise ConfigError(f"{key} must be a Bluetooth address like 00:1B:66:AA:BB:CC, got {v!r}")
    return v.upper()


SCHEMA: dict[str, dict[str, Callable[[str, Any], Any]]] = {
    "cassette": {"length": _choice(*CASSETTE_LENGTHS), "type": _choice("I", "II", "IV"),
                 "side": _choice("A", "B"), "position": _number(0, 7300), "protected": _sides,
                 "side_a": _text, "side_b": _text, "speed_error": _number(-0.2, 0.2),
                 "flutter": _number(0, 5), "name": _text},
    "line_in": {"file": _text, "at": _number(0, 1e6)},
    "battery": {"percent": _number(0, 100), "charger": _bool},
    "headphones": {"name": _text, "address": _address, "pairing_at": _number(0, 1e6)},
    "run": {"until": _number(0.001, 1e6)},
}
STEP_KEYS = {"at": _number(0, 1e6), "press": _choice(*BUTTON_ROLES),
             "hold": _choice(*BUTTON_ROLES), "for": _number(0, 3600), "insert": _bool,
             "eject": _bool, "flip": _bool, "fault": _choice(*FAULTS),
             "bounce": _number(0, 0.05), "headphones": _choice("drop", "back", "stranger"),
             "headphones_button": _choice(*REMOTE_BUTTONS), "headphones_volume": _number(0, 1),
             "address": _address}


def _table(name: str, raw: Any, files_from: Path) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    out = {}
    for key, value in raw.items():
        if key not in SCHEMA[name]:
            raise ConfigError(f"unknown key {name}.{key} (known: {', '.join(SCHEMA[name])})")
        out[key] = SCHEMA[name][key](f"{name}.{key}", value)
    for key in ("side_a", "side_b", "file"):
        if key in out:
            path = (files_from / out[key]).resolve()
            if not path.is_file():
                raise ConfigError(f"{name}.{key}: no such file {path}")
            out[key] = path
    return out


def parse_scenario(text: str, path: Path) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    base = path.parent
    sc = Scenario(path)
    for key in raw:
        if key not in (*SCHEMA, "step"):
            raise ConfigError(f"unknown key {key} (known: {', '.join([*SCHEMA, 'step'])})")
    if "cassette" in raw:
        sc.cassette = {"length": "C60", "type": "I", "side": "A", "position": 0.0,
                       "protected": [], "speed_error": 0.0, "flutter": 0.0,
                       **_table("cassette", raw["cassette"], base)}
    if "line_in" in raw:
        sc.line_in = {"at": 0.0, **_table("line_in", raw["line_in"], base)}
        if "file" not in sc.line_in:
            raise ConfigError("line_in.file is missing")
    if "battery" in raw:
        sc.battery.update(_table("battery", raw["battery"], base))
    heads = raw.get("headphones", [])
    if not isinstance(heads, list):
        raise ConfigError("headphones must be an array of tables: [[headphones]]")
    for i, h in enumerate(heads):
        entry = _table("headphones", h, base)
        for key in ("name", "address"):
            if key not in entry:
                raise ConfigError(f"headphones[{i}].{key} is missing")
        sc.headphones.append({"pairing_at": 0.0, **entry})
    if "run" in raw:
        sc.until = _table("run", raw["run"], base).get("until", sc.until)
    steps = raw.get("step", [])
    if not isinstance(steps, list):
        raise ConfigError("step must be an array of tables: [[step]]")
    for i, s in enumerate(steps):
        sc.steps.append(_step(i, s))
    _check_remote_steps(sc)
    sc.steps.sort(key=lambda s: s.at)
    return sc


def _check_remote_steps(sc: Scenario) -> None:
    """A headphones_button/headphones_volume step needs headphones that can be connected by
    then: among [[headphones]], in pairing mode and paired by a PAIR hold before it (the
    simulated player remembers no headphones at the start)."""
    holds = [st.at + PAIR_HOLD for st in sc.steps
             if st.action == "hold" and st.value == "pair" and st.duration >= PAIR_HOLD]
    for i, st in enumerate(sc.steps):
        if st.action not in REMOTE_STEPS:
            continue
        where = f"step[{i}].{st.action}"
        if not sc.headphones:
            raise ConfigError(f"{where}: the scenario has no [[headphones]] to connect")
        known = [h["address"] for h in sc.headphones]
        if st.address and st.address not in known:
            raise ConfigError(f"step[{i}].address: {st.address} is not one of the [[headphones]] "
                              f"({', '.join(known)}): it is never connected")
        heads = [h for h in sc.headphones if not st.address or h["address"] == st.address]
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
    values = {}
    for key, value in s.items():
        if key not in STEP_KEYS:
            raise ConfigError(f"unknown key {where}.{key} (known: {', '.join(STEP_KEYS)})")
        values[key] = STEP_KEYS[key](f"{where}.{key}", value)
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


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the scenario ({exc.strerror})") from None
    return parse_scenario(text, path)
