"""A headphone's battery against the real private bus and the BlueZ mock: BlueZ's Battery1
when the device has it, else the GATT Battery Service (0x180F), read with
GattCharacteristic1.ReadValue (not bleak: its client's teardown calls Device1.Disconnect,
which dropped the headphones' link here — see capstan.bluetooth.battery)."""

from __future__ import annotations

import asyncio

import pytest
from dbus_fast import Variant

from capstan.bluetooth import defs
from capstan.bluetooth.battery import read_gatt_battery

from .harness import rig, until

pytestmark = pytest.mark.integration

CANS = "11:22:33:44:55:0A"


def battery_events(r) -> list[dict]:
    return [e for e in r.events if e.get("type") == "headphone_battery"]


async def paired_headphones(r, battery1: int | None = None, gatt: int | None = None) -> str:
    path = await r.mock.add_device(CANS, "Cans")
    await r.mock.mock("PairDevice", "ss", ["hci0", CANS])
    if battery1 is not None:
        await r.mock.add_battery(CANS, battery1)
    if gatt is not None:
        await r.mock.add_gatt_battery(CANS, gatt)
    return path


def test_battery1_percentage_in_status_and_events(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            path = await paired_headphones(r, battery1=80)
        async with rig(known=[CANS]) as r:
            await until(lambda: battery_events(r), "a battery event after connecting")
            assert battery_events(r)[0] == {"type": "headphone_battery", "address": CANS,
                                            "percent": 80, "source": "Battery1"}
            assert r.service.status()["battery"] == {CANS: 80}
            await r.mock.update(path, defs.BATTERY, {"Percentage": Variant("y", 65)})
            await until(lambda: r.service.status()["battery"] == {CANS: 65}, "the new level")
            assert battery_events(r)[-1]["percent"] == 65

    asyncio.run(scenario())


def test_gatt_battery_service_read_keeps_the_link(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await paired_headphones(r, gatt=42)
        async with rig(known=[CANS]) as r:
            await until(lambda: battery_events(r), "a battery event after connecting")
            assert battery_events(r)[0] == {"type": "headphone_battery", "address": CANS,
                                            "percent": 42, "source": "GATT"}
            assert r.service.status()["battery"] == {CANS: 42}
            # reading the battery must not cost the audio link
            assert (await r.mock.device(CANS))["Connected"]
            assert r.service.link.connected == CANS
            assert not r.what("disconnected")
            # a later level, read again on the next connection's worth of asking
            await r.mock.mock("SetGattBattery", "ssy", ["hci0", CANS, 37])
            bluez = r.service.bluez
            assert await read_gatt_battery(bluez.bus, bluez.objects, bluez.path_of(CANS)) == 37

    asyncio.run(scenario())


def test_no_battery_anywhere_says_nothing(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await paired_headphones(r)
        async with rig(known=[CANS]) as r:
            await until(lambda: r.service.link.connected == CANS, "connected")
            bluez = r.service.bluez
            assert await read_gatt_battery(bluez.bus, bluez.objects, bluez.path_of(CANS)) is None
            assert not battery_events(r) and r.service.status()["battery"] == {}

    asyncio.run(scenario())
