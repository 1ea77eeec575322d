"""The headphones on the player: PAIR and the forget combination, the BT LED, routing, volume.

``Player.headphones`` is a :class:`Headphones`. It is always there (VOL+/VOL-
act on the jack without Bluetooth too); its :class:`HeadphonesService` is there
when Bluetooth is: on the Pi on the system bus, in the simulator on a private
bus with the BlueZ mock (harness/world.py binds it before the player starts).

Started after the audio chain, stopped before it. Buttons (docs/bluetooth.md):

    PAIR held 2 s           the pairing window opens (BT LED blinks fast)
    PAIR + STOP held 5 s    every remembered headphone is forgotten
    VOL+ / VOL-             the active output's volume (press and repeat)

The headphones' own buttons (AVRCP, bluetooth/remote.py) drive the transport as
the panel's do; their own volume buttons set the remembered headphone level.

The BT LED: off; blinking fast while the window is open; steady while connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capstan.bluetooth.outputs import HeadphoneOutput, OutputVolumes, StreamOpener
from capstan.bluetooth.remote import Remote, TransportPort
from capstan.devices import leds as lp
from capstan.events import Event, EventBus, Notice

log = logging.getLogger(__name__)

PAIRING_BLINK = lp.blink(0.25)  # fast: "put your headphones in pairing mode"
VOLUME_STEP = {"vol_up": +1, "vol_down": -1}


@dataclass
class HeadphonesPort:
    """What the headphones need of the player (app.py makes it)."""

    loop: asyncio.AbstractEventLoop
    bus: EventBus
    audio: Any  # the AudioChain: the headphones are one of its outputs
    bt_led: Any  # the BT LED's LedPlayer
    pause: Callable[[], None]  # pause a playing tape (the headphones went away)
    config: dict[str, dict[str, Any]]  # the player's configuration
    board_kind: str  # "pi": BlueZ on the system bus; else the simulator binds its own
    transport: TransportPort  # for the headphones' own buttons (bluetooth/remote.py)


class Headphones:
    """The player's side of Bluetooth headphones (see the module's docstring)."""

    def __init__(self, port: HeadphonesPort, state: Any = None, service: Any = None,
                 open_stream: StreamOpener | None = None, in_thread: bool = True) -> None:
        """`state`: a StateStore (load/save); `service`: a HeadphonesService, or None to make
        one on the Pi's system bus at start; `open_stream(address)`: the headphones' stream."""
        self.port, self.loop = port, port.loop
        self.service = service
        self.state = state
        levels = state.load("volumes", {}) if state is not None else {}
        self.volumes = OutputVolumes(port.audio, dict(levels if isinstance(levels, dict) else {}),
                                     self._save_volumes)
        self.output = HeadphoneOutput(port.audio, open_stream or self._bluealsa_stream,
                                      self.volumes, port.pause, self.loop, in_thread)
        self.remote = Remote(port.transport,
                             lambda: self.service.link.connected if self.service else None)
        self.unavailable: str | None = None  # why there is no Bluetooth, if there is none
        self._said = False
        self._unsubscribe: Callable[[], None] | None = None

    def bind(self, service: Any, open_stream: StreamOpener | None = None,
             in_thread: bool = True) -> None:
        """Before start: Bluetooth through `service` (a HeadphonesService on a bus other than
        the system's: the simulator's), the headphones' stream from `open_stream`;
        `in_thread` False when that stream answers at once (no writer thread)."""
        self.service = service
        if open_stream is not None:
            self.output.open_stream = open_stream
        self.output.in_thread = in_thread

    # life ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._unsubscribe = self.port.bus.subscribe(self._on_event, "bluetooth",
                                                      "pairing_window")
        if self.service is None and self.unavailable is None:
            self.service = self._system_service()
        if self.service is None:
            self._say_unavailable(self.unavailable or "Bluetooth is off in the configuration")
            return
        self.service.route.subscribe(self.output)
        self.volumes.headphones = self.service
        self.service.volume_listeners.append(self.volumes.headphones_changed)
        try:
            await self.service.start()
        except Exception as exc:  # no bluetoothd, no adapter: the tape plays on the jack
            self.service, self.volumes.headphones = None, None
            self._say_unavailable(f"Bluetooth could not start: {exc}")
            return
        try:  # the headphones' buttons: the player as BlueZ's AVRCP target
            await self.remote.start(self.service.bus, self.service.bluez.adapter)
        except Exception as exc:  # the tape still plays on the headphones
            log.warning("headphones: their buttons will not work: %s", exc)
            self.port.bus.publish(Notice("bluetooth",
                                           f"the headphones' buttons will not work: {exc}"))
        self._show_led()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        try:
            self.output.close()  # the jack's own volume back before the daemon saves it
            await self.remote.stop()
            if self.service is not None:
                await self.service.stop()
        finally:
            self.port.bt_led.play(lp.OFF)

    # buttons ----------------------------------------------------------------------------
    def gesture(self, button: str, action: str) -> None:
        """Every gesture of the panel's buttons (Player._gesture forwards them)."""
        if button in VOLUME_STEP and action in ("press", "repeat"):
            self.volumes.step(VOLUME_STEP[button])
        elif button == "pair" and action == "hold":  # devices/buttons.py: PAIR held 2 s
            self.open_pairing_window()
        elif button == "pair+stop" and action == "hold":  # PAIR+STOP held 5 s
            self.forget_all()

    def open_pairing_window(self) -> None:
        if self.service is None:
            self._say_unavailable(self.unavailable or "no Bluetooth")
            return
        self.service.open_pairing_window()
        self._show_led()

    def forget_all(self) -> None:
        if self.service is not None:
            self.service.forget_all()
            self.port.bus.publish(Notice("bluetooth", "every headphone was forgotten"))

    # what the user sees ------------------------------------------------------------------
    def _on_event(self, t: float, event: Event) -> None:
        self.loop.call_soon(self._show_led)  # the service publishes before it steps its state

    def _show_led(self) -> None:
        s = self.service
        if s is None:
            pattern = lp.OFF
        elif s.pairing.is_open:
            pattern = PAIRING_BLINK
        elif s.link.connected:
            pattern = lp.ON
        else:
            pattern = lp.OFF
        self.port.bt_led.play(pattern)

    def status(self) -> dict[str, Any]:
        base = self.service.status() if self.service is not None else {
            "pairing": False, "connected": None, "known": [], "output": None, "battery": {}}
        return {**base, "available": self.service is not None, "why_not": self.unavailable,
                "remote": self.remote.registered,
                "active_output": self.port.audio.outputs.active,
                "volume": self.volumes.level(), "volumes": dict(self.volumes.memory)}

    def _say_unavailable(self, why: str) -> None:
        """Say once why there are no headphones; later PAIR holds only log it."""
        first = self.unavailable is None or not self._said
        self.unavailable, self._said = why, True
        if first:
            # expected on the simulated board without [[headphones]]: no need to warn there
            log.log(logging.INFO if self.port.board_kind == "sim" else logging.WARNING,
                    "headphones: %s", why)
            self.port.bus.publish(Notice("bluetooth", f"no Bluetooth headphones: {why}"))
        else:
            log.info("headphones: %s", why)

    # the Pi ------------------------------------------------------------------------------------
    def _system_service(self) -> Any:
        config = self.port.config
        if not config.get("bluetooth", {}).get("enabled", True):
            self.unavailable = "Bluetooth is off in the configuration ([bluetooth] enabled)"
            return None
        if self.port.board_kind != "pi":
            self.unavailable = ("the simulated board has no Bluetooth here (capstan sim with "
                                "[[headphones]] runs it against the BlueZ mock)")
            return None
        from capstan.bluetooth.service import BluetoothConfig, HeadphonesService

        if self.state is None:
            from capstan.state import StateStore

            self.state = StateStore(Path(config["player"]["state_dir"]), self.port.bus,
                                    self.loop)
        pause = bool(config["transport"]["pause_on_headphones_lost"])
        return HeadphonesService(self.port.bus, self._load_known, self._save_known,
                                 BluetoothConfig(pause_on_loss=pause))

    def _bluealsa_stream(self, address: str) -> Any:
        from capstan.bluetooth.playback import BlueAlsaPlayback

        audio = self.port.audio
        return BlueAlsaPlayback(address, rate=audio.rate, channels=audio.capture.channels,
                                period=self.port.config["player"]["period"])

    def _load_known(self) -> list[str]:
        known = self.state.load("headphones", []) if self.state is not None else []
        return [a for a in known if isinstance(a, str)] if isinstance(known, list) else []

    def _save_known(self, addresses: Any) -> None:
        if self.state is not None:
            self.state.save("headphones", list(addresses))

    def _save_volumes(self, levels: dict[str, float]) -> None:
        if self.state is not None:
            self.state.save("volumes", levels)
