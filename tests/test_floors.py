"""The floors of the firmware (docs/architecture.md): each package, every module of it
imported alone in a fresh interpreter, loads nothing from a floor above its own.

What a module imports inside a function (a backend chosen at run time, a command's
heavy work) is not loaded by importing it and is not counted: the chooser in
`board.open_board()` imports the simulated board only when it is asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import capstan

PACKAGE = Path(capstan.__file__).parent

# From the bottom up; a part may import its own floor and those below it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("errors", "events", "schema", "wavfile", "hardware")),
    ("hardware", ("board", "chips")),
    ("domain", ("deck",)),
    ("devices", ("devices",)),
    ("memory", ("state", "cassettes")),
    ("signal", ("audio", "analysis")),
    ("simulated hardware", ("sim",)),
    ("services", ("bluetooth", "recording", "intelligence", "power")),
    ("player", ("app",)),
    ("daemon", ("service", "control", "update", "usb", "selftest")),
    ("top", ("cli", "run_cli", "config", "config_file", "harness", "panel")),
]
FLOOR_OF = {part: i for i, (_, parts) in enumerate(FLOORS) for part in parts}

PROBE = r"""
import importlib, json, pkgutil, sys
name = sys.argv[1]
module = importlib.import_module("capstan." + name)
if hasattr(module, "__path__"):
    for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted({m.split(".")[1] for m in sys.modules if m.startswith("capstan.")})))
"""


def parts() -> list[str]:
    """Every module and package of capstan (`__main__` runs `capstan`: it is the top)."""
    return sorted(p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()
                  if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
                  or (p.is_dir() and (p / "__init__.py").exists()))


def test_every_part_of_the_firmware_is_on_a_floor() -> None:
    assert sorted(FLOOR_OF) == parts()


@pytest.mark.parametrize("part", parts())
def test_a_part_imports_nothing_from_a_floor_above_its_own(part: str) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, part], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent).stdout
    above = {p: FLOORS[FLOOR_OF[p]][0] for p in json.loads(out)
             if p in FLOOR_OF and FLOOR_OF[p] > FLOOR_OF[part]}
    assert not above, f"capstan.{part} ({FLOORS[FLOOR_OF[part]][0]}) imports {above}"
