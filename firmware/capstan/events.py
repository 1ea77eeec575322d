"""Typed, fire-and-forget events.

Every subsystem defines its events as small frozen dataclasses deriving from
``Event`` with a class-level ``type`` (the report's "type" key). The bus stamps
each with the loop's time and hands it to every listener; a failing listener is
logged, never fatal, and never blocks the publisher.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class Notice(Event):
    """Anything worth telling the user or the log, with a machine-readable `what`."""

    type: ClassVar[str] = "notice"
    what: str
    message: str = ""


@dataclass(frozen=True)
class Refused(Event):
    """An action the user asked for and the player refused, with the reason."""

    type: ClassVar[str] = "refused"
    action: str
    reason: str


Listener = Callable[[float, Event], None]


class EventBus:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._listeners: list[tuple[Listener, tuple[str, ...] | None]] = []

    def subscribe(self, listener: Listener, *types: str) -> Callable[[], None]:
        """Call `listener(t, event)` for every event (or only those types). Returns unsubscribe."""
        entry = (listener, types or None)
        self._listeners.append(entry)
        return lambda: self._listeners.remove(entry) if entry in self._listeners else None

    def publish(self, event: Event) -> None:
        t = self._clock()
        for listener, types in list(self._listeners):
            if types is not None and event.type not in types:
                continue
            try:
                listener(t, event)
            except Exception:  # a listener's bug must not stop the player
                log.exception("event listener %r failed on %s", listener, event.type)
