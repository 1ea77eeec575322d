"""Sessions on the simulated deck with the demo mixtape (examples/media)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capstan.config import load_config
from capstan.harness.session import SimSession

MEDIA = Path(__file__).resolve().parents[2] / "examples" / "media"
MIXTAPE = MEDIA / "demo-mixtape.wav"
LEADER = 2.0
# the mixtape's gaps on the tape (seconds from the side's start): (end of a song, next start)
GAPS = [(LEADER + 32.0, LEADER + 36.0), (LEADER + 64.0, LEADER + 68.0),
        (LEADER + 104.0, LEADER + 108.0)]


def session(out: Path, state: Path | None = None, **intelligence: Any) -> SimSession:
    config = load_config(overrides={"player": {"board": "sim", "state_dir": str(out / "state")},
                                    "intelligence": intelligence})
    return SimSession(out, config=config, record_pins=False, state_dir=state)


def of(s: SimSession, type_: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in s.events if e["type"] == type_
            and all(e.get(k) == v for k, v in match.items())]
