"""The headphones service against a private bus and the BlueZ mock (real dbus-daemon)."""

from __future__ import annotations

import asyncio

import pytest
from dbus_fast import Variant

from capstan.bluetooth import defs
from capstan.harness.bluez.mock import PHONE_CLASS

from .harness import QUICK, rig, until

pytestmark = pytest.mark.integration

NEAR, FAR, PHONE = "11:22:33:44:55:01", "11:22:33:44:55:02", "11:22:33:44:55:03"


def test_start_powers_the_adapter_never_discoverable_not_pairable(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            adapter = await r.mock.adapter()
            assert adapter["Powered"] and not adapter["Discoverable"] and not adapter["Pairable"]
            assert r.service.status()["pairing"] is False

    asyncio.run(scenario())


def test_pairing_window_picks_the_strongest_headphones_and_closes(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            r.service.open_pairing_window()
            await until(lambda: r.service.pairing.is_open, "window open")
            await r.mock.add_device(FAR, "Far cans", rssi=-75)
            await r.mock.add_device(PHONE, "A phone", rssi=-30, klass=PHONE_CLASS,
                                    audio_sink=False)
            await r.mock.add_device(NEAR, "Near cans", rssi=-45)
            await until(lambda: r.what("connected"), "headphones connected")
            assert [e["address"] for e in r.what("paired")] == [NEAR]
            near = await r.mock.device(NEAR)
            assert near["Paired"] and near["Trusted"] and near["Connected"]
            assert not (await r.mock.device(FAR))["Paired"]
            assert not (await r.mock.device(PHONE))["Paired"]
            assert r.memory[-1] == [NEAR]
            assert not r.service.pairing.is_open
            adapter = await r.mock.adapter()
            assert not adapter["Discoverable"]
            assert {"type": "pairing_window", "outcome": "paired", "address": NEAR} in r.events

    asyncio.run(scenario())


def test_pairing_window_lets_headphones_pair_from_their_side(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(NEAR, "Cans", rssi=-50)
            r.service.open_pairing_window()
            assert await r.mock.remote_pair(NEAR, "RequestAuthorization", r.agent_owner)

    asyncio.run(scenario())


def test_an_unknown_device_is_refused_outside_the_window(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(NEAR, "Stranger's cans", rssi=-40)
            assert not await r.mock.remote_pair(NEAR, "RequestAuthorization", r.agent_owner)
            assert not await r.mock.remote_connect(NEAR, defs.A2DP_SINK_UUID, r.agent_owner)
            device = await r.mock.device(NEAR)
            assert not device["Paired"] and not device["Connected"]
            assert [e["reason"] for e in r.what("refused")] == ["pairing", "service"]

    asyncio.run(scenario())


def test_reconnect_with_backoff_after_a_link_drop(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(NEAR, "Cans")
            await r.mock.mock("PairDevice", "ss", ["hci0", NEAR])
        # A new start, as after a reboot: the remembered headphones are reconnected.
        async with rig(known=[NEAR]) as r:
            await until(lambda: r.service.link.connected == NEAR, "reconnected at start")
            assert [e["address"] for e in r.what("connected")] == [NEAR]
            await r.mock.mock("SetReachable", "ssb", ["hci0", NEAR, False])
            await r.mock.mock("DisconnectDevice", "ss", ["hci0", NEAR])  # the link drops
            await until(lambda: r.what("disconnected"), "link drop seen")
            await until(lambda: r.service.link.failures >= 3, "several attempts failed")
            assert r.service.link.connected is None
            await r.mock.mock("SetReachable", "ssb", ["hci0", NEAR, True])
            await until(lambda: r.service.link.connected == NEAR, "reconnected after backoff")
            assert len(r.what("connected")) == 2

    asyncio.run(scenario())


def test_a_known_headphone_appearing_is_connected_at_once(bluez_mock) -> None:
    from dataclasses import replace

    from capstan.bluetooth.reconnect import Backoff

    patient = replace(QUICK, backoff=Backoff(first=3600.0, ceiling=3600.0))

    async def scenario() -> None:
        async with rig() as r:
            path = await r.mock.add_device(NEAR, "Cans")
            await r.mock.mock("PairDevice", "ss", ["hci0", NEAR])
            await r.mock.mock("SetReachable", "ssb", ["hci0", NEAR, False])
        async with rig(known=[NEAR], config=patient) as r:
            await until(lambda: r.service.link.failures == 1, "first attempt failed")
            await r.mock.mock("SetReachable", "ssb", ["hci0", NEAR, True])
            # Switched on: it answers an inquiry / its RSSI is seen again.
            await r.mock.update(path, defs.DEVICE, {"RSSI": Variant("n", -50)})
            await until(lambda: r.service.link.connected == NEAR, "connected on appearance")

    asyncio.run(scenario())


def test_forget_all_unpairs_and_clears_the_memory(bluez_mock) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(NEAR, "Cans")
            await r.mock.mock("PairDevice", "ss", ["hci0", NEAR])
        async with rig(known=[NEAR]) as r:
            await until(lambda: r.service.link.connected == NEAR, "connected")
            r.service.forget_all()
            await until(lambda: NEAR not in r.service.bluez.devices(), "removed from BlueZ")
            assert r.memory[-1] == [] and r.service.link.known == ()

    asyncio.run(scenario())
