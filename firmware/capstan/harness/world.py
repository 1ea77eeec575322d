"""Bluetooth in the simulator: a private bus, the BlueZ mock, real BlueALSA, and headphones.

The firmware's own ``HeadphonesService`` runs unchanged against a private
``dbus-daemon`` with the BlueZ mock (template.py) and the real ``bluealsa``.
The headphones of a scenario are played here: at ``pairing_at`` one enters
pairing mode and answers the player's inquiry (a seeded 0.3–2.5 s later) with
its RSSI; once connected it accepts the A2DP stream (0.3 s later the mock
plays bluetoothd towards BlueALSA, whose PCM the firmware then routes to).

Simulated time and real daemons: while any D-Bus call of ours is unanswered,
the loop waits (real time, ``SimulatedTimeLoop.hold_for_io``) instead of
jumping, so every round trip takes no simulated time and a run reports the same
events at the same times. BlueALSA's answers that come by themselves (its PCM
after the mock configured it) are waited for explicitly (``_settle``).

The audio: what the firmware writes to the headphones' output goes to
``bluetooth.wav`` in simulated time (see docs/bluetooth.md for why not through
BlueALSA's real-time encoder here).
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dbus_fast import Message, Variant
from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs
from capstan.harness.bluez import daemons
from capstan.harness.bluez.mock import HCI, BluezMock
from capstan.sim.wavfile import WavWriter

log = logging.getLogger(__name__)

INQUIRY = (0.3, 2.5)  # s after discovery starts until a headphone in pairing mode answers
A2DP_SETUP = 0.3  # s from the link to the A2DP stream (AVDTP discover, configure, open)
SETTLE_LIMIT = 10.0  # real s: a daemon that has not answered by then is broken
AVRCP_OPERATION = {"play": "play", "pause": "pause", "stop": "stop", "next": "forward",
                   "previous": "backward"}  # the headphones' buttons as AVRCP PASS THROUGH
IO_GUARD = 2.0  # real s the loop waits for an outstanding D-Bus answer before time moves


class CountedBus(MessageBus):
    """A connection that counts our unanswered calls; while any is out, simulated time stands
    still (the loop waits for the answer in real time, IO_GUARD at most)."""

    def __init__(self, world: BluetoothWorld, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._world = world

    async def call(self, message: Message) -> Message | None:
        self._world.holding(+1)
        try:
            return await super().call(message)
        finally:
            self._world.holding(-1)

    async def connect(self) -> CountedBus:  # the daemon's Hello is an answer too
        self._world.holding(+1)
        try:
            await super().connect()
        finally:
            self._world.holding(-1)
        return self


class HeadphoneWav:
    """The headphones' stream as the firmware's output: a WAV in simulated time."""

    def __init__(self, writer: WavWriter, loop: asyncio.AbstractEventLoop, period: int) -> None:
        self.writer, self.loop, self.period = writer, loop, period
        self.rate, self.channels, self.underruns = writer.rate, 2, 0

    def write(self, block: np.ndarray) -> None:
        due = int(self.loop.time() * self.rate) - self.period
        if self.writer.frames < due:  # nothing was sent meanwhile: the headphones were quiet
            self.writer.write(np.zeros((due - self.writer.frames, 2), np.float32))
        self.writer.write(block)

    def close(self) -> None:
        pass  # the file belongs to the world; the next connection goes on writing it


class BluetoothWorld:
    """The simulated radio world of one session (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, directory: Path,
                 headphones: list[dict[str, Any]], log_event: Callable[[dict[str, Any]], None],
                 rate: int, period: int, seed: int = 0) -> None:
        self.loop, self.directory = loop, Path(directory)
        self.headphones = {h["address"].upper(): dict(h) for h in headphones}
        self.log_event, self.period = log_event, period
        self.random = random.Random(seed)
        self.wav_path = self.directory / "bluetooth.wav"
        self.writer = WavWriter(self.wav_path, rate)
        self.in_pairing_mode: set[str] = set()
        self.discovering = False
        self._pending = 0
        self._procs: list[Any] = []
        self._bus_proc: Any = None
        self.address = ""
        self.firmware_bus: MessageBus | None = None
        self.radio: MessageBus | None = None
        self.mock: BluezMock | None = None
        self.service: Any = None
        self._added: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    def holding(self, change: int) -> None:
        """One more (+1) or one fewer (-1) answer due: simulated time stands while any is."""
        self._pending += change
        self.loop.hold_for_io = IO_GUARD if self._pending else 0.0  # type: ignore[attr-defined]

    # life ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Daemons up, our two connections (the firmware's, the radio's) on this loop."""
        work = self.directory / "bluez"
        work.mkdir(parents=True, exist_ok=True)
        self._bus_proc, self.address = daemons.start_bus(work)
        self._procs.append(daemons.start_bluez_mock(work, self.address))
        self.radio = await CountedBus(self, bus_address=self.address,
                                     negotiate_unix_fd=True).connect()
        self.mock = BluezMock(self.radio)
        await self.mock.add_adapter()
        self._procs.append(daemons.start_bluealsa(work, self.address))
        self.firmware_bus = await CountedBus(self, bus_address=self.address,
                                             negotiate_unix_fd=True).connect()
        await self.radio.call(Message(
            destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
            interface="org.freedesktop.DBus", member="AddMatch", signature="s",
            body=[f"type='signal',sender='{defs.BLUEZ}',interface='{defs.PROPERTIES}'"]))
        self.radio.add_message_handler(self._on_message)
        for address, h in self.headphones.items():
            if h.get("pairing_at", 0.0) is not None:  # None: only start_pairing() (the panel's h)
                self.loop.call_at(h.get("pairing_at", 0.0), self.start_pairing, address)

    def bind(self, service: Any) -> None:
        """The firmware's HeadphonesService that runs against this world."""
        self.service = service

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for bus in (self.firmware_bus, self.radio):
            if bus is not None:
                bus.disconnect()
        for proc in reversed(self._procs):
            proc.stop()
        if self._bus_proc is not None:
            daemons.stop_process(self._bus_proc)
        self.writer.close()
        self.loop.hold_for_io = 0.0  # type: ignore[attr-defined]

    # what a user does with headphones --------------------------------------------------------
    def start_pairing(self, address: str | None = None) -> None:
        """The headphones (the first of the scenario if no ADDRESS) enter pairing mode."""
        address = (address or next(iter(self.headphones))).upper()
        self.in_pairing_mode.add(address)
        self.log_event({"type": "headphones", "what": "pairing_mode", "address": address})
        if self.discovering:
            self._answer_later(address)

    def drop_link(self, address: str) -> None:
        """Out of range / switched off: the link drops and paging fails."""
        self._spawn(self._drop(address.upper()))

    def come_back(self, address: str) -> None:
        """In range again and switched on: it answers pages; its RSSI is seen."""
        self._spawn(self._come_back(address.upper()))

    def stranger(self, address: str, name: str = "stranger") -> None:
        """A device the player never paired tries to pair, then to connect A2DP."""
        self._spawn(self._stranger(address.upper(), name))

    def remote_button(self, button: str, address: str | None = None) -> None:
        """A press of the headphones' own BUTTON (play, pause, stop, next, previous): AVRCP
        PASS THROUGH, which bluetoothd (the mock) turns into a call of the player's MPRIS
        method. ADDRESS None: the connected headphones."""
        address = self._connected(address, f"headphones_button = {button!r}", stream=False)
        if address is None:
            return
        self.log_event({"type": "headphones", "what": "button", "button": button,
                        "address": address})
        self._spawn(self._pass_through(address, AVRCP_OPERATION[button]))

    def headphone_volume(self, value: float, address: str | None = None) -> None:
        """The headphones' own volume buttons set VALUE (0.0..1.0): AVRCP's volume-changed
        notification, which bluetoothd shows as the transport's Volume."""
        address = self._connected(address, f"headphones_volume = {value:g}", stream=True)
        if address is None:
            return
        self.log_event({"type": "headphones", "what": "volume", "value": value,
                        "address": address})
        self._spawn(self._volume(address, round(value * defs.MEDIA_TRANSPORT_VOLUME_MAX)))

    def _connected(self, address: str | None, what: str, stream: bool) -> str | None:
        service = self.service
        now = None if service is None else (service.route.active if stream
                                            else service.link.connected)
        address = (address or now or "").upper()
        if now is None or address != now:
            who = f"the headphones {address} are not" if address else "no headphones are"
            self.log_event({"type": "notice", "what": "headphones_not_connected",
                            "message": f"step {what} ignored: {who} connected"})
            return None
        return address

    # the radio ------------------------------------------------------------------------------
    async def _pass_through(self, address: str, operation: str) -> None:
        assert self.mock is not None and self.firmware_bus is not None
        await self.mock.mock("AvrcpPassThrough", "ssss",
                             [HCI, address, operation, self.firmware_bus.unique_name])

    async def _volume(self, address: str, level: int) -> None:
        assert self.mock is not None
        await self.mock.mock("SetTransportVolume", "ssq", [HCI, address, level])
        await self._settle(lambda: self.service is None
                           or self.service.bluealsa.volume(address) == level,
                           "the firmware heard the headphones' volume")

    def _answer_later(self, address: str) -> None:
        self.loop.call_later(self.random.uniform(*INQUIRY), self._answer, address)

    def _answer(self, address: str) -> None:
        if address in self.in_pairing_mode and self.discovering:
            self._spawn(self._inquiry_answer(address))

    async def _inquiry_answer(self, address: str) -> None:
        assert self.mock is not None
        rssi = int(self.headphones.get(address, {}).get("rssi", -55))
        if address not in self._added:
            self._added.add(address)
            name = self.headphones.get(address, {}).get("name", "headphones")
            await self.mock.add_device(address, name, rssi=rssi)
            battery = self.headphones.get(address, {}).get("battery")
            if battery is not None:  # BlueZ's Battery1, as a classic headphone's HFP report
                await self.mock.add_battery(address, int(battery))
        else:
            await self.mock.update(defs.device_path(f"/org/bluez/{HCI}", address), defs.DEVICE,
                                   {"RSSI": Variant("n", rssi)})

    def _on_message(self, message: Message) -> None:
        if message.member != "PropertiesChanged" or not message.body:
            return
        interface, changed = message.body[0], message.body[1]
        if interface == defs.ADAPTER and "Discovering" in changed:
            self.discovering = bool(changed["Discovering"].value)
            if self.discovering:
                for address in sorted(self.in_pairing_mode):
                    self._answer_later(address)
        elif interface == defs.DEVICE:
            address = defs.address_of(message.path)
            if address is None:
                return
            if changed.get("Paired") is not None and changed["Paired"].value:
                self.in_pairing_mode.discard(address)  # headphones leave pairing mode
            if "Connected" in changed and address in self.headphones:
                if changed["Connected"].value:
                    self.loop.call_later(A2DP_SETUP, self._spawn, self._stream(address))
                else:
                    self._spawn(self._end_stream(address))

    async def _stream(self, address: str) -> None:
        from capstan.harness.bluez.mock import a2dp_stream

        fd = await a2dp_stream(self.mock, address)  # type: ignore[arg-type]
        import os

        os.close(fd)  # the stream's far end: the audio is taken from the firmware's writes
        await self._settle(lambda: self.service is None or self.service.route.active == address,
                           "BlueALSA's PCM reached the firmware")

    async def _end_stream(self, address: str) -> None:
        assert self.mock is not None
        await self.mock.mock("RemoveA2DPTransport", "ss", [HCI, address])
        await self._settle(lambda: self.service is None
                           or address not in self.service.bluealsa.pcms,
                           "BlueALSA's PCM went away")

    async def _drop(self, address: str) -> None:
        assert self.mock is not None
        self.log_event({"type": "headphones", "what": "link_drop", "address": address})
        await self.mock.mock("SetReachable", "ssb", [HCI, address, False])
        await self.mock.mock("DisconnectDevice", "ss", [HCI, address])

    async def _come_back(self, address: str) -> None:
        assert self.mock is not None
        self.log_event({"type": "headphones", "what": "back", "address": address})
        await self.mock.mock("SetReachable", "ssb", [HCI, address, True])
        await self.mock.update(defs.device_path(f"/org/bluez/{HCI}", address), defs.DEVICE,
                               {"RSSI": Variant("n", -50)})

    async def _stranger(self, address: str, name: str) -> None:
        assert self.mock is not None and self.firmware_bus is not None
        self.log_event({"type": "headphones", "what": "stranger", "address": address})
        if address not in self._added:
            self._added.add(address)
            await self.mock.add_device(address, name, rssi=-40)
        owner = self.firmware_bus.unique_name
        await self.mock.remote_pair(address, "RequestAuthorization", owner)
        await self.mock.remote_connect(address, defs.A2DP_SINK_UUID, owner)

    # simulated time and real daemons -----------------------------------------------------------
    async def _settle(self, condition: Callable[[], bool], what: str) -> None:
        """Let a daemon answer by itself without simulated time moving (real-time guard)."""
        deadline = time.monotonic() + SETTLE_LIMIT
        while not condition():
            if time.monotonic() > deadline:
                log.warning("simulated Bluetooth: %s did not happen", what)
                return
            await asyncio.sleep(0)

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("simulated headphones: %s", task.exception())


