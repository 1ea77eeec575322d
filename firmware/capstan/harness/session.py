"""A session on the simulated deck in simulated time: the daemon, the deck, a log of events.

Used by `capstan sim --scenario`, by the tests and by the benchmarks alike.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capstan.app import Player
from capstan.board import Board, open_board
from capstan.config import load_config
from capstan.events import EventBus
from capstan.hardware.description import BoardDescription, load_board
from capstan.sim.cassette import Cassette
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck
from capstan.sim.wavfile import read_wav
from capstan.state import StateStore

TAP = 0.1  # s a tapped button stays down


class SimSession:
    def __init__(self, out_dir: Path, seed: int = 0, board: BoardDescription | None = None,
                 config: dict[str, Any] | None = None, period: int | None = None,
                 record_pins: bool = True, state_dir: Path | None = None) -> None:
        """`state_dir`: where the player keeps its settings and cassettes (a StateStore on
        the session's loop); None: in memory, forgotten with the session."""
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.description = board or load_board()
        self.config = config or load_config(overrides={"player": {"board": "sim"}})
        self.period = period or self.config["player"]["period"]
        self.loop = SimulatedTimeLoop()
        self.events: list[dict[str, Any]] = []
        self.record_pins = record_pins
        self.deck = SimDeck(self.description, self.loop, seed=seed, log=self.log)
        self.cassette: Cassette | None = None
        self.board: Board = open_board("sim", self.description, self.loop, self.period,
                                       jack_wav=self.out_dir / "jack.wav", deck=self.deck)
        # a critical battery ends the run
        bus = EventBus(self.loop.time)
        self.store = StateStore(state_dir, bus, self.loop) if state_dir is not None else None
        self.player = Player(self.board, self.config, self.loop, bus, state=self.store,
                             power_off=self._power_off)
        self.player.bus.subscribe(lambda t, e: self.log(e.to_dict()))
        self.powered_off: float | None = None
        self._run_end: asyncio.Future[None] | None = None
        self.bluetooth: Any = None  # a harness.world.BluetoothWorld with add_headphones()
        self.seed = seed
        self._started = False

    def log(self, event: dict[str, Any]) -> None:
        if event.get("type") == "pin" and not self.record_pins:
            return
        self.events.append({"t": round(self.loop.time(), 4), **event})

    # set-up ----------------------------------------------------------------
    def make_cassette(self, length: str = "C60", tape_type: str = "I", side: str = "A",
                      position: float = 0.0, protected: list[str] | tuple[str, ...] = (),
                      side_a: Path | None = None, side_b: Path | None = None,
                      speed_error: float = 0.0, flutter: float = 0.0, name: str = "",
                      insert: bool = True) -> Cassette:
        """A fresh cassette in <out>/cassette (what was there is replaced)."""
        directory = self.out_dir / "cassette"
        if directory.exists():
            shutil.rmtree(directory)
        c = Cassette.create(directory, self.description.mechanism, length, tape_type,
                            set(protected), side, position, name)
        if side_a:
            c.import_audio("A", Path(side_a))
        if side_b:
            c.import_audio("B", Path(side_b))
        self.deck.motion.speed_error = speed_error
        self.deck.motion.flutter_percent = flutter
        self.cassette = c
        if insert:
            self.deck.insert(c)
        return c

    def add_headphones(self, headphones: list[dict[str, Any]]) -> Path | None:
        """Scenario [[headphones]]: the firmware's Bluetooth against the BlueZ mock (harness/bluez).

        Returns the Bluetooth WAV, or None when the tools are missing (the player says so)."""
        from capstan.harness.world import attach

        self.bluetooth = attach(self, headphones, self.seed)
        return self.bluetooth.wav_path if self.bluetooth else None

    def set_line_in(self, wav: Path, at: float = 0.0) -> None:
        self.deck.set_line_in(read_wav(Path(wav), self.deck.rate), at)

    # time --------------------------------------------------------------------
    def start(self) -> None:
        if not self._started:
            self.deck.start()
            self.loop.run_until_complete(self.player.start())
            self._started = True

    def at(self, t: float, action: Callable[[], Any]) -> None:
        self.loop.call_at(t, action)

    def run_until(self, t: float) -> None:
        """Run to `t`, or until the player powers off (then time stands still)."""
        self.start()
        if t <= self.loop.time() or self.powered_off is not None:
            return
        self._run_end = self.loop.create_future()
        timer = self.loop.call_at(t, self._end_run)
        try:
            self.loop.run_until_complete(self._run_end)
        finally:
            timer.cancel()

    def _end_run(self) -> None:
        if self._run_end is not None and not self._run_end.done():
            self._run_end.set_result(None)

    def _power_off(self) -> None:
        """The player's power-off after its safe sequence: the session stops here."""
        self.powered_off = self.loop.time()
        self._end_run()

    def run_for(self, seconds: float) -> None:
        self.run_until(self.loop.time() + seconds)

    @property
    def now(self) -> float:
        return self.loop.time()

    # the user's hands --------------------------------------------------------
    def press(self, button: str, bounce: float = 0.0, hold: float = TAP) -> None:
        """Press `button` now and release it `hold` seconds later, with contact bounce."""
        t = self.now
        self._contact(button, True, t, bounce)
        self.loop.call_at(t + hold, lambda: self._contact(button, False, t + hold, bounce))

    def _contact(self, button: str, down: bool, t: float, bounce: float) -> None:
        if bounce > 0:
            rng = self.deck.random
            n = rng.randint(1, 4) * 2  # an even number of extra toggles: ends where it began
            times = sorted(rng.uniform(0, bounce) for _ in range(n))
            self.deck.set_button(button, down)
            for i, dt in enumerate(times):
                level = down if i % 2 else not down
                self.loop.call_at(t + dt, lambda lv=level: self.deck.set_button(button, lv))
            self.loop.call_at(t + bounce, lambda: self.deck.set_button(button, down))
        else:
            self.deck.set_button(button, down)

    # the end -------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self._started:
                self.loop.run_until_complete(self.player.stop())
        finally:
            if self.bluetooth is not None:
                self.bluetooth.close()  # after the player: its service still used the bus
        self.board.close()
        self.deck.close()
        self.loop.close()

    def final(self) -> dict[str, Any]:
        c = self.deck.cassette
        return {"transport": self.player.deck.state.value, "side": c.side if c else None,
                "position": round(self.deck.position, 3),
                "counter": round(self.player.counter, 3),
                "chewed_metres": round(self.deck.motion.spill
                                       * self.description.mechanism.nominal_speed, 4),
                "powered_off": None if self.powered_off is None else round(self.powered_off, 4)}
