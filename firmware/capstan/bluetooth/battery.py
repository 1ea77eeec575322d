"""A headphone's battery: BlueZ's Battery1 when it has one, else GATT 0x180F.

Classic headphones report their level to BlueZ (HFP's +IPHONEACCEV/+XEVENT or
the AVRCP battery status), which BlueZ shows as ``org.bluez.Battery1``. LE
capable headphones may instead serve the GATT Battery Service, which BlueZ
exports (once ``ServicesResolved``) as ``GattService1``/``GattCharacteristic1``
objects below the device; the Battery Level characteristic is read with
``GattCharacteristic1.ReadValue`` on the firmware's own D-Bus connection.

Not with bleak: bleak's ``BleakClient`` owns the connection it makes, and on
leaving (``disconnect()``/``async with``) it calls ``Device1.Disconnect`` —
which, on a dual-mode headphone, drops every profile, the A2DP stream
included (tests/bluetooth/test_battery.py showed it against the mock). bleak
has no public way to read from a connection someone else keeps up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import BluetoothError, call

log = logging.getLogger(__name__)

GattReader = Callable[[str, str], Awaitable[int | None]]  # (address, device path) -> percent
Objects = dict[str, dict[str, dict[str, Any]]]


def battery_level_path(objects: Objects, path: str) -> str | None:
    """The Battery Level characteristic (0x2A19) of the Battery Service (0x180F) below the
    device at PATH, as BlueZ exports the device's GATT database; None if it has none."""
    for char_path, interfaces in sorted(objects.items()):
        char = interfaces.get(defs.GATT_CHARACTERISTIC)
        if not char or not char_path.startswith(path + "/"):
            continue
        if str(char.get("UUID", "")).lower() != defs.BATTERY_LEVEL_UUID:
            continue
        service = objects.get(str(char.get("Service", "")), {}).get(defs.GATT_SERVICE, {})
        if str(service.get("UUID", "")).lower() == defs.BATTERY_SERVICE_UUID:
            return char_path
    return None


async def read_gatt_battery(bus: MessageBus, objects: Objects, path: str) -> int | None:
    """Battery Level (0..100 %) of the connected device at PATH, or None if not served."""
    char_path = battery_level_path(objects, path)
    if char_path is None:
        return None
    try:
        (value,) = await call(bus, defs.BLUEZ, char_path, defs.GATT_CHARACTERISTIC, "ReadValue",
                              "a{sv}", [{}])
    except BluetoothError as exc:
        log.info("no GATT battery level from %s: %s", path, exc)
        return None
    return min(int(value[0]), 100) if value else None


def battery1_percent(objects: Objects, path: str) -> int | None:
    """Battery1.Percentage of the device at PATH in a BlueZ mirror, if BlueZ has it."""
    value = objects.get(path, {}).get(defs.BATTERY, {}).get("Percentage")
    return None if value is None else int(value)


def serves_gatt_battery(device: dict[str, Any]) -> bool:
    return defs.BATTERY_SERVICE_UUID in {str(u).lower() for u in device.get("UUIDs", ())}


async def headphone_battery(objects: Objects, path: str, device: dict[str, Any],
                            gatt: GattReader) -> tuple[int, str] | None:
    """(percent, source) from Battery1 first, else from GATT; None if neither has it."""
    percent = battery1_percent(objects, path)
    if percent is not None:
        return percent, "Battery1"
    if serves_gatt_battery(device) and (percent := await gatt(device["Address"], path)) is not None:
        return percent, "GATT"
    return None
