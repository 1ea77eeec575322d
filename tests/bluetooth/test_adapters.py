"""The player follows its own adapter's objects: a second controller's devices are not its
business, and an adapter that goes away and comes back (a controller reset) is followed."""

from __future__ import annotations

import asyncio

import pytest
from dbus_fast import Variant

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import BluetoothError
from capstan.harness.bluez.mock import ADAPTER, HCI

from .harness import rig, until

pytestmark = pytest.mark.integration

PLAYER_SEEN_FROM_HCI1 = "00:01:02:03:04:05"  # hci0's address, as the mock makes it


def test_a_second_adapters_devices_are_not_the_players(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.mock("AddAdapter", "ss", ["hci1", "other"])
            # the second controller's own device object for the player, its link up
            path = await r.mock.mock("AddDevice", "sss", ["hci1", PLAYER_SEEN_FROM_HCI1,
                                                          "the player"])
            await r.mock.update(path, defs.DEVICE, {"Class": Variant("u", 0x240404),
                                                    "RSSI": Variant("n", -30)})
            await until(lambda: path in r.service.bluez.objects, "hci1's device mirrored")
            r.service.open_pairing_window()
            await r.mock.update(path, defs.DEVICE, {"Connected": Variant("b", True),
                                                    "RSSI": Variant("n", -20)})
            # a barrier, not a pause: BlueZ's signals reach the mirror in order, so once
            # this later change to hci0 is mirrored, hci1's connection has been heard
            await r.mock.update(ADAPTER, defs.ADAPTER, {"Alias": Variant("s", "barrier")})
            await until(lambda: r.service.bluez.objects[ADAPTER][defs.ADAPTER].get("Alias")
                        == "barrier", "the later change to hci0 mirrored")
            assert r.service.bluez.adapter == ADAPTER
            assert PLAYER_SEEN_FROM_HCI1 not in r.service.bluez.devices()
            assert r.service.pairing.candidates == {}
            assert not r.what("refused") and not r.what("paired")

    asyncio.run(scenario())


def test_an_adapter_that_goes_and_comes_back_is_followed(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            bluez = r.service.bluez
            await r.mock.mock("RemoveAdapter", "s", [HCI])
            await until(lambda: all(defs.ADAPTER not in i for i in bluez.objects.values()),
                        "the adapter gone from the mirror")
            with pytest.raises(BluetoothError):
                bluez.adapter  # noqa: B018
            await r.mock.add_adapter()
            await until(lambda: ADAPTER in bluez.objects
                        and defs.ADAPTER in bluez.objects[ADAPTER], "the adapter back")
            assert bluez.adapter == ADAPTER
            assert bluez.objects[ADAPTER][defs.ADAPTER].get("Address")

    asyncio.run(scenario())
