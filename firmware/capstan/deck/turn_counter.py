"""The tape counter from one rotation sensor (the CRP42602Y's ROTATION_SENS).

Pure and clock-free, with the reference counter's face (deck/counter.py): `reading()`,
`position`, `remaining`, `length`, `calibrated`, `at_start()`, `snapshot()`... The
Player feeds `observe(edges, forward, at_speed, played)`: the sensor's edges since the
last sample, the direction the mechanism drives the tape past the head, whether that
was play at speed and for how many seconds.

- In play at speed the tape passes at the capstan's known speed: the position moves one
  second per second.
- Winding, the sensor sits on the reel taking up the tape in its direction (the
  take-up going forward, the other reel back): each turn moves 2π·r of tape, r from
  the pack's spiral at the position (deck/pack.py). The spiral needs the tape's
  thickness: the cassette's `length` when it is known (from the user or the label),
  else the middle length's, which near the hub counts within a few seconds.
- From an unknown position, PLAY_WINDOW seconds of play give it from the take-up's
  turns alone (deck/rotation.py `position_from_turns`); that too needs the length.
- A rewind to the start (`at_start`) calibrates; the head turned at the end of a side
  finds the other side at its start (`at_start` again); turned mid-side (`turned`), the
  position is the other side's point of the same tape.
"""

from __future__ import annotations

import math
from typing import Any

from capstan.deck.pack import PackGeometry, geometries
from capstan.deck.rotation import position_from_turns
from capstan.hardware.description import Mechanism

PLAY_WINDOW = 60.0  # s of play at speed from an unknown position before it is told


class TurnCounter:
    def __init__(self, mechanism: Mechanism, pulses_per_turn: int) -> None:
        self.geoms = geometries(mechanism)
        self.leader = mechanism.leader
        self.edges_per_turn = 2 * pulses_per_turn
        self.length: str | None = None  # told by the user (or the label); never guessed
        self.confidence = 0.0
        self.changes = 0
        self.reset()

    def reset(self) -> None:
        self._position: float | None = None
        self.calibrated = False
        self._played = 0.0
        self._window = (0.0, 0.0)  # (take-up turns, seconds) of play from an unknown position

    @property
    def _geom(self) -> PackGeometry:
        if self.length in self.geoms:
            return self.geoms[self.length]
        ordered = sorted(self.geoms.values(), key=lambda g: g.thickness)
        return ordered[len(ordered) // 2]

    # input --------------------------------------------------------------------
    def observe(self, edges: int, forward: bool, at_speed: bool, played: float) -> None:
        """`edges` of the sensor since the last call; `played`: seconds of play at speed."""
        if at_speed and played > 0:
            self._played += played
            if self._position is not None:
                self._position = min(self._position + played, self._geom.duration)
            elif self.length is not None:
                turns, seconds = self._window
                self._window = (turns + edges / self.edges_per_turn, seconds + played)
                self._from_window()
            return
        if self._position is None or edges <= 0:
            return
        g = self._geom
        turns = edges / self.edges_per_turn
        for _ in range(max(1, math.ceil(turns))):  # in steps of at most one turn
            step = min(1.0, turns)
            turns -= step
            on_reel = self._position if forward else g.duration - self._position
            moved = 2 * math.pi * g.radius(on_reel) * step / g.speed
            self._position = min(max(self._position + (moved if forward else -moved), 0.0),
                                 g.duration)

    def _from_window(self) -> None:
        turns, seconds = self._window
        if seconds < PLAY_WINDOW or turns <= 0:
            return
        g = self._geom
        middle = position_from_turns(turns, seconds, g.speed, g.hub, g.thickness)
        self._position = min(middle + seconds / 2, g.duration)

    def at_start(self) -> None:
        """The side facing the head is at its start (rewound, or turned at the other's end)."""
        self._position = 0.0
        self.calibrated = True
        self._window = (0.0, 0.0)

    def turned(self) -> None:
        """The head turned to the other side mid-tape: the same tape seen from its other end."""
        if self._position is not None and self.length is not None:
            self._position = self._geom.duration - self._position
        else:
            self._position, self.calibrated = None, False
        self._window = (0.0, 0.0)

    def forget_position(self) -> None:
        self._position = None
        self.calibrated = False
        self._window = (0.0, 0.0)

    # output -------------------------------------------------------------------
    @property
    def known(self) -> bool:
        return self._position is not None

    @property
    def position(self) -> float | None:
        return self._position

    @property
    def remaining(self) -> float | None:
        if self._position is None or self.length is None:
            return None
        return max(0.0, self._geom.duration - self.leader - self._position)

    def reading(self) -> float:
        return self._position if self._position is not None else self._played

    def near_end(self, forward: bool, margin: float = 20.0) -> bool | None:
        if self._position is None or self.length is None:
            return None
        return self._position > self._geom.duration - margin if forward \
            else self._position < margin

    def snapshot(self) -> dict[str, Any]:
        return {"length": self.length, "calibrated": self.calibrated,
                "position": self._position, "played": self._played}

    def restore(self, saved: dict[str, Any]) -> None:
        self.reset()
        self._played = float(saved.get("played") or 0.0)
        length, position = saved.get("length"), saved.get("position")
        if length in self.geoms:
            self.length = length
        if isinstance(position, int | float):
            self._position = float(position)
            self.calibrated = bool(saved.get("calibrated"))
