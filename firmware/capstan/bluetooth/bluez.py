"""A mirror of BlueZ's objects over dbus-fast, and the few calls the player makes.

As bleak does, the mirror subscribes to InterfacesAdded, InterfacesRemoved and
PropertiesChanged *before* it asks GetManagedObjects, so nothing that happens
in between is lost; from then on it is a state store kept current by signals,
and readers wait on it instead of polling BlueZ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs
from capstan.errors import CapstanError

log = logging.getLogger(__name__)

Change = Callable[[str, str, dict[str, Any]], None]
"""Called with (object path, interface, changed properties); {} means the interface went away."""


class BluetoothError(CapstanError):
    """BlueZ or BlueALSA refused or failed a call; ``name`` is the D-Bus error name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{message} ({name})")
        self.name = name


def plain(value: Any) -> Any:
    """A D-Bus value with its Variants unwrapped, all the way down."""
    if isinstance(value, Variant):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


async def call(bus: MessageBus, destination: str, path: str, interface: str, member: str,
               signature: str = "", body: list | None = None) -> list:
    """One method call; a D-Bus error becomes a BluetoothError."""
    reply = await bus.call(Message(destination=destination, path=path, interface=interface,
                                   member=member, signature=signature, body=body or []))
    assert reply is not None
    if reply.message_type == MessageType.ERROR:
        text = reply.body[0] if reply.body else "no message"
        raise BluetoothError(reply.error_name or "unknown", f"{member} on {path}: {text}")
    return reply.body


async def add_match(bus: MessageBus, **rule: str) -> None:
    text = ",".join(f"{k}='{v}'" for k, v in rule.items())
    await call(bus, defs.DBUS, defs.DBUS_PATH, defs.DBUS, "AddMatch", "s", [text])


class BlueZ:
    """The mirrored org.bluez objects: ``objects[path][interface][property]``."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._listeners: list[Change] = []
        self._owner: str | None = None  # BlueZ's unique name: only its signals count

    def watch(self, listener: Change) -> None:
        self._listeners.append(listener)

    async def start(self) -> None:
        self.bus.add_message_handler(self._on_message)
        await add_match(self.bus, type="signal", sender=defs.DBUS, member="NameOwnerChanged",
                        arg0=defs.BLUEZ)
        await add_match(self.bus, type="signal", sender=defs.BLUEZ, interface=defs.OBJECT_MANAGER)
        await add_match(self.bus, type="signal", sender=defs.BLUEZ, interface=defs.PROPERTIES,
                        member="PropertiesChanged", path_namespace=defs.BLUEZ_ROOT)
        (self._owner,) = await call(self.bus, defs.DBUS, defs.DBUS_PATH, defs.DBUS,
                                    "GetNameOwner", "s", [defs.BLUEZ])
        (managed,) = await call(self.bus, defs.BLUEZ, "/", defs.OBJECT_MANAGER, "GetManagedObjects")
        for path, interfaces in managed.items():
            for interface, props in interfaces.items():
                self._merge(path, interface, plain(props))

    def stop(self) -> None:
        self.bus.remove_message_handler(self._on_message)

    # --- reading -----------------------------------------------------------------
    @property
    def adapter(self) -> str:
        for path, interfaces in sorted(self.objects.items()):
            if defs.ADAPTER in interfaces:
                return path
        raise BluetoothError("org.capstan.NoAdapter",
                             "no Bluetooth adapter: is bluetoothd running and the radio unblocked "
                             "(rfkill unblock bluetooth)?")

    def below_adapter(self, path: str) -> bool:
        """Is PATH one of the player's adapter's objects (its devices and theirs)? A
        second controller's devices, and that controller's own view of the player, are not."""
        try:
            return path.startswith(self.adapter + "/")
        except BluetoothError:
            return False

    def devices(self) -> dict[str, dict[str, Any]]:
        """Device1 properties by address, of the player's adapter only."""
        try:
            mine = self.adapter + "/"
        except BluetoothError:
            return {}
        return {p["Address"].upper(): p for path, i in self.objects.items()
                if (p := i.get(defs.DEVICE)) and "Address" in p and path.startswith(mine)}

    def device(self, address: str) -> dict[str, Any]:
        return self.devices().get(address.upper(), {})

    def path_of(self, address: str) -> str:
        return defs.device_path(self.adapter, address)

    # --- writing -----------------------------------------------------------------
    async def set(self, path: str, interface: str, name: str, signature: str, value: Any) -> None:
        await call(self.bus, defs.BLUEZ, path, defs.PROPERTIES, "Set", "ssv",
                   [interface, name, Variant(signature, value)])

    async def device_call(self, address: str, member: str, signature: str = "",
                          body: list | None = None) -> list:
        return await call(self.bus, defs.BLUEZ, self.path_of(address), defs.DEVICE, member,
                          signature, body)

    async def adapter_call(self, member: str, signature: str = "",
                           body: list | None = None) -> list:
        return await call(self.bus, defs.BLUEZ, self.adapter, defs.ADAPTER, member, signature, body)

    # --- signals -----------------------------------------------------------------
    def _merge(self, path: str, interface: str, changed: dict[str, Any]) -> None:
        self.objects.setdefault(path, {}).setdefault(interface, {}).update(changed)
        self._tell(path, interface, changed)

    def _tell(self, path: str, interface: str, changed: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(path, interface, changed)
            except Exception:  # one listener's bug must not blind the others
                log.exception("BlueZ listener failed on %s %s", path, interface)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL or not msg.path:
            return
        if msg.member == "NameOwnerChanged" and msg.body and msg.body[0] == defs.BLUEZ:
            self._owner = msg.body[2] or None
            if self._owner is None:  # bluetoothd went away: everything it had is gone
                for path in list(self.objects):
                    for interface in list(self.objects.get(path, {})):
                        self.objects[path].pop(interface)
                        self._tell(path, interface, {})
                self.objects.clear()
            return
        if msg.sender != self._owner:
            return  # BlueALSA also serves objects below /org/bluez
        if msg.interface == defs.OBJECT_MANAGER and msg.member == "InterfacesAdded":
            path, interfaces = msg.body
            for interface, props in interfaces.items():
                self._merge(path, interface, plain(props))
        elif msg.interface == defs.OBJECT_MANAGER and msg.member == "InterfacesRemoved":
            path, interfaces = msg.body
            for interface in interfaces:
                if self.objects.get(path, {}).pop(interface, None) is not None:
                    self._tell(path, interface, {})
            if not self.objects.get(path):
                self.objects.pop(path, None)
        elif msg.interface == defs.PROPERTIES and msg.member == "PropertiesChanged":
            interface, changed, invalidated = msg.body
            if path_props := self.objects.get(msg.path, {}).get(interface):
                for name in invalidated:
                    path_props.pop(name, None)
            if msg.path in self.objects or changed:
                self._merge(msg.path, interface, plain(changed))
