"""A headphone's battery: BlueZ's Battery1 when it has one, else GATT 0x180F via bleak.

Classic headphones report their level to BlueZ (HFP's +IPHONEACCEV/+XEVENT or
the AVRCP battery status), which BlueZ shows as ``org.bluez.Battery1``. LE
capable headphones may instead serve the GATT Battery Service; bleak reads its
Battery Level characteristic. bleak is imported only when that path is taken.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from capstan.bluetooth import defs

log = logging.getLogger(__name__)

GattReader = Callable[[str], Awaitable[int | None]]


async def read_gatt_battery(address: str, timeout: float = 10.0) -> int | None:
    """Battery Level (0..100 %) from the GATT Battery Service, or None if not served."""
    from bleak import BleakClient  # lazy: only LE-capable headphones need it
    from bleak.exc import BleakError

    try:
        async with BleakClient(address, timeout=timeout) as client:
            data = await client.read_gatt_char(defs.BATTERY_LEVEL_UUID)
    except (BleakError, TimeoutError, OSError) as exc:
        log.info("no GATT battery level from %s: %s", address, exc)
        return None
    return int(data[0]) if data else None


def battery1_percent(objects: dict[str, dict[str, dict[str, Any]]], path: str) -> int | None:
    """Battery1.Percentage of the device at PATH in a BlueZ mirror, if BlueZ has it."""
    value = objects.get(path, {}).get(defs.BATTERY, {}).get("Percentage")
    return None if value is None else int(value)


def serves_gatt_battery(device: dict[str, Any]) -> bool:
    return defs.BATTERY_SERVICE_UUID in {str(u).lower() for u in device.get("UUIDs", ())}


async def headphone_battery(objects: dict[str, dict[str, dict[str, Any]]], path: str,
                            device: dict[str, Any],
                            gatt: GattReader = read_gatt_battery) -> tuple[int, str] | None:
    """(percent, source) from Battery1 first, else from GATT; None if neither has it."""
    percent = battery1_percent(objects, path)
    if percent is not None:
        return percent, "Battery1"
    if serves_gatt_battery(device) and (percent := await gatt(device["Address"])) is not None:
        return percent, "GATT"
    return None
