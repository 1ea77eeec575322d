"""What a fitted mechanism can do, as the transport is told it (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

# auto-reverse at the end of a played side: stop there (one way), play the other side and
# stop at its end (one round), or turn at every end (endless)
REVERSE_MODES = ("one_way", "one_round", "endless")


@dataclass(frozen=True)
class Capabilities:
    """What the fitted mechanism can do."""

    auto_reverse: bool = False  # the head turns to side B without taking the cassette out
    cueing: bool = True  # it winds (FF/REW)
    by_hand: bool = False  # the user's hand moves the mechanism (keys), the firmware the motor


REFERENCE = Capabilities()
