"""The two reel tachometers together: readings for the safety watchdog, turns for the counter."""

from __future__ import annotations

from capstan.deck.counter import TapeCounter
from capstan.deck.safety import ReelReading
from capstan.devices.tachometer import ReelTachometer

AT_SPEED_AFTER = 0.6  # s after play began before its time counts as "at speed"
SKIP_BELOW = 0.015  # s: below this supply edge period, ambiguous samples are kept


class Reels:
    def __init__(self, take_up: ReelTachometer, supply: ReelTachometer) -> None:
        self.take_up, self.supply = take_up, supply
        self.turns = [0.0, 0.0]  # signed turns since the counter was reset
        self.played = 0.0  # s played at speed since the counter was reset
        self._prev: tuple[float, float, float] | None = None  # (t, take-up, supply) edges
        self._prev_at_speed = False
        self._reverse: bool | None = None  # the direction the reels turned at _prev

    @property
    def sampled_at(self) -> float | None:
        """The time of the take-up edge the counter was last fed up to."""
        return self._prev[0] if self._prev is not None else None

    def reading(self, reel: ReelTachometer, since: float) -> ReelReading:
        return ReelReading(reel.edges_since(since),
                           reel.last_edge, reel.edge_period(since), reel.edges_per_turn)

    def moving(self, now: float, since: float) -> bool:
        """Both reels have turned in this mode and neither has gone quiet."""
        for reel in (self.take_up, self.supply):
            period = reel.edge_period(since)
            last = reel.last_edge
            if period is None or last is None or now - last > max(3 * period, 0.2):
                return False
        return True

    def reset(self) -> None:
        self.turns = [0.0, 0.0]
        self.played = 0.0
        self._prev = None
        self._prev_at_speed = False
        self._reverse = None

    def sample(self, counter: TapeCounter, reverse: bool, at_speed: bool,
               reversed_at: float | None = None) -> None:
        """Feed the counter the turns up to the take-up reel's last edge.

        The supply's count is interpolated at that instant. When a supply edge
        is too close to tell which came first, the sample is skipped, unless the
        reels turn so fast (winding) that one edge either way hardly matters.

        The tachometers do not see the direction: an edge turns the way the motor
        was driven *when it came*. `reverse` is the direction now and `reversed_at`
        when it last changed (the mechanism flips it only once the motor has spun
        down); edges before that instant count in the old direction, not the new one.
        """
        t = self.take_up.last_edge
        if t is None:
            return
        period = self.supply.edge_period()
        if self.supply.edge_near(t) and (period is None or period > SKIP_BELOW):
            return
        take = float(self.take_up.count - self.take_up.edges_since(t))
        sup = self.supply.count_at(t)
        if self._prev is None:
            self._prev = (t, take, sup)
            self._prev_at_speed = at_speed
            self._reverse = reverse
            counter.observe(*self.turns, self.played, False)
            return
        t0, take0, sup0 = self._prev
        if t <= t0:
            return
        old = reverse if self._reverse is None or reversed_at is None else self._reverse
        if old == reverse:
            pieces = [(reverse, take - take0, sup - sup0)]
            self._reverse = reverse
        elif reversed_at >= t:  # flipped after the take-up's last edge: all old direction
            pieces = [(old, take - take0, sup - sup0)]
        else:  # split at the flip
            take_c, sup_c = _at_reversal(self.take_up, reversed_at), _at_reversal(
                self.supply, reversed_at)
            pieces = [(old, take_c - take0, sup_c - sup0), (reverse, take - take_c, sup - sup_c)]
            self._reverse = reverse
        for rev, d_take, d_sup in pieces:
            sign = -1.0 if rev else 1.0
            self.turns[0] += sign * d_take / self.take_up.edges_per_turn
            self.turns[1] += sign * d_sup / self.supply.edges_per_turn
        both = at_speed and self._prev_at_speed
        if both:
            self.played += t - t0
        self._prev = (t, take, sup)
        self._prev_at_speed = at_speed
        counter.observe(*self.turns, self.played, both)


def _at_reversal(reel: ReelTachometer, t: float) -> float:
    """A reel's count where it turned back at `t`: half an edge past its last edge.

    A disc that stops between two marks and turns back re-crosses the mark it passed
    last: its first edge in the new direction brings it back exactly there. Half an
    edge either side of that mark (where it stopped is not seen) makes both counts
    right at that edge; interpolating towards the next edge, a re-crossing taken for
    a new mark, would leave up to an edge of error on each reel at every reversal.
    """
    return reel.count - reel.edges_since(t) + 0.5
