"""The mechanism profiles of hardware/board.toml: which mechanism is fitted, its pins and constants.

`[mechanism] profile` names it: "reference" (the reference build's motor, head
solenoid and idler; "direct-drive" is its former name), "crp42602y" (the
solenoid-sequenced auto-reverse mechanism) or "mechanical" (a walkman's keys move
the mechanism by hand). A profile other than the reference reads its own table,
`[mechanism.crp42602y]` or `[mechanism.mechanical]`; the pins in it may be those of
the reference's parts it replaces (FREES), never another pin in use. Every value is
checked by the declarative checkers of capstan.schema; refusals name the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from capstan import schema
from capstan.errors import ConfigError
from capstan.hardware.capabilities import REVERSE_MODES, Capabilities

PROFILES = ("reference", "crp42602y", "mechanical")
ALIASES = {"direct-drive": "reference"}

CAPABILITIES = {
    "reference": Capabilities(auto_reverse=False, cueing=True, by_hand=False),
    "crp42602y": Capabilities(auto_reverse=True, cueing=True, by_hand=False),
    "mechanical": Capabilities(auto_reverse=False, cueing=True, by_hand=True),
}

# the reference's parts a profile does without: their pins are free for the profile's signals
FREES = {
    "crp42602y": ("outputs.head_solenoid", "outputs.wind_idler", "outputs.motor_reverse",
                  "switches.cassette_in", "switches.tab_a", "switches.tab_b",
                  "tachometers.take_up", "tachometers.supply"),
    "mechanical": ("outputs.head_solenoid", "outputs.wind_idler", "outputs.motor_reverse",
                   "buttons.play", "buttons.stop", "buttons.ff", "buttons.rew", "buttons.rec",
                   "tachometers.take_up", "tachometers.supply"),
}

# signal -> is it an output (driven by the Pi)?
SIGNALS = {
    "crp42602y": {"solenoid": True, "gear_status_sw": False, "rotation_sens": False,
                  "cassette_detect_sw": False, "rec_a_sw": False, "rec_b_sw": False},
    "mechanical": {"key_play": False, "key_ff": False, "key_rew": False, "key_rec": False,
                   "rotation_sens": False},
}

_S = schema.number
CONSTANTS: dict[str, dict[str, Callable[[str, Any], Any]]] = {
    "crp42602y": {
        "unhook": _S(0.005, 0.1, unit="s"),
        "head_dir_end": _S(0.02, 0.3, unit="s"),
        "lift_start": _S(0.05, 0.4, unit="s"),
        "lift_end": _S(0.1, 0.6, unit="s"),
        "reel_end": _S(0.15, 0.8, unit="s"),
        "return_pull": _S(0.005, 0.1, unit="s"),
        "return_turn": _S(0.1, 0.8, unit="s"),
        "margin": _S(0.0, 0.2, unit="s"),
        "retries": _S(0, 3, integer=True),
        "pulses_per_turn": _S(1, 64, integer=True),
        "stop_window": _S(0.1, 1.0, unit="s"),
        "reverse": schema.choice(*REVERSE_MODES),
        "record_on_b": schema.flag,
    },
    "mechanical": {
        "pulses_per_turn": _S(1, 64, integer=True),
        "stop_window": _S(0.1, 0.5, unit="s"),
    },
}

OPTIONAL = {"record_on_b": True}  # constants a table may leave out: their defaults


@dataclass(frozen=True)
class Signal:
    name: str
    pin: int
    active_low: bool
    output: bool
    label: str = ""


@dataclass(frozen=True)
class ProfileTable:
    """A profile's own pins and constants, as checked."""

    profile: str
    signals: dict[str, Signal]
    constants: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["constants"][name]
        except KeyError:
            raise AttributeError(name) from None


def profile_name(key: str, value: Any) -> str:
    """`[mechanism] profile`: one of PROFILES (or an alias)."""
    value = ALIASES.get(value, value) if isinstance(value, str) else value
    return schema.choice(*PROFILES)(key, value)


def _signal_entry(key: str, v: Any, output: bool) -> dict[str, Any]:
    fields: dict[str, Callable[[str, Any], Any]] = {
        "pin": _S(0, 27, integer=True, unit="(a BCM GPIO number)"),
        "label": schema.text_or_empty,
    }
    if not output:
        fields["active"] = schema.choice("low", "high")
    return schema.table(fields, key, v, required=("pin",) if output else ("pin", "active"))


def parse_profile_table(profile: str, raw: Any, pins_used: dict[int, str],
                        pin_of: Callable[[str], int | None], bus_pins: dict[int, str],
                        safe_outputs: range) -> ProfileTable:
    """Check `[mechanism.<profile>]`; raise ConfigError naming the key."""
    key = f"mechanism.{profile}"
    signals_spec, consts = SIGNALS[profile], CONSTANTS[profile]
    fields: dict[str, Callable[[str, Any], Any]] = dict(consts)
    for name, output in signals_spec.items():
        fields[name] = lambda k, v, out=output: _signal_entry(k, v, out)
    checked = schema.table(fields, key, raw,
                           required=(*signals_spec, *(c for c in consts if c not in OPTIONAL)))
    freed = {p for p in (pin_of(role) for role in FREES[profile]) if p is not None}
    taken = {p: who for p, who in pins_used.items() if p not in freed}
    own: dict[int, str] = {}
    signals = {}
    for name, output in signals_spec.items():
        entry, where = checked[name], f"{key}.{name}"
        pin = entry["pin"]
        if pin in bus_pins:
            raise ConfigError(f"{where}.pin {pin} is taken by {bus_pins[pin]}")
        if pin in own:
            raise ConfigError(f"{where}.pin {pin} is already used by {own[pin]}")
        if pin in taken:
            raise ConfigError(f"{where}.pin {pin} is already used by {taken[pin]} "
                              f"(free for this profile: {', '.join(FREES[profile])})")
        if output and pin not in safe_outputs:
            raise ConfigError(f"{where}.pin {pin}: outputs must be on GPIO 9..27, which are "
                              "pulled low at reset")
        own[pin] = where
        signals[name] = Signal(name, pin, entry.get("active", "high") == "low", output,
                               entry.get("label", ""))
    constants = {name: checked.get(name, OPTIONAL.get(name)) for name in consts}
    if profile == "crp42602y":
        order = ("unhook", "head_dir_end", "lift_start", "lift_end", "reel_end")
        for a, b in pairwise(order):
            if not constants[a] < constants[b]:
                raise ConfigError(f"{key}.{b} = {constants[b]:g}: must come after "
                                  f"{key}.{a} ({constants[a]:g} s)")
    return ProfileTable(profile, signals, constants)
