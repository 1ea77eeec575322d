"""The shelf of cassettes next to the simulated deck.

Cassettes are directories under `<data dir>/cassettes/` (see capstan.sim.cassette)
so what is recorded on them and where they were wound to survive between runs.
The shelf offers the demo mixtape (made once from examples/media/demo-mixtape.wav),
a new blank C46, C60 or C90, and every cassette already there.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import capstan
from capstan.errors import ConfigError
from capstan.hardware.description import Mechanism
from capstan.sim.cassette import Cassette

BLANK_LENGTHS = ("C46", "C60", "C90")
DEMO_NAME = "demo-mixtape"
DEMO_LENGTH, DEMO_TYPE = "C46", "II"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/capstan/sim (~/.local/share/capstan/sim when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "capstan" / "sim"


def default_demo_wav() -> Path:
    """examples/media/demo-mixtape.wav of the source tree (made by tools/make-demo-cassette)."""
    return Path(capstan.__file__).resolve().parents[2] / "examples" / "media" / "demo-mixtape.wav"


@dataclass(frozen=True)
class Choice:
    """One thing the user can pick from the shelf."""

    kind: str  # "demo" | "blank" | "tape"
    label: str
    length: str = ""
    directory: Path | None = None
    why_not: str = ""  # set when it cannot be taken now, in words

    @property
    def available(self) -> bool:
        return not self.why_not


class Shelf:
    def __init__(self, data_dir: Path, mechanism: Mechanism, demo_wav: Path | None = None,
                 extra: Path | None = None) -> None:
        self.directory = Path(data_dir) / "cassettes"
        self.mechanism = mechanism
        self.demo_wav = demo_wav if demo_wav is not None else default_demo_wav()
        self.extra = extra  # a cassette directory given on the command line

    def choices(self) -> list[Choice]:
        demo_dir = self.directory / DEMO_NAME
        out: list[Choice] = []
        if demo_dir.is_dir() or self.demo_wav.is_file():
            out.append(Choice("demo", f"Demo mixtape ({DEMO_LENGTH}, Type {DEMO_TYPE})",
                              DEMO_LENGTH, demo_dir))
        else:
            out.append(Choice("demo", f"Demo mixtape ({DEMO_LENGTH})", DEMO_LENGTH, demo_dir,
                              why_not=f"{self.demo_wav} is missing: run tools/make-demo-cassette"))
        out += [Choice("blank", f"New blank {n}, Type I", n) for n in BLANK_LENGTHS]
        tapes = sorted(p.parent for p in self.directory.glob("*/cassette.toml")
                       if p.parent != demo_dir)
        if self.extra is not None and self.extra.resolve() not in {t.resolve() for t in tapes}:
            tapes.insert(0, self.extra)
        out += [Choice("tape", _describe(t), directory=t) for t in tapes]
        return out

    def take(self, choice: Choice) -> Cassette:
        """The cassette of `choice`, made on first use (the demo) or now (a blank)."""
        if choice.why_not:
            raise ConfigError(choice.why_not)
        if choice.kind == "blank":
            return Cassette.create(self._new_dir(choice.length.lower()), self.mechanism,
                                   choice.length, "I")
        assert choice.directory is not None
        if choice.kind == "demo" and not (choice.directory / "cassette.toml").exists():
            c = Cassette.create(choice.directory, self.mechanism, DEMO_LENGTH, DEMO_TYPE,
                                name="Demo mixtape")
            c.import_audio("A", self.demo_wav)
            c.save()
            return c
        return Cassette.open(choice.directory, self.mechanism)

    def _new_dir(self, stem: str) -> Path:
        n = 1
        while (self.directory / f"{stem}-{n}").exists():
            n += 1
        return self.directory / f"{stem}-{n}"


def _describe(directory: Path) -> str:
    try:
        meta = tomllib.loads((directory / "cassette.toml").read_text())
        return (f"{meta.get('name') or directory.name} ({meta['length']}, Type {meta['type']}, "
                f"side {meta.get('side', 'A')})")
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return f"{directory.name} (unreadable)"
