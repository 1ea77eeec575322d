"""Auto-stop from one rotation sensor (the CRP42602Y's ROTATION_SENS, a walkman's take-up).

Pure: `RotationWatch.check(driven_since, now, last_edge, period)` says whether the
tape has stopped while driven. One sensor cannot tell the end of the tape from a
stalled take-up: both stop the motor (the end as `TapeStopped("end")`, which the
transport turns into the next side or a stop). The sensor counts as stopped when no
edge came for max(SILENCE_PERIODS × its recent edge period, MIN_SILENCE), at most the
board's `stop_window`; after a mode change the motor has START_GRACE to start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SILENCE_PERIODS = 3.0
MIN_SILENCE = 0.2  # s
START_GRACE = 1.0  # s from the mode's drive until a first edge must have come


@dataclass(frozen=True)
class RotationWatch:
    stop_window: float  # s, the board's longest silence

    def silence(self, period: float | None) -> float:
        if period is None:
            return self.stop_window
        return min(self.stop_window, max(SILENCE_PERIODS * period, MIN_SILENCE))

    def stopped(self, driven_since: float, now: float, last_edge: float | None,
                period: float | None) -> bool:
        """The driven tape has stopped (end of the side, or a stall)."""
        if last_edge is None or last_edge < driven_since:
            return now - driven_since > START_GRACE
        return now - last_edge > self.silence(period)


def position_from_turns(turns: float, seconds: float, speed: float, hub_radius: float,
                        thickness: float) -> float:
    """Seconds of tape on the take-up reel, from one sensor: `turns` of the take-up counted
    over `seconds` of play at `speed` (m/s). The tape passes at the known speed, so the
    mean radius of the pack over the window is r = speed·seconds / (2π·turns); the pack is
    a spiral, so it holds π(r² − hub²) / thickness metres of tape. The result is the
    position at the middle of the window."""
    if turns <= 0 or seconds <= 0:
        raise ValueError("the take-up must have turned during the window")
    r = speed * seconds / (2 * math.pi * turns)
    metres = math.pi * max(0.0, r * r - hub_radius * hub_radius) / thickness
    return metres / speed
