"""The pairing window, pure and clock-injected: ``step(state, event, now) -> (state, actions)``.

Holding PAIR opens a window of ``window`` seconds. The player is the initiator:
it starts discovery, collects audio sinks in pairing mode for ``dwell`` seconds
(inquiry answers trickle in), then pairs with the strongest, trusts it and
connects A2DP. The window closes when a headphone is paired or at its
deadline. Outside the window nothing may pair; :func:`may_pair` is the agent's
rule. Deadlines live in the state; the caller wakes the policy at
:func:`next_deadline` with a :class:`Tick`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

WINDOW = 60.0  # s, the pairing window
DWELL = 3.0  # s of discovery before choosing; a second sighting round if none yet


# --- events ---------------------------------------------------------------------
@dataclass(frozen=True)
class OpenWindow:
    """PAIR was held."""


@dataclass(frozen=True)
class Sighted:
    """Discovery saw ADDRESS (in pairing mode) at RSSI dBm."""

    address: str
    rssi: int
    audio_sink: bool


@dataclass(frozen=True)
class PairResult:
    address: str
    ok: bool


@dataclass(frozen=True)
class Tick:
    """Time passed; deadlines may be due."""


PairingEvent = OpenWindow | Sighted | PairResult | Tick


# --- actions --------------------------------------------------------------------
@dataclass(frozen=True)
class SetPairable:
    on: bool


@dataclass(frozen=True)
class Discover:
    on: bool


@dataclass(frozen=True)
class Pair:
    address: str


@dataclass(frozen=True)
class CancelPairing:
    address: str


@dataclass(frozen=True)
class Adopt:
    """Paired: set Trusted, remember it, connect A2DP."""

    address: str


@dataclass(frozen=True)
class WindowClosed:
    outcome: str  # "paired" | "timeout"
    address: str | None = None


PairingAction = SetPairable | Discover | Pair | CancelPairing | Adopt | WindowClosed


@dataclass(frozen=True)
class PairingState:
    closes_at: float | None = None  # None: the window is shut
    choose_at: float | None = None  # when to pick among the candidates
    candidates: dict[str, int] = field(default_factory=dict)  # address -> best RSSI
    pairing: str | None = None  # the address being paired
    rejected: frozenset[str] = frozenset()  # failed this window; not tried again
    window: float = WINDOW
    dwell: float = DWELL

    @property
    def is_open(self) -> bool:
        return self.closes_at is not None


def next_deadline(state: PairingState) -> float | None:
    times = [t for t in (state.closes_at, state.choose_at) if t is not None]
    return min(times) if times else None


def may_pair(state: PairingState, address: str, audio_sink: bool) -> bool:
    """The agent's rule for a pairing request: only inside the window, only headphones."""
    return state.is_open and audio_sink and address not in state.rejected


def step(state: PairingState, event: PairingEvent, now: float) -> tuple[PairingState, list]:
    if isinstance(event, OpenWindow):
        if state.is_open:
            return replace(state, closes_at=now + state.window), []  # a new hold extends it
        fresh = PairingState(window=state.window, dwell=state.dwell)
        opened = replace(fresh, closes_at=now + state.window, choose_at=now + state.dwell)
        return opened, [SetPairable(True), Discover(True)]
    if not state.is_open:
        return state, []
    if isinstance(event, Sighted):
        return _sighted(state, event, now), []
    if isinstance(event, PairResult):
        return _pair_result(state, event, now)
    return _tick(state, now)


def _sighted(state: PairingState, event: Sighted, now: float) -> PairingState:
    if not event.audio_sink or event.address in state.rejected:
        return state
    best = max(event.rssi, state.candidates.get(event.address, event.rssi))
    choose_at = state.choose_at
    if choose_at is None and state.pairing is None:
        choose_at = now + state.dwell  # first answer after an empty round: let others answer too
    return replace(state, candidates={**state.candidates, event.address: best}, choose_at=choose_at)


def _pair_result(state: PairingState, event: PairResult, now: float) -> tuple[PairingState, list]:
    if event.address != state.pairing:
        return state, []
    if event.ok:
        closed = replace(state, closes_at=None, choose_at=None, pairing=None, candidates={})
        return closed, [Adopt(event.address), SetPairable(False),
                        WindowClosed("paired", event.address)]
    candidates = {a: r for a, r in state.candidates.items() if a != event.address}
    retry = replace(state, pairing=None, candidates=candidates,
                    rejected=state.rejected | {event.address},
                    choose_at=now + (0.0 if candidates else state.dwell))
    return retry, [Discover(True)]


def _tick(state: PairingState, now: float) -> tuple[PairingState, list]:
    if state.closes_at is not None and now >= state.closes_at:
        actions: list = [Discover(False), SetPairable(False)]
        if state.pairing is not None:
            actions.insert(0, CancelPairing(state.pairing))
        return replace(state, closes_at=None, choose_at=None, pairing=None, candidates={}), [
            *actions, WindowClosed("timeout")]
    if state.choose_at is not None and now >= state.choose_at and state.pairing is None:
        if not state.candidates:
            return replace(state, choose_at=None), []  # keep listening; a sighting re-arms
        strongest = max(state.candidates, key=lambda a: (state.candidates[a], a))
        return replace(state, choose_at=None, pairing=strongest), [Discover(False), Pair(strongest)]
    return state, []
