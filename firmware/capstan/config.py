"""The daemon's TOML configuration, with defaults for the reference build.

    [player]  board = "pi" | "sim", period = 1024, state_dir = "/var/lib/capstan",
              socket = "" (the control socket; "" = /run/capstan/control.sock on the Pi)
    [audio]   volume = 0.7
    [transport] auto_rewind = false, pause_on_headphones_lost = true
    [bluetooth] enabled = true (headphones; the Pi's system bus)
    [intelligence] digitize = false, digitize_dir = "" (= <state_dir>/tapes),
              digitize_format = "flac" | "wav", speed_trim = true (docs/tape-intelligence.md)

Unknown keys are errors that name the key.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from capstan.errors import ConfigError

DEFAULTS: dict[str, dict[str, Any]] = {
    "player": {"board": "pi", "period": 1024, "state_dir": "/var/lib/capstan",
               "board_file": "", "socket": ""},
    "audio": {"volume": 0.7},
    "transport": {"auto_rewind": False, "pause_on_headphones_lost": True},
    "bluetooth": {"enabled": True},
    "intelligence": {"digitize": False, "digitize_dir": "", "digitize_format": "flac",
                     "speed_trim": True},
    # [power] takes capstan.power.config.PowerConfig's keys; empty: its defaults.
    "power": {},
}


def load_config(path: Path | str | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    config = copy.deepcopy(DEFAULTS)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path:
        try:
            layers.append((str(path), tomllib.loads(Path(path).read_text())))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if overrides:
        layers.append(("command line", overrides))
    for where, layer in layers:
        for section, values in layer.items():
            if section not in config:
                raise ConfigError(f"{where}: unknown section [{section}] "
                                  f"(known: {', '.join(config)})")
            if section == "power":  # checked (and named on error) by PowerConfig
                from capstan.power.config import PowerConfig

                PowerConfig.from_dict({**config["power"], **values})
                config["power"].update(values)
                continue
            for key, value in values.items():
                if key not in config[section]:
                    raise ConfigError(f"{where}: unknown key {section}.{key}")
                default = config[section][key]
                if type(default) is not type(value) and not (
                        isinstance(default, float) and isinstance(value, int)):
                    raise ConfigError(f"{where}: {section}.{key} must be a "
                                      f"{type(default).__name__}, got {value!r}")
                config[section][key] = value
    if config["player"]["board"] not in ("pi", "sim"):
        raise ConfigError("player.board must be \"pi\" or \"sim\"")
    return config
