"""Remembered headphones and reconnection, pure and clock-injected.

``step(state, event, now) -> (state, actions)``. The player remembers several
paired headphones, the last used first. At start, after a link loss, and
whenever a remembered headphone shows up, it connects to the last used one;
failed attempts back off exponentially (``first``, doubling, capped at
``ceiling``) and go on at the ceiling for ever: never a busy loop, never giving
up on headphones that come back an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FIRST = 1.0  # s before the first retry
CEILING = 60.0  # s, the longest wait between attempts


@dataclass(frozen=True)
class Backoff:
    first: float = FIRST
    factor: float = 2.0
    ceiling: float = CEILING

    def delay(self, failures: int) -> float:
        """Seconds to wait after FAILURES failed attempts in a row (1, 2, ...)."""
        return min(self.ceiling, self.first * self.factor ** max(0, failures - 1))


# --- events ---------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """The service started (boot)."""


@dataclass(frozen=True)
class Appeared:
    """A device showed up (found, or its radio answered)."""

    address: str


@dataclass(frozen=True)
class Remember:
    """A headphone was just paired: it becomes the last used."""

    address: str


@dataclass(frozen=True)
class LinkUp:
    address: str


@dataclass(frozen=True)
class LinkLost:
    address: str


@dataclass(frozen=True)
class ConnectFailed:
    address: str


@dataclass(frozen=True)
class ForgetAll:
    pass


@dataclass(frozen=True)
class Tick:
    pass


LinkEvent = Start | Appeared | Remember | LinkUp | LinkLost | ConnectFailed | ForgetAll | Tick


# --- actions --------------------------------------------------------------------
@dataclass(frozen=True)
class Connect:
    address: str


@dataclass(frozen=True)
class Save:
    """Persist the remembered headphones (last used first)."""

    known: tuple[str, ...]


@dataclass(frozen=True)
class Remove:
    """Unpair ADDRESS in BlueZ (forgetting)."""

    address: str


LinkAction = Connect | Save | Remove


@dataclass(frozen=True)
class LinkState:
    known: tuple[str, ...] = ()  # remembered headphones, last used first
    connected: str | None = None
    connecting: str | None = None
    failures: int = 0
    retry_at: float | None = None
    backoff: Backoff = Backoff()

    @property
    def last_used(self) -> str | None:
        return self.known[0] if self.known else None

    def knows(self, address: str) -> bool:
        return address in self.known


def next_deadline(state: LinkState) -> float | None:
    return state.retry_at


def _attempt(state: LinkState, address: str | None) -> tuple[LinkState, list]:
    if address is None or state.connected is not None or state.connecting is not None:
        return state, []
    return replace(state, connecting=address, retry_at=None), [Connect(address)]


def _to_front(known: tuple[str, ...], address: str) -> tuple[str, ...]:
    return (address, *(a for a in known if a != address))


def step(state: LinkState, event: LinkEvent, now: float) -> tuple[LinkState, list]:
    if isinstance(event, Start):
        return _attempt(state, state.last_used)
    if isinstance(event, Appeared):
        if not state.knows(event.address):
            return state, []
        # A remembered headphone answered: the wait is over, try it now.
        return _attempt(replace(state, failures=0, retry_at=None), event.address)
    if isinstance(event, Remember):
        known = _to_front(state.known, event.address)
        return replace(state, known=known), [Save(known)]
    if isinstance(event, LinkUp):
        if not state.knows(event.address):
            return state, []
        known = _to_front(state.known, event.address)
        up = replace(state, known=known, connected=event.address, connecting=None,
                     failures=0, retry_at=None)
        return up, ([Save(known)] if known != state.known else [])
    if isinstance(event, LinkLost):
        if event.address != state.connected:
            return state, []
        lost = replace(state, connected=None, connecting=None, failures=1)
        return replace(lost, retry_at=now + state.backoff.delay(1)), []
    if isinstance(event, ConnectFailed):
        if event.address != state.connecting:
            return state, []
        failures = state.failures + 1
        return replace(state, connecting=None, failures=failures,
                       retry_at=now + state.backoff.delay(failures)), []
    if isinstance(event, ForgetAll):
        gone = LinkState(backoff=state.backoff)
        return gone, [*(Remove(a) for a in state.known), Save(())]
    if state.retry_at is not None and now >= state.retry_at:
        return _attempt(replace(state, retry_at=None), state.last_used)
    return state, []
