"""The composition root: board → devices → services, started bottom-up, stopped top-down.

`capstan run --board pi|sim` runs the daemon. The simulator and the scenario
runner build the same Player on the simulated board.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from capstan.board import Board
from capstan.deck import transport as tp
from capstan.devices.actuators import Led, Motor, Solenoid, Switch
from capstan.devices.debounce import DebouncedInput
from capstan.devices.mechanism import TapeMechanism
from capstan.devices.tachometer import ReelTachometer
from capstan.events import Event, EventBus, Refused

log = logging.getLogger(__name__)

TAPE_STOP_TIMEOUT = 0.8  # s without a take-up pulse while driven: the tape stopped
START_GRACE = 1.5  # s for a slow motor to bring the reels up to speed


@dataclass(frozen=True)
class TransportChanged(Event):
    type: ClassVar[str] = "transport"
    state: str


@dataclass(frozen=True)
class ButtonEvent(Event):
    type: ClassVar[str] = "button"
    button: str
    action: str  # "press" | "release"


class Player:
    """The whole player on one board; one event loop."""

    def __init__(self, board: Board, config: dict[str, dict[str, Any]],
                 loop: asyncio.AbstractEventLoop, bus: EventBus | None = None) -> None:
        from capstan.audio.chain import AudioChain

        self.board, self.config, self.loop = board, config, loop
        self.bus = bus or EventBus(loop.time)
        d = board.description
        self.buttons = {r: DebouncedInput(p, d.buttons[r].active_low, loop, name=r)
                        for r, p in board.buttons.items()}
        self.switches = {r: DebouncedInput(p, d.switches[r].active_low, loop, 0.02, name=r)
                         for r, p in board.switches.items()}
        self.reels = {r: ReelTachometer(p, d.tachometers[r].pulses_per_turn, r)
                      for r, p in board.tachometers.items()}
        o = board.outputs
        self.mechanism = TapeMechanism(Motor(o["motor"], o["motor_reverse"]),
                                       Solenoid(o["head_solenoid"]), Solenoid(o["wind_idler"]),
                                       d.mechanism)
        self.record_relay = Solenoid(o["record_relay"])
        self.adc_mux = Switch(o["adc_mux"])
        self.dac = Switch(o["dac_unmute"])
        self.leds = {r: Led(p) for r, p in board.leds.items()}
        self.audio = AudioChain(board.capture, board.playback, config["audio"]["volume"])
        self.deck = tp.Deck()
        self.counter = 0.0  # seconds of play, as the firmware believes
        self._counter_edges = 0
        self._watch: asyncio.TimerHandle | None = None
        self.started = False

    # start and stop ---------------------------------------------------------
    async def start(self) -> None:
        for name, b in self.buttons.items():
            b.on_change = lambda active, t, name=name: self._button(name, active, t)
        for name, s in self.switches.items():
            s.resync()
            s.on_change = lambda active, t, name=name: self._switch(name, active, t)
        self.audio.start()
        self.dac.set(True)
        self.leds["status"].set(1.0)
        if self.switches["cassette_in"].is_active:
            self._dispatch(tp.CassetteIn())
        else:
            self.bus.publish(TransportChanged(self.deck.state.value))
        self._watch = self.loop.call_later(0.1, self._watchdog)
        self.started = True

    async def stop(self) -> None:
        """Top-down: tape stopped and relay released first, then audio, then the board."""
        if self._watch:
            self._watch.cancel()
        self.mechanism.off()
        self.record_relay.release()
        self.dac.set(False)
        self.audio.stop()
        for led in self.leds.values():
            led.set(0.0)
        self.started = False

    # inputs -------------------------------------------------------------------
    def press(self, button: str) -> None:
        """A tap of a button, as if debounced from the panel (the control socket uses this)."""
        if button not in self.buttons:
            raise ValueError(f"unknown button {button!r} (buttons: {', '.join(self.buttons)})")
        self._button(button, True, self.loop.time())
        self._button(button, False, self.loop.time())

    def hold(self, button: str, seconds: float) -> asyncio.TimerHandle:
        """Hold `button` down for `seconds`, then release it (the control socket's `hold`)."""
        if button not in self.buttons:
            raise ValueError(f"unknown button {button!r} (buttons: {', '.join(self.buttons)})")
        down = self.loop.time()
        self._button(button, True, down)
        return self.loop.call_later(seconds, self._button, button, False, down + seconds)

    def _button(self, name: str, down: bool, t: float) -> None:
        self.bus.publish(ButtonEvent(name, "press" if down else "release"))
        if down:
            self._dispatch(tp.Press(name))

    def _switch(self, name: str, active: bool, t: float) -> None:
        if name == "cassette_in":
            self._dispatch(tp.CassetteIn() if active else tp.CassetteOut())

    # the deck -----------------------------------------------------------------
    def _dispatch(self, event: tp.Event) -> None:
        before = self.deck.state
        self.deck, commands = tp.step(self.deck, event, self.loop.time())
        for cmd in commands:
            if isinstance(cmd, tp.SetMode):
                self._set_mode(cmd.mode)
            elif isinstance(cmd, tp.Refuse):
                self.bus.publish(Refused(cmd.action, cmd.reason))
        if self.deck.state != before:
            self.bus.publish(TransportChanged(self.deck.state.value))

    def _set_mode(self, mode: tp.Mode) -> None:
        self._counter_edges = self.reels["take_up"].count
        self.mechanism.set_mode(mode)

    def _watchdog(self) -> None:
        """Every 100 ms: the counter, and a driven tape whose take-up reel stopped."""
        now = self.loop.time()
        self._watch = self.loop.call_later(0.1, self._watchdog)
        mode = self.deck.mode()
        if mode == tp.Mode.PLAY:
            self.counter += 0.1
        if mode == tp.Mode.STOP or now - self.deck.since < START_GRACE:
            return
        reel = self.reels["take_up" if mode != tp.Mode.REWIND else "supply"]
        last = reel.last_edge
        if last is None or now - last > TAPE_STOP_TIMEOUT:
            self._dispatch(tp.TapeStopped())

    def status(self) -> dict[str, Any]:
        return {"transport": self.deck.state.value, "counter": round(self.counter, 2),
                "mode": self.mechanism.mode.value}


async def run_player(player: Player, stop: asyncio.Event) -> None:
    await player.start()
    try:
        await stop.wait()
    finally:
        await player.stop()
