"""The daemon's TOML configuration, with defaults for the reference build.

    [player]  board = "pi" | "sim", period = 1024, state_dir = "/var/lib/capstan",
              socket = "" (the control socket; "" = /run/capstan/control.sock on the Pi)
    [audio]   volume = 0.7
    [transport] auto_rewind = false, pause_on_headphones_lost = true
    [bluetooth] enabled = true (headphones; the Pi's system bus)
    [usb]     gadget = "off" | "audio" | "storage" | "both" (the USB-C port: docs/usb.md)
    [intelligence] digitize = false, digitize_dir = "" (= <state_dir>/tapes),
              digitize_format = "flac" | "wav", speed_trim = true (docs/tape-intelligence.md)

Unknown keys, values of the wrong type or out of range are errors that name the file
and the key (docs/configuration.md lists what each key accepts).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from capstan import schema as sc
from capstan.errors import ConfigError

DEFAULTS: dict[str, dict[str, Any]] = {
    "player": {"board": "pi", "period": 1024, "state_dir": "/var/lib/capstan",
               "board_file": "", "socket": ""},
    "audio": {"volume": 0.7},
    "transport": {"auto_rewind": False, "pause_on_headphones_lost": True},
    "bluetooth": {"enabled": True},
    "usb": {"gadget": "off"},
    "intelligence": {"digitize": False, "digitize_dir": "", "digitize_format": "flac",
                     "speed_trim": True},
    # [power] takes capstan.power.config.PowerConfig's keys; empty: its defaults.
    "power": {},
}


# What each key accepts (docs/configuration.md lists the same ranges).
SCHEMA: dict[str, dict[str, sc.Checker]] = {
    "player": {"board": sc.choice("pi", "sim"),
               "period": sc.number(64, 16384, integer=True, unit="frames"),
               "state_dir": sc.text, "board_file": sc.text_or_empty,
               "socket": sc.text_or_empty},
    "audio": {"volume": sc.number(0, 1)},
    "transport": {"auto_rewind": sc.flag, "pause_on_headphones_lost": sc.flag},
    "bluetooth": {"enabled": sc.flag},
    "usb": {"gadget": sc.choice("off", "audio", "storage", "both")},
    "intelligence": {"digitize": sc.flag, "digitize_dir": sc.text_or_empty,
                     "digitize_format": sc.choice("flac", "wav"), "speed_trim": sc.flag},
}
# [power]: each key's range here; PowerConfig then checks how they relate to each other.
_CURRENT = sc.number(0, 10, unit="A")
POWER_SCHEMA: dict[str, sc.Checker] = {
    "poll_interval": sc.number(0, 3600, above=True, unit="s"),
    "warning_percent": sc.number(0, 100, above=True, unit="%"),
    "warning_rearm": sc.number(0, 50, unit="%"),
    "critical_percent": sc.number(0, 100, above=True, unit="%"),
    "critical_voltage": sc.number(2.5, 4.5, unit="V"),
    "confirm_readings": sc.number(1, 100, integer=True),
    "unknown_after": sc.number(1, 100, integer=True),
    "soc_time_constant": sc.number(0, 3600, unit="s"),
    "capacity_mah": sc.number(0, 100_000, above=True, unit="mAh"),
    "typical_current": lambda key, v: sc.table(
        {"wired": _CURRENT, "bluetooth": _CURRENT, "recording": _CURRENT}, key, v,
        required=("wired", "bluetooth", "recording")),
    "finish_margin": sc.number(0, 10),
    "watchdog_timeout": sc.number(0, 160, unit="s"),
    "kick_interval": sc.number(0, 160, above=True, unit="s"),
    "input_current_limit": sc.number(0, 5, above=True, unit="A"),
    "charge_current_limit": sc.number(0, 5, above=True, unit="A"),
    "io_attempts": sc.number(1, 100, integer=True),
    "io_backoff": sc.number(0, 10, unit="s"),
    "shutdown_timeout": sc.number(0, 600, above=True, unit="s"),
}


def load_config(path: Path | str | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The defaults, then the file, then the overrides; any mistake is a ConfigError naming
    the file (or "command line") and the key, before anything is used."""
    config = copy.deepcopy(DEFAULTS)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path:
        layers.append((str(path), sc.read_toml(path, "configuration file")))
    if overrides:
        layers.append(("command line", overrides))
    for where, layer in layers:
        try:
            _apply(config, layer)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return config


def _apply(config: dict[str, dict[str, Any]], layer: dict[str, Any]) -> None:
    for section, values in layer.items():
        if section not in config:
            raise ConfigError(f"unknown section [{section}] (known: {', '.join(config)})")
        if section == "power":
            from capstan.power.config import PowerConfig

            checked = sc.table(POWER_SCHEMA, "power", values)
            merged = {**config["power"], **checked}
            PowerConfig.from_dict(merged)  # how the values relate, named on error
            config["power"] = merged
            continue
        config[section].update(sc.table(SCHEMA[section], section, values))
