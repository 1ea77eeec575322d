"""A tape on the simulator's mechanism physics, read by the real tachometers and counter.

No event loop and no audio: the physics steps, edges go to ReelTachometers over
stand-in pins (edge times on the physics tick, as on the simulated board), and
`Reels.sample` feeds the TapeCounter as the Player does every watchdog period.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from capstan.deck.counter import TapeCounter
from capstan.deck.transport import Mode
from capstan.devices.reels import Reels
from capstan.devices.tachometer import ReelTachometer
from capstan.hardware.description import BoardDescription
from capstan.sim.cassette import Cassette
from capstan.sim.mechanism import TapeMotion

TICK = 0.01
SAMPLE_EVERY = 5  # ticks: the Player's watchdog period of 50 ms


class _Pin:
    pin = 0
    cb: Callable[[bool, float], None] | None = None

    def watch(self, cb: Callable[[bool, float], None] | None) -> None:
        self.cb = cb


class ReelHarness:
    def __init__(self, board: BoardDescription, directory: Path, length: str, position: float,
                 speed_error: float = 0.0) -> None:
        m = board.mechanism
        self.mech = m
        self.cassette = Cassette.create(directory, m, length, position=position)
        ppt_t = board.tachometers["take_up"].pulses_per_turn
        ppt_s = board.tachometers["supply"].pulses_per_turn
        self.motion = TapeMotion(m, ppt_t, ppt_s, cassette=self.cassette, speed_error=speed_error)
        self.pins = (_Pin(), _Pin())
        self.reels = Reels(ReelTachometer(self.pins[0], ppt_t), ReelTachometer(self.pins[1], ppt_s))
        self.counter = TapeCounter(m)
        self.t = 0.0
        self.mode = Mode.STOP
        self.mode_since = 0.0
        self._ticks = 0
        # Optional: edges stamped at their exact time plus jitter() (a GPIO thread that
        # wakes late), and a watchdog that skips late() samples now and then (a busy loop).
        self.jitter: Callable[[], float] | None = None
        self.late: Callable[[], int] | None = None
        self.lengths: list[str | None] = []  # the counter's length after every sample
        self._stamped = [0.0, 0.0]
        self._skip = 0

    def set_mode(self, mode: Mode) -> None:
        m, mech = self.motion, self.mech
        self.mode, self.mode_since = mode, self.t
        m.head = mode == Mode.PLAY
        m.idler = mode in (Mode.FAST_FORWARD, Mode.REWIND)
        m.reverse = mode == Mode.REWIND
        m.duty = {Mode.STOP: 0.0, Mode.PLAY: mech.play_duty}.get(mode, mech.wind_duty)

    def run(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        end = self.t + seconds
        while self.t < end - 1e-9:
            t0, self.t = self.t, self.t + TICK
            take, sup, _ = self.motion.step(t0, self.t)
            for i, (pin, edges) in enumerate(zip(self.pins, (take, sup), strict=True)):
                for t_edge, level in edges:
                    assert pin.cb is not None
                    stamp = self.t
                    if self.jitter is not None:  # monotonic per line, as the kernel's are
                        stamp = max(self._stamped[i] + 1e-6, t_edge + self.jitter())
                        self._stamped[i] = stamp
                    pin.cb(level, stamp)
            self._ticks += 1
            if self._ticks % SAMPLE_EVERY == 0:
                if self._skip > 0:
                    self._skip -= 1
                    continue
                if self.late is not None:
                    self._skip = self.late()
                at_speed = self.mode == Mode.PLAY and self.t - self.mode_since > 0.6
                self.reels.sample(self.counter, self.mode == Mode.REWIND, at_speed)
                self.lengths.append(self.counter.length)
            if until is not None and until():
                return

    @property
    def truth(self) -> float:
        return self.cassette.position


@pytest.fixture
def reel_harness(board: BoardDescription, tmp_path: Path) -> Callable[..., ReelHarness]:
    n = [0]

    def make(length: str = "C60", position: float = 0.0, speed_error: float = 0.0) -> ReelHarness:
        n[0] += 1
        return ReelHarness(board, tmp_path / f"cassette{n[0]}", length, position, speed_error)

    return make
