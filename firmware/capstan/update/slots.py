"""Where things live under the root (`/` on the player, a temporary tree in tests).

    /opt/capstan/slots/a, /slots/b   two complete virtual environments (A/B)
    /opt/capstan/current -> slots/a  the slot the daemon runs (switched by atomic rename)
    /opt/capstan/good -> slots/a     the last slot that proved healthy; the update
                                     service runs from it, so a broken new slot can
                                     never break its own rollback
    /opt/capstan/update/             trial.json, history.json, incoming/ (private, 0700)
    /etc/capstan/update.pub          the public key bundles must be signed with
    /boot/firmware/                  the FAT partition: *.capstan in, UPDATE-RESULT.txt out
    /var/lib/capstan/                pairings and state: never touched by updates
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

SLOTS = ("a", "b")
MARKER = "capstan-slot.toml"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def base(self) -> Path:
        return self.root / "opt" / "capstan"

    def slot(self, name: str) -> Path:
        return self.base / "slots" / name

    @property
    def current(self) -> Path:
        return self.base / "current"

    @property
    def good(self) -> Path:
        return self.base / "good"

    @property
    def state(self) -> Path:
        return self.base / "update"

    @property
    def incoming(self) -> Path:
        return self.state / "incoming"

    @property
    def key(self) -> Path:
        return self.root / "etc" / "capstan" / "update.pub"

    @property
    def boot(self) -> Path:
        return self.root / "boot" / "firmware"

    @property
    def result(self) -> Path:
        return self.boot / "UPDATE-RESULT.txt"

    def pointed(self, link: Path) -> str | None:
        """Which slot a link (current, good) names, or None."""
        try:
            target = link.readlink()
        except OSError:
            return None
        name = target.name
        return name if str(target) == f"slots/{name}" and name in SLOTS else None

    def active(self) -> str | None:
        return self.pointed(self.current)

    def inactive(self) -> str:
        return "b" if self.active() == "a" else "a"


@dataclass(frozen=True)
class SlotInfo:
    name: str
    version: str
    manifest_sha256: str


def read_marker(layout: Layout, name: str) -> SlotInfo | None:
    """The slot's completion marker: written last, so present means complete."""
    try:
        raw = tomllib.loads((layout.slot(name) / MARKER).read_text())
        return SlotInfo(name, str(raw["version"]), str(raw["manifest_sha256"]))
    except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError):
        return None


def marker_text(version: str, manifest_sha256: str) -> bytes:
    return (f'version = "{version}"\nmanifest_sha256 = "{manifest_sha256}"\n').encode()
