"""The safety watchdog over the reels: never chew a tape, never drive blind.

Pure: `ReelWatch.check(mode, since, now, take_up, supply, near_end)` returns
the transport event to dispatch, or None. It is called every WATCH_PERIOD.

- A reel counts as stopped when no edge came for max(SILENCE_PERIODS × its
  recent edge period, MIN_SILENCE): at play speed ≈ 0.15..0.3 s, so the end of
  the tape is seen well within 1 s and a stalled take-up within 0.5 s.
- End of tape: the driven reel (take-up in play and fast forward, supply in
  rewind) and the other one stopped → TapeStopped("end" / "start").
- Tape being eaten: in play the take-up stopped (or turns implausibly slowly
  against the supply) while the supply went on turning → Fault("tape_eaten").
- Any other reel silent while the other goes on turning → Fault("reel_sensor").
- START_GRACE after a mode change lets a slow motor come up to speed; once a
  reel has turned in this mode, it is judged at once. After the grace, no
  pulses at all from either reel → Fault("no_pulses") unless the counter says
  we are at the end already (then it is just the end).
"""

from __future__ import annotations

from dataclasses import dataclass

from capstan.deck.transport import Event, Fault, Mode, TapeStopped

WATCH_PERIOD = 0.05  # s between checks
START_GRACE = 1.5  # s for a slow motor to bring the reels up to speed
SILENCE_PERIODS = 3.0
MIN_SILENCE = 0.2  # s
MIN_EDGES = 3  # edges in this mode before a reel counts as turning
# The take-up turns r_supply / r_take-up times as fast as the supply. With a hub of
# 11 mm and a full pack of ~25 mm that ratio stays within 0.43..2.3; far outside it,
# the take-up is slipping (the tape is being eaten).
MIN_RATIO = 0.3
IMPLAUSIBLE_FOR = 0.2  # s an implausible ratio must last
OUTLIVED = 0.1  # s one reel must go on turning after the other's last edge to be a fault


@dataclass(frozen=True)
class ReelReading:
    """What the watchdog needs of one reel's tachometer."""

    edges: int  # edges since the mode began
    last_edge: float | None
    period: float | None  # recent mean edge period, s
    edges_per_turn: int = 32


def _outlived(turning: ReelReading, silent: ReelReading) -> bool:
    """`turning` went on producing edges for a while after `silent`'s last one."""
    if turning.last_edge is None:
        return False
    if silent.last_edge is None or silent.edges == 0:
        return turning.edges >= MIN_EDGES
    return turning.last_edge - silent.last_edge > OUTLIVED


class ReelWatch:
    def __init__(self) -> None:
        self._implausible_since: float | None = None

    def _silent(self, r: ReelReading, now: float, in_grace: bool) -> bool:
        if r.edges < MIN_EDGES or r.last_edge is None:
            return not in_grace
        limit = max(SILENCE_PERIODS * (r.period or MIN_SILENCE), MIN_SILENCE)
        return now - r.last_edge > limit

    def check(self, mode: Mode, since: float, now: float, take_up: ReelReading,
              supply: ReelReading, near_end: bool | None = None) -> Event | None:
        if mode == Mode.STOP:
            self._implausible_since = None
            return None
        in_grace = now - since < START_GRACE
        take_silent = self._silent(take_up, now, in_grace)
        sup_silent = self._silent(supply, now, in_grace)
        forward = mode != Mode.REWIND
        if take_up.edges == 0 and supply.edges == 0:
            if in_grace:
                return None
            if near_end:
                return TapeStopped("end" if forward else "start")
            return Fault("no_pulses", "no pulses from either reel: the tape does not move or "
                                      "the reel sensors are dead; check the cassette and the "
                                      "sensor wiring")
        if take_silent and sup_silent:
            return TapeStopped("end" if forward else "start")
        # One reel silent: if the other went on turning well after it, that is a fault;
        # if they stopped together (the end of the tape), the other is judged silent soon.
        if take_silent and _outlived(supply, take_up):
            if mode == Mode.PLAY:
                return Fault("tape_eaten", "the take-up reel stopped while the supply reel "
                                           "turns: the tape is being pulled into the mechanism")
            return Fault("reel_sensor", "the take-up reel does not turn while the tape winds: "
                                        "the tape may be broken or the reel sensor dead")
        if sup_silent and _outlived(take_up, supply):
            return Fault("reel_sensor", "the supply reel does not turn while the take-up turns: "
                                        "the tape may be broken or the reel sensor dead")
        if mode == Mode.PLAY and self._implausible(take_up, supply, now):
            return Fault("tape_eaten", "the take-up reel turns implausibly slowly against "
                                       "the supply reel: the tape is slipping")
        return None

    def _implausible(self, take_up: ReelReading, supply: ReelReading, now: float) -> bool:
        if take_up.period is None or supply.period is None or take_up.edges < 9:
            self._implausible_since = None
            return False
        ratio = (supply.period * supply.edges_per_turn) / (take_up.period * take_up.edges_per_turn)
        if ratio >= MIN_RATIO:
            self._implausible_since = None
            return False
        if self._implausible_since is None:
            self._implausible_since = now
        return now - self._implausible_since >= IMPLAUSIBLE_FOR
