"""What the player remembers about cassettes: their track lists, fingerprints and speed trims.

The cassette in the deck is `current` until it is recognized (by its
fingerprint, see capstan.analysis.fingerprint) as one seen before; its TOC is
durable as it changes (every mark is saved at once: a power cut loses none).
Stored through capstan.state.StateStore as `cassette-<id>` files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from capstan.deck.toc import TrackList
from capstan.state.store import StateStore

CURRENT = "current"


class MemoryStore:
    """A StateStore that keeps nothing on disk (the simulator without a state directory)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def load(self, name: str, default: Any) -> Any:
        return self.data.get(name, default)

    def save(self, name: str, data: Any) -> bool:
        self.data[name] = data
        return True


class CassetteMemory:
    def __init__(self, store: StateStore | MemoryStore) -> None:
        self.store = store
        self.index: dict[str, Any] = store.load("cassettes", {"known": [], "next": 1})
        self.id = CURRENT
        self.toc = TrackList.from_dict(store.load(self._name(CURRENT), {}).get("toc", {}))
        self.extra: dict[str, Any] = {}

    @staticmethod
    def _name(cassette_id: str) -> str:
        return f"cassette-{cassette_id}"

    def inserted(self) -> None:
        """A cassette went in: nothing is known about it until it is recognized."""
        self.id = CURRENT
        self.toc = TrackList()
        self.extra = {}
        self.save()

    def add_mark(self, side: str, position: float, source: str) -> bool:
        """Add a track boundary and make it durable at once."""
        added = self.toc.add_mark(side, position, source)
        if added:
            self.save()
        return added

    def when_saved(self, then: Callable[[], None]) -> None:
        """`then()` once the current cassette's saved TOC is on the disk (a store that
        writes on a thread tells later; one that writes at once, at once)."""
        told = getattr(self.store, "when_written", None)
        if told is None:
            then()
        else:
            told(self._name(self.id), then)

    def save(self) -> bool:
        return self.store.save(self._name(self.id), {"toc": self.toc.to_dict(), **self.extra})

    def remember(self, fingerprint: str) -> str:
        """Keep the current cassette under a new id with its fingerprint; returns the id."""
        cassette_id = f"c{self.index['next']}"
        self.index["next"] += 1
        self.index["known"].append({"id": cassette_id, "fingerprint": fingerprint})
        self.store.save("cassettes", self.index)
        self.id = cassette_id
        self.save()
        return cassette_id

    def recall(self, cassette_id: str) -> None:
        """The cassette in the deck is `cassette_id`: restore what is known about it."""
        data = self.store.load(self._name(cassette_id), {})
        known = TrackList.from_dict(data.get("toc", {}))
        for side in ("A", "B"):  # keep marks made before it was recognized
            for m in self.toc.marks[side]:
                known.add_mark(side, m.position, m.source)
        self.id, self.toc = cassette_id, known
        self.extra = {k: v for k, v in data.items() if k != "toc"}
        self.save()

    def known_fingerprints(self) -> list[tuple[str, str]]:
        return [(k["id"], k["fingerprint"]) for k in self.index["known"]]
