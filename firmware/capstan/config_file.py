"""/etc/capstan/capstan.toml, the complete commented configuration, and `capstan config`.

The values come from the one place the defaults are defined (capstan.config.DEFAULTS and
capstan.power.config.PowerConfig); this module only adds the words: what each key does
and what it accepts. `render()` refuses a default without words and words without a
default, so the file cannot drift from the code (system/capstan.toml is its output,
checked by a test). Every key is written commented out at its default: uncommenting a
line and changing its value is how a builder changes a setting.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any

# section -> key -> (what it accepts, what it does); "{range}" stands for what the key's
# checker in capstan.config (SCHEMA, POWER_SCHEMA) accepts, so the words follow the code.
HELP: dict[str, dict[str, tuple[str, str]]] = {
    "player": {
        "board": ('"pi" or "sim"', 'The board the daemon drives: "pi" is the Pi\'s GPIO, I2C '
                  'and the "capstan" sound card; "sim" the simulated deck. The systemd unit '
                  "passes --board pi."),
        "period": ("{range}", "Frames per audio block (one ALSA "
                   "period) at 48 kHz: 1024 is 21 ms. Smaller reacts sooner and costs more "
                   "CPU; larger rides out a busier Pi."),
        "state_dir": ("a directory", "Where the player keeps what survives a restart: the "
                      "tape counter, volumes, paired headphones, known cassettes and "
                      "digitized tapes. systemd creates /var/lib/capstan for the daemon."),
        "board_file": ('a file, or "" for the default', "The board description; empty: "
                       "$CAPSTAN_BOARD, else /etc/capstan/board.toml (in a source checkout, "
                       "its hardware/board.toml)."),
        "socket": ('a path, or "" for the default', "The control socket that `capstan "
                   "status` and the other commands talk to; empty: /run/capstan/control.sock "
                   "on the Pi."),
    },
    "audio": {
        "volume": ("{range} (0 is silent, 1 full)", "The jack's volume at start-up "
                   "when none is remembered; VOL+ and VOL- change it 2 dB a step, and the "
                   "level of each output is remembered."),
    },
    "transport": {
        "auto_rewind": ("true or false", "At the end of a played side, rewind it to the "
                        "start (never after a recording)."),
        "pause_on_headphones_lost": ("true or false", "When the Bluetooth headphones drop "
                                     "out, pause the tape (true) or play on to the jack "
                                     "(false)."),
    },
    "bluetooth": {
        "enabled": ("true or false", "Bluetooth headphones (BlueZ and BlueALSA on the system "
                    "bus); false: the jack only."),
    },
    "usb": {
        "gadget": ('"off", "audio", "storage" or "both"', "What the USB-C port is to a "
                   "computer (docs/usb.md): a USB sound card whose recording is the tape as "
                   "it plays (audio), a small drive that takes update bundles (storage), "
                   "both, or nothing (off). Needs the dwc2 overlay in config.txt."),
    },
    "intelligence": {
        "digitize": ("true or false", "Write what plays to files, one per track, as it "
                     "plays (docs/tape-intelligence.md, Digitizing)."),
        "digitize_dir": ('a directory, or "" for the default', "Where digitized tapes go; "
                         "empty: <state_dir>/tapes."),
        "digitize_format": ('"flac" or "wav"', "The format of the digitized files."),
        "speed_trim": ("true or false", "Correct the motor speed by the speed error measured "
                       "on a known cassette; false leaves the motor alone."),
    },
    "power": {
        "poll_interval": ("{range}", "Time between readings of the fuel gauge "
                          "and the charger."),
        "warning_percent": ("{range}, above critical_percent",
                            "Charge at which the player warns of a low battery."),
        "warning_rearm": ("{range}", "How far above warning_percent the charge must "
                          "climb before it can warn again."),
        "critical_percent": ("{range}, below warning_percent", "Charge at which the player "
                             "finishes safely and powers off."),
        "critical_voltage": ("{range}", "Cell voltage below which the battery counts as "
                             "critical whatever the percentage says (confirmed over "
                             "confirm_readings readings)."),
        "confirm_readings": ("{range}", "Consecutive readings that "
                             "confirm a warning or critical level."),
        "unknown_after": ("{range}", 'Consecutive failed gauge readings '
                          'after which the charge is "unknown".'),
        "soc_time_constant": ("{range}", "Time constant of the filter that smooths the state "
                              "of charge."),
        "capacity_mah": ("{range}", "The cell's capacity (the reference build's "
                         "18650)."),
        "typical_current": ("a table of amperes (0 to 10) per use: wired, bluetooth, "
                            "recording", "Current drawn from the cell in each use, for the "
                            "time-left estimate."),
        "finish_margin": ("{range} (a fraction)", "How much more charge than needed the "
                          "player wants before it starts something it must finish (a "
                          "recording)."),
        "watchdog_timeout": ("0 (off), 40, 80 or 160 seconds", "The charger's I2C watchdog: "
                             "without a kick in this time it returns to its safe defaults."),
        "kick_interval": ("{range}, at most half of watchdog_timeout", "Time between "
                          "kicks of the charger's watchdog."),
        "input_current_limit": ("{range}", "Current taken from USB."),
        "charge_current_limit": ("{range}", "Current into the cell while charging."),
        "io_attempts": ("{range}", "Tries of one I2C transfer that the "
                        "chip did not acknowledge."),
        "io_backoff": ("{range}", "Wait before the first retry of an I2C transfer; it "
                       "doubles each time."),
        "shutdown_timeout": ("{range}", "Time the safe power-off sequence may "
                             "take before the Pi is switched off anyway."),
    },
}

HEADER = """\
# /etc/capstan/capstan.toml: the configuration of the Capstan player.
#
# Every key is below, commented out at its default, with what it accepts and what it
# does. To change a setting, remove the "# " in front of its line and change the value.
# Then check the file and restart the player:
#
#     capstan config check /etc/capstan/capstan.toml
#     sudo systemctl restart capstan
#
# tools/install writes this file only when there is none: your changes stay. The same
# text, at the firmware's defaults, is printed by `capstan config defaults`.
"""


def defaults() -> dict[str, dict[str, Any]]:
    """Every section and key with its default: capstan.config.DEFAULTS, and [power] from
    PowerConfig (whose own defaults stand for the empty table in DEFAULTS)."""
    from capstan.config import DEFAULTS
    from capstan.power.config import PowerConfig

    out = {section: dict(values) for section, values in DEFAULTS.items()}
    power = PowerConfig()
    out["power"] = {f.name: getattr(power, f.name) for f in fields(PowerConfig)}
    return out


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML form for {v!r}")


def _wrap(text: str, width: int = 88) -> list[str]:
    lines, line = [], "#"
    for word in text.split():
        if len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "#"
        line += " " + word
    return [*lines, line]


def render() -> str:
    """The complete commented configuration at the firmware's defaults."""
    values = defaults()
    if set(values) != set(HELP):
        raise ValueError(f"sections without words or words without a section: "
                         f"{sorted(set(values) ^ set(HELP))}")
    from capstan.config import POWER_SCHEMA, SCHEMA

    checkers = {**SCHEMA, "power": POWER_SCHEMA}
    out = [HEADER]
    for section, keys in values.items():
        words = HELP[section]
        if set(keys) != set(words):
            raise ValueError(f"[{section}]: keys without words or words without a key: "
                             f"{sorted(set(keys) ^ set(words))}")
        out.append(f"[{section}]")
        for key, default in keys.items():
            accepts, does = words[key]
            if "{range}" in accepts:
                accepts = accepts.replace("{range}", checkers[section][key].accepts)
            out += _wrap(f"{does} Accepts {accepts}.")
            out.append(f"# {key} = {toml_value(default)}")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def check(path: Path) -> str:
    """Load `path` the way the daemon does; a ConfigError names the file and the key."""
    from capstan.config import load_config

    config = load_config(path)
    if config["power"]:
        from capstan.power.config import PowerConfig

        PowerConfig.from_dict(config["power"])
    return f"{path}: a valid configuration"


def _defaults(args: argparse.Namespace) -> int:
    print(render(), end="")
    return 0


def _check(args: argparse.Namespace) -> int:
    print(check(Path(args.file)))
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="the configuration file: check one, print the defaults")
    p.set_defaults(func=lambda args: _usage(p))
    cmds = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    c = cmds.add_parser("check", help="check a configuration file (exit 2 naming the key if "
                        "it is wrong)")
    c.add_argument("file", nargs="?", default="/etc/capstan/capstan.toml",
                   help="the file (default: /etc/capstan/capstan.toml)")
    c.set_defaults(func=_check)
    d = cmds.add_parser("defaults", help="print the complete commented configuration at "
                        "the defaults (what tools/install writes)")
    d.set_defaults(func=_defaults)
