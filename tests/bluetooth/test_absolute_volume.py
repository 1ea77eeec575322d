"""Absolute volume or BlueALSA's scaling, decided by what BlueZ shows of the headphones."""

from __future__ import annotations

import asyncio
import socket

import pytest

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import call
from capstan.harness.bluez.mock import a2dp_stream

from .harness import rig, until

pytestmark = pytest.mark.integration

CANS = "00:1B:66:0A:0B:0C"


async def soft_volume(r) -> bool:
    (value,) = await call(r.service.bus, defs.BLUEALSA, r.service.bluealsa.pcms[CANS],
                          defs.PROPERTIES, "Get", "ss", [defs.BLUEALSA_PCM, "SoftVolume"])
    return bool(value.value)


def test_without_absolute_volume_bluealsa_scales_until_avrcp_shows_it(bluez_mock,
                                                                      bluealsa) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(CANS, "Cans")
            await r.mock.mock("PairDevice", "ss", ["hci0", CANS])
        async with rig(known=[CANS]) as r:
            await r.mock.mock("SetAbsoluteVolume", "ssb", ["hci0", CANS, False])
            fd = await a2dp_stream(r.mock, CANS)
            await until(lambda: r.service.route.active == CANS, "transport up")
            assert r.service.transport_volume(CANS) is None
            assert await soft_volume(r)  # BlueALSA scales the samples itself
            await r.service.set_volume(40)
            assert r.service.volume() == 40
            # AVRCP comes up after the stream: the transport shows a Volume (127)
            await r.mock.mock("SetAbsoluteVolume", "ssb", ["hci0", CANS, True])
            await until(lambda: r.service.bluealsa.native(CANS), "switched to absolute volume")
            assert not await soft_volume(r)
            # the level BlueALSA was scaling to is handed to the headphones: no jump
            await until(lambda: r.service.transport_volume(CANS) == 40, "level handed over")
            volume = [(e["value"], e["source"]) for e in r.what("volume")]
            assert volume == [(0.315, "player"), (0.315, "player")]  # never "headphones"
            socket.socket(fileno=fd).close()

    asyncio.run(scenario())


def test_with_absolute_volume_the_pcm_passes_the_level_to_the_headphones(bluez_mock,
                                                                        bluealsa) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await r.mock.add_device(CANS, "Cans")
            await r.mock.mock("PairDevice", "ss", ["hci0", CANS])
        async with rig(known=[CANS]) as r:
            fd = await a2dp_stream(r.mock, CANS)
            await until(lambda: r.service.route.active == CANS, "transport up")
            assert r.service.bluealsa.native(CANS) and not await soft_volume(r)
            await r.service.set_volume(90)
            await until(lambda: r.service.transport_volume(CANS) == 90, "sent to the headphones")
            await r.mock.mock("SetTransportVolume", "ssq", ["hci0", CANS, 30])
            await until(lambda: r.service.volume() == 30, "their own change heard")
            assert [e["source"] for e in r.what("volume")] == ["player", "headphones"]
            socket.socket(fileno=fd).close()

    asyncio.run(scenario())
