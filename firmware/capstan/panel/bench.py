"""The simulated deck on the bench: SimDeck + simulated board + Player, live on the running loop.

The same assembly as capstan.harness.session.SimSession, but on the real-time
event loop the panel runs in (Textual's), with the jack teed to the laptop's
speaker. The panel's hands are here too: buttons pressed and released through
the simulated contacts (so the firmware's debounce sees them), cassettes
inserted, ejected and flipped, faults injected.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from capstan.app import Player
from capstan.board import Board, open_board
from capstan.config import load_config
from capstan.events import Event
from capstan.hardware.description import BoardDescription, load_board
from capstan.panel.sound import HeadphonesTee, JackTee, LevelMeter, open_speaker
from capstan.sim.cassette import Cassette
from capstan.sim.deck import FAULTS, HAND_KEYS, SimDeck

TAP = 0.1  # s a tapped button stays down
HOLD = 2.0  # s a held button stays down
LOG_LINES = 200
# the bench's one pair of simulated headphones: only the `h` key puts them in pairing mode
HEADPHONES = {"address": "00:1B:66:5C:A7:01", "name": "Sim Cans", "rssi": -50, "battery": 80,
              "pairing_at": None}


class Bench:
    def __init__(self, loop: asyncio.AbstractEventLoop, data_dir: Path, seed: int = 0,
                 sound_device: str | None = "default",
                 description: BoardDescription | None = None,
                 config: dict[str, Any] | None = None) -> None:
        self.loop = loop
        self.data_dir = Path(data_dir)
        self.description = description or load_board()
        self.config = config or load_config(overrides={"player": {"board": "sim"}})
        period = self.period = self.config["player"]["period"]
        self.out_dir = self.data_dir  # set to a scratch directory when Bluetooth starts
        self.lines: deque[str] = deque(maxlen=LOG_LINES)
        self._t0 = loop.time()
        self.seed = seed
        self.deck = SimDeck(self.description, loop, seed=seed, log=self._deck_event)
        self.board: Board = open_board("sim", self.description, loop, period, deck=self.deck)
        speaker, self.speaker_name = open_speaker(
            sound_device, self.description.alsa.rate, period, self.data_dir / "jack.wav")
        self.meter = LevelMeter(loop.time)
        self.jack = JackTee(self.board.playback, speaker, self.meter,
                            muted=lambda: not self.deck.outputs.get("dac_unmute"))
        self.board.playback = self.jack  # before the Player builds its audio chain on it
        self.player = Player(self.board, self.config, loop)
        self.player.bus.subscribe(self._player_event)
        self.headphones_meter = LevelMeter(loop.time)
        self.bluetooth: Any = None  # a harness.world.BluetoothWorld once started, if possible
        self.started = False
        self._log_handler = _PanelLog(self)

    # start and stop -------------------------------------------------------------
    async def start(self) -> None:
        # the firmware's warnings belong on the panel: a full-screen terminal has no stderr
        logging.getLogger("capstan").addHandler(self._log_handler)
        self.deck.start()
        await self._start_bluetooth()
        await self.player.start()
        self.started = True
        self.note(f"sound to the {self.speaker_name}")

    async def _start_bluetooth(self) -> None:
        """The simulated Bluetooth world (private dbus-daemon, BlueZ mock, real BlueALSA) with
        the bench's headphones; without those tools the player says why and plays the jack."""
        from capstan.harness.world import attach_running

        try:
            # the world's files (bus socket, daemon logs) are scratch; a short path because a
            # unix socket's path may not exceed 107 bytes
            self.out_dir = Path(tempfile.mkdtemp(prefix="capstan-bt-"))
            self.bluetooth = await attach_running(self, [dict(HEADPHONES)], self.seed)
        except Exception as exc:  # a daemon that would not start: say so, play on
            self.player.headphones.unavailable = f"the simulated Bluetooth did not start: {exc}"
            self.bluetooth = None
            return
        if self.bluetooth is not None:  # the sound follows the headphones: to the speaker too
            hp = self.player.headphones
            hp.bind(hp.service, lambda address: HeadphonesTee(self.jack, self.headphones_meter),
                    in_thread=False)

    def log(self, event: dict[str, Any]) -> None:
        """The simulated world's events (a headphone in pairing mode, …), as the deck's are."""
        self._deck_event(event)

    async def stop(self) -> None:
        """Top-down: the player, then the deck and the board; the cassette keeps its place."""
        try:
            if self.started:
                await self.player.stop()
        finally:
            self.started = False
            if self.bluetooth is not None:
                self.bluetooth.close()
                self.bluetooth = None
            if self.out_dir != self.data_dir:
                shutil.rmtree(self.out_dir, ignore_errors=True)
            self.deck.stop()
            self.board.close()
            self.jack.close()
            self.deck.close()
            logging.getLogger("capstan").removeHandler(self._log_handler)

    # the user's hands -------------------------------------------------------------
    def press(self, button: str, hold: float = TAP) -> None:
        """The button down now and up `hold` seconds later, through its contacts. On a
        mechanism moved by hand PLAY, FF, REW and REC are its keys: they latch (STOP
        releases them), and their leaf switches tell the firmware."""
        if self.deck.hand and button in (*HAND_KEYS, "stop"):
            self.deck.press_key(button)
            return
        if button not in self.description.buttons:
            raise ValueError(f"unknown button {button!r}")
        self.deck.set_button(button, True)
        self.loop.call_later(hold, self.deck.set_button, button, False)

    def insert(self, cassette: Cassette) -> None:
        if self.deck.cassette is not None:
            self.eject()
        self.deck.insert(cassette)

    def eject(self) -> Cassette | None:
        return self.deck.eject()

    def flip(self) -> None:
        if self.deck.cassette is None:
            self.note("no cassette to flip")
            return
        if self.deck.motion.speed != 0:
            self.note("stop the tape before taking the cassette out to flip it")
            return
        self.deck.flip()

    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}")
        self.deck.fault(name)

    # what happened ------------------------------------------------------------------
    def note(self, line: str) -> None:
        self.lines.append(f"{self.loop.time() - self._t0:7.1f} s  {line}")

    def _deck_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "pin":
            return
        self.note(_words(event))

    def _player_event(self, t: float, event: Event) -> None:
        if event.type in ("button",):
            return
        self.note(_words(event.to_dict()))

    # truth for the panel ---------------------------------------------------------------
    @property
    def cassette(self) -> Cassette | None:
        return self.deck.cassette


class _PanelLog(logging.Handler):
    """Warnings and errors of the firmware, as lines of the panel's log."""

    def __init__(self, bench: Bench) -> None:
        super().__init__(logging.WARNING)
        self.bench = bench

    def emit(self, record: logging.LogRecord) -> None:
        self.bench.note(f"{record.levelname.lower()}: {record.getMessage()}")


def _words(event: dict[str, Any]) -> str:
    kind = event.get("type", "?")
    rest = ", ".join(f"{k} {v}" for k, v in event.items() if k != "type")
    return f"{kind}: {rest}" if rest else kind