def unavailable() -> str | None:
    """Why the simulator cannot run Bluetooth here, or None."""
    why = daemons.missing()
    if why is None and shutil.which("bluealsa") is None:
        why = "bluealsa is not installed (Debian package bluez-alsa-utils; tools/sim installs it)"
    return why


def attach(session: Any, headphones: list[dict[str, Any]], seed: int = 0) -> BluetoothWorld | None:
    """Give a SimSession Bluetooth with these headphones; None (and the player says why) when
    dbus-daemon, python-dbusmock or bluealsa is missing. Call before the session starts."""
    world = _world(session, headphones, seed)
    if world is None:
        return None
    try:
        session.loop.run_until_complete(world.start())
    except Exception:
        world.close()
        raise
    _bind(session, world)
    return world


async def attach_running(session: Any, headphones: list[dict[str, Any]],
                         seed: int = 0) -> BluetoothWorld | None:
    """`attach` for a session whose loop is already running (the front panel's real-time
    loop); call before its player starts. The headphones' stream is still the simulated-time
    WAV: a real-time caller replaces ``player.headphones.output.open_stream``."""
    world = _world(session, headphones, seed)
    if world is None:
        return None
    try:
        await world.start()
    except Exception:
        world.close()
        raise
    _bind(session, world)
    return world


def _world(session: Any, headphones: list[dict[str, Any]], seed: int) -> BluetoothWorld | None:
    why = unavailable()
    if why is not None:
        session.player.headphones.unavailable = why
        return None
    return BluetoothWorld(session.loop, session.out_dir, headphones, session.log,
                          session.deck.rate, session.period, seed)


def _bind(session: Any, world: BluetoothWorld) -> None:
    from capstan.bluetooth.service import BluetoothConfig, HeadphonesService

    player = session.player
    remembered: list[list[str]] = [[]]
    pause = bool(player.config["transport"]["pause_on_headphones_lost"])
    service = HeadphonesService(player.bus, load=lambda: remembered[-1],
                                save=lambda known: remembered.append(list(known)),
                                config=BluetoothConfig(pause_on_loss=pause),
                                bus=world.firmware_bus)
    world.bind(service)
    player.headphones.bind(  # the WAV answers at once: no thread, no wall-clock wait
        service, lambda address: HeadphoneWav(world.writer, session.loop, session.period),
        in_thread=False)
    session.deck.headphones = world  # the front panel's `h` key: start_pairing()
