"""The headphones service: BlueZ, the agent, BlueALSA and the two pure policies, wired.

Everything that decides lives in :mod:`pairing` and :mod:`reconnect` (pure,
clock-injected); this class only turns BlueZ signals into their events, runs
their actions as D-Bus calls (each a task that reports back as an event) and
wakes them at their deadlines with ``loop.call_at``. Nothing here sleeps or
polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs, pairing, reconnect
from capstan.bluetooth.agent import PairingAgent
from capstan.bluetooth.battery import GattReader, headphone_battery, read_gatt_battery
from capstan.bluetooth.bluealsa import BlueAlsa
from capstan.bluetooth.bluez import BluetoothError, BlueZ, call
from capstan.bluetooth.events import BluetoothEvent, HeadphoneBattery, PairingWindowClosed
from capstan.bluetooth.route import HeadphoneRoute
from capstan.events import EventBus

log = logging.getLogger(__name__)


def fraction(level: int) -> float:
    """An absolute volume 0..127 as the 0.0..1.0 the reports use."""
    return round(level / defs.MEDIA_TRANSPORT_VOLUME_MAX, 3)


@dataclass(frozen=True)
class BluetoothConfig:
    window: float = pairing.WINDOW
    dwell: float = pairing.DWELL
    backoff: reconnect.Backoff = field(default_factory=reconnect.Backoff)
    pause_on_loss: bool = True
    bluealsa_service: str = defs.BLUEALSA


class HeadphonesService:
    """Pair on request, reconnect by itself, tell the audio layer where the sound goes.

    ``load()`` returns the remembered headphones (last used first) and
    ``save(addresses)`` persists them; the daemon passes its durable state.
    """

    def __init__(self, events: EventBus, load: Callable[[], Sequence[str]],
                 save: Callable[[Sequence[str]], None], config: BluetoothConfig | None = None,
                 route: HeadphoneRoute | None = None, bus: MessageBus | None = None,
                 gatt: GattReader | None = None) -> None:
        self.config = config or BluetoothConfig()
        self.events = events
        self.route = route or HeadphoneRoute(pause_on_loss=self.config.pause_on_loss)
        self._load, self._save = load, save
        self._gatt: GattReader = gatt or self._read_gatt
        self._bus, self._own_bus = bus, bus is None
        self.pairing = pairing.PairingState(window=self.config.window, dwell=self.config.dwell)
        self.link = reconnect.LinkState(backoff=self.config.backoff)
        self.battery: dict[str, int] = {}
        self.volume_listeners: list[Callable[[str, int], None]] = []  # (address, 0..127)
        self._echoes: dict[str, list[int]] = {}  # levels we set, whose echo is still due
        self._tasks: set[asyncio.Task] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- life cycle ------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._bus is None:
            self._bus = await MessageBus(bus_type=BusType.SYSTEM, negotiate_unix_fd=True).connect()
        self.bluez = BlueZ(self._bus)
        self.bluez.watch(self._on_bluez)
        await self.bluez.start()
        adapter = self.bluez.adapter
        self._bus.export(defs.AGENT_PATH, PairingAgent(self))
        await call(self._bus, defs.BLUEZ, defs.BLUEZ_ROOT, defs.AGENT_MANAGER, "RegisterAgent",
                   "os", [defs.AGENT_PATH, defs.AGENT_CAPABILITY])
        await call(self._bus, defs.BLUEZ, defs.BLUEZ_ROOT, defs.AGENT_MANAGER,
                   "RequestDefaultAgent", "o", [defs.AGENT_PATH])
        # After the agent: bluetoothd makes every adapter pairable when a default agent
        # registers, so Pairable is switched off only now.
        for name, value in (("Powered", True), ("Discoverable", False), ("Pairable", False)):
            await self.bluez.set(adapter, defs.ADAPTER, name, "b", value)
        self.bluealsa = BlueAlsa(self._bus, self.route, self.config.bluealsa_service,
                                 absolute=lambda a: self.transport_volume(a) is not None)
        await self.bluealsa.start()
        paired = {a for a, p in self.bluez.devices().items() if p.get("Paired")}
        known = tuple(a.upper() for a in self._load() if a.upper() in paired)
        self.link = reconnect.LinkState(known=known, backoff=self.config.backoff)
        for address in known:
            if self.bluez.device(address).get("Connected"):
                self._step_link(reconnect.LinkUp(address))
        self._step_link(reconnect.Start())

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._bus is None:
            return
        try:
            if self.pairing.is_open:
                await self.bluez.set(self.bluez.adapter, defs.ADAPTER, "Pairable", "b", False)
            await call(self._bus, defs.BLUEZ, defs.BLUEZ_ROOT, defs.AGENT_MANAGER,
                       "UnregisterAgent", "o", [defs.AGENT_PATH])
        except BluetoothError as exc:
            log.info("while stopping: %s", exc)
        self._bus.unexport(defs.AGENT_PATH)
        self.bluealsa.stop()
        self.bluez.stop()
        if self._own_bus:
            self._bus.disconnect()

    @property
    def bus(self) -> MessageBus | None:
        """The player's connection to the system bus (BlueZ calls the player's objects on it)."""
        return self._bus

    # --- what the buttons do -------------------------------------------------------------
    def open_pairing_window(self) -> None:
        """PAIR held: a window of ``config.window`` seconds in which headphones may pair."""
        self._step_pairing(pairing.OpenWindow())

    def forget_all(self) -> None:
        """Forget every remembered headphone (unpair them in BlueZ too)."""
        if self.link.connected:
            self._run(self.bluez.device_call(self.link.connected, "Disconnect"))
        self._step_link(reconnect.ForgetAll())

    async def set_volume(self, level: int) -> None:
        """The connected headphone's volume, 0..127 (BlueALSA PCM Volume; with absolute
        volume BlueALSA passes it on to the headphones as the transport's Volume)."""
        address = self.route.active
        if address is None:
            raise LookupError("no headphones connected")
        echo = self.bluealsa.native(address) and level != self.transport_volume(address)
        if echo:  # BlueZ will signal the new Volume back: not the headphones' own change
            self._echoes.setdefault(address, []).append(level)
        try:
            await self.bluealsa.set_volume(address, level)
        except Exception:
            if echo and level in self._echoes.get(address, []):
                self._echoes[address].remove(level)
            raise
        self._publish(BluetoothEvent("volume", address, value=fraction(level), source="player"))

    def transport_volume(self, address: str) -> int | None:
        """The A2DP transport's Volume (AVRCP absolute volume, 0..127) as BlueZ shows it;
        None when the headphones do not take an absolute volume."""
        prefix = self.bluez.path_of(address) + "/"
        for path, interfaces in self.bluez.objects.items():
            props = interfaces.get(defs.MEDIA_TRANSPORT)
            if path.startswith(prefix) and props and "Volume" in props:
                return int(props["Volume"])
        return None

    def volume(self) -> int | None:
        return self.bluealsa.volume(self.route.active) if self.route.active else None

    def status(self) -> dict[str, Any]:
        now = self._loop.time() if self._loop else 0.0
        closes = self.pairing.closes_at
        return {"pairing": self.pairing.is_open,
                "pairing_closes_in": None if closes is None else max(0.0, closes - now),
                "connected": self.link.connected, "known": list(self.link.known),
                "output": self.route.pcm, "battery": dict(self.battery)}

    # --- the agent's questions (Gate) --------------------------------------------------
    def allow_pairing(self, address: str, how: str) -> bool:
        ok = pairing.may_pair(self.pairing, address, defs.is_audio_sink(self.bluez.device(address)))
        if not ok:
            self._publish(BluetoothEvent("refused", address, "pairing"))
        return ok

    def allow_service(self, address: str, uuid: str) -> bool:
        device = self.bluez.device(address)
        ok = (self.link.knows(address) and bool(device.get("Paired"))) or (
            self.pairing.is_open and defs.is_audio_sink(device))
        if not ok:
            self._publish(BluetoothEvent("refused", address, "service"))
        return ok

    # --- policies ------------------------------------------------------------------------
    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _step_pairing(self, event: pairing.PairingEvent) -> None:
        self.pairing, actions = pairing.step(self.pairing, event, self._now())
        self._arm()
        for action in actions:
            self._do_pairing(action)

    def _step_link(self, event: reconnect.LinkEvent) -> None:
        self.link, actions = reconnect.step(self.link, event, self._now())
        self._arm()
        for action in actions:
            self._do_link(action)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        times = [t for t in (pairing.next_deadline(self.pairing),
                             reconnect.next_deadline(self.link)) if t is not None]
        if times and self._loop is not None:
            self._timer = self._loop.call_at(min(times), self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._step_pairing(pairing.Tick())
        self._step_link(reconnect.Tick())

    # --- actions ---------------------------------------------------------------------------
    def _run(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("Bluetooth action failed: %s", exc)

    def _do_pairing(self, action: Any) -> None:
        if isinstance(action, pairing.SetPairable):
            self._run(self.bluez.set(self.bluez.adapter, defs.ADAPTER, "Pairable", "b", action.on))
        elif isinstance(action, pairing.Discover):
            self._run(self._discover(action.on))
        elif isinstance(action, pairing.Pair):
            self._run(self._pair(action.address))
        elif isinstance(action, pairing.CancelPairing):
            self._run(self.bluez.device_call(action.address, "CancelPairing"))
        elif isinstance(action, pairing.Adopt):
            self._run(self._adopt(action.address))
        elif isinstance(action, pairing.WindowClosed):
            self._publish(PairingWindowClosed(action.outcome, action.address))

    def _do_link(self, action: Any) -> None:
        if isinstance(action, reconnect.Connect):
            self._run(self._connect(action.address))
        elif isinstance(action, reconnect.Save):
            self._save(list(action.known))
        elif isinstance(action, reconnect.Remove):
            path = self.bluez.path_of(action.address)
            self._run(self.bluez.adapter_call("RemoveDevice", "o", [path]))

    async def _discover(self, on: bool) -> None:
        try:
            await self.bluez.adapter_call("StartDiscovery" if on else "StopDiscovery")
        except BluetoothError as exc:  # already (not) discovering: the state we want
            log.debug("discovery %s: %s", on, exc)

    async def _pair(self, address: str) -> None:
        try:
            await self.bluez.device_call(address, "Pair")
            ok = True
        except BluetoothError as exc:
            ok = exc.name == defs.ERROR_ALREADY_EXISTS
            log.info("pairing %s failed: %s", address, exc)
        self._step_pairing(pairing.PairResult(address, ok))

    async def _adopt(self, address: str) -> None:
        await self.bluez.set(self.bluez.path_of(address), defs.DEVICE, "Trusted", "b", True)
        self._step_link(reconnect.Remember(address))
        self._publish(BluetoothEvent("paired", address))
        self._step_link(reconnect.Appeared(address))

    async def _connect(self, address: str) -> None:
        try:
            await self.bluez.device_call(address, "ConnectProfile", "s", [defs.A2DP_SINK_UUID])
        except BluetoothError as exc:
            if exc.name != defs.ERROR_ALREADY_CONNECTED:
                log.info("connecting %s failed: %s", address, exc)
                self._step_link(reconnect.ConnectFailed(address))
                return
        if self.bluez.device(address).get("Connected") and self.link.connected != address:
            self._step_link(reconnect.LinkUp(address))

    async def _read_gatt(self, address: str, path: str) -> int | None:
        return await read_gatt_battery(self.bluez.bus, self.bluez.objects, path)

    async def _read_battery(self, address: str) -> None:
        path = self.bluez.path_of(address)
        found = await headphone_battery(self.bluez.objects, path, self.bluez.device(address),
                                        self._gatt)
        if found is not None:
            self.battery[address] = found[0]
            self._publish(HeadphoneBattery(address, found[0], found[1]))

    # --- BlueZ's news -------------------------------------------------------------------------
    def _on_bluez(self, path: str, interface: str, changed: dict[str, Any]) -> None:
        address = defs.address_of(path)
        if address is None or self._loop is None or not self.bluez.below_adapter(path):
            return  # another adapter's device is none of the player's business
        if interface == defs.MEDIA_TRANSPORT and "Volume" in changed:
            self._transport_volume(address, int(changed["Volume"]))
        if interface == defs.BATTERY and "Percentage" in changed:
            self.battery[address] = int(changed["Percentage"])
            self._publish(HeadphoneBattery(address, self.battery[address], "Battery1"))
        if interface != defs.DEVICE:
            return
        device = self.bluez.device(address)
        if not changed:  # the device object went away
            self._lost(address)
            return
        if "RSSI" in changed and not device.get("Paired") and self.pairing.is_open:
            self._step_pairing(pairing.Sighted(address, int(changed["RSSI"]),
                                               defs.is_audio_sink(device)))
        if ("RSSI" in changed or "Address" in changed) and self.link.knows(address):
            self._step_link(reconnect.Appeared(address))
        if "Connected" in changed:
            if changed["Connected"]:
                self._connected(address, device)
            else:
                self._lost(address)

    def _connected(self, address: str, device: dict[str, Any]) -> None:
        if self.link.knows(address):
            self._publish(BluetoothEvent("connected", address))
            self._step_link(reconnect.LinkUp(address))
            self._run(self._read_battery(address))
        elif not self.pairing.is_open:
            # Belt and braces: BlueZ should not have let it in. Show it the door.
            self._publish(BluetoothEvent("refused", address, "connection"))
            self._run(self.bluez.device_call(address, "Disconnect"))

    def _transport_volume(self, address: str, level: int) -> None:
        """BlueZ's transport Volume changed: our own level coming back, or the headphones'."""
        if address != self.route.active:
            return  # no stream yet: BlueALSA's PCM decides native or not when it comes
        if not self.bluealsa.native(address):  # absolute volume showed up late
            self._run(self._go_native(address))
            return
        echoes = self._echoes.get(address, [])
        if level in echoes:
            del echoes[:echoes.index(level) + 1]
            return
        echoes.clear()  # a headphone that rounds our level answers with its own: ours are done
        self.bluealsa.heard(address, level)
        self._publish(BluetoothEvent("volume", address, value=fraction(level),
                                     source="headphones"))
        for listener in list(self.volume_listeners):
            try:
                listener(address, level)
            except Exception:
                log.exception("volume listener failed")

    async def _go_native(self, address: str) -> None:
        """Hand the level BlueALSA was scaling to over to the headphones (no jump)."""
        await self.bluealsa.use_native(address)
        level = self.bluealsa.volume(address)
        if level is not None and self.route.active == address:
            await self.set_volume(level)

    def _lost(self, address: str) -> None:
        self._echoes.pop(address, None)
        if self.link.connected == address:
            self._publish(BluetoothEvent("disconnected", address))
            self.route.link_lost(address)
            self._step_link(reconnect.LinkLost(address))

    def _publish(self, event: Any) -> None:
        self.events.publish(event)
