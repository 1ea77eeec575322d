"""Without a press of PAIR, none of N scripted pairing or connection attempts succeeds."""

from __future__ import annotations

import asyncio
import random

import pytest

from capstan.bluetooth import defs
from capstan.harness.bluez.mock import PHONE_CLASS

from .harness import rig, until

pytestmark = pytest.mark.integration

N = 40
METHODS = ["RequestAuthorization", "RequestConfirmation", "RequestPinCode", "RequestPasskey"]
UUIDS = [defs.A2DP_SINK_UUID, defs.A2DP_SOURCE_UUID,
         "00001124-0000-1000-8000-00805f9b34fb",  # HID: a keyboard injecting keys
         "0000111e-0000-1000-8000-00805f9b34fb"]  # hands-free


def test_no_stranger_gets_in_without_pair(bluez_mock) -> None:
    rnd = random.Random(5)
    script = [(rnd.choice(["pair", "connect", "force"]), rnd.randrange(8),
               rnd.choice(METHODS), rnd.choice(UUIDS)) for _ in range(N)]

    async def scenario() -> None:
        async with rig() as r:
            addresses = [f"66:55:44:33:22:{i:02X}" for i in range(8)]
            for i, address in enumerate(addresses):
                await r.mock.add_device(address, f"stranger {i}", rssi=-30 - i,
                                        klass=PHONE_CLASS if i % 2 else 0x240404,
                                        audio_sink=i % 2 == 0)
            let_in = 0
            for kind, who, method, uuid in script:
                address = addresses[who]
                if kind == "pair":
                    let_in += await r.mock.remote_pair(address, method, r.agent_owner)
                elif kind == "connect":
                    let_in += await r.mock.remote_connect(address, uuid, r.agent_owner)
                else:  # the link comes up anyway (a bug in the stack): the player hangs up
                    await r.mock.mock("ConnectDevice", "ss", ["hci0", address])
                    await until(lambda a=address: not r.service.bluez.device(a)["Connected"],
                                "stranger hung up on")
            assert let_in == 0
            for address in addresses:
                device = await r.mock.device(address)
                assert not device["Paired"] and not device["Connected"] and not device["Trusted"]
            assert r.what("paired") == [] and r.what("connected") == []
            assert len(r.what("refused")) == N
            assert r.memory[-1] == [] and r.audio.calls == []

    asyncio.run(scenario())
