"""Driving the BlueZ mock (template.py) from the simulator or a test, asynchronously.

The calls are async on purpose: RemotePair/RemoteConnect make the mock call the
firmware's agent, which answers on the same loop.
"""

from __future__ import annotations

from typing import Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import call

HCI = "hci0"
ADAPTER = f"/org/bluez/{HCI}"
HEADPHONES_CLASS = 0x240404  # Audio + Rendering services; Audio/Video, wearable headset
PHONE_CLASS = 0x5A020C
SBC_48K_JOINT_STEREO = bytes([0x11, 0x15, 2, 53])  # 48 kHz, joint stereo, 16 blocks, 8 subbands


class BluezMock:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    async def mock(self, member: str, signature: str = "", body: list | None = None) -> Any:
        reply = await call(self.bus, defs.BLUEZ, "/", "org.bluez.Mock", member, signature, body)
        return reply[0] if reply else None

    async def add_adapter(self) -> None:
        await self.mock("AddAdapter", "ss", [HCI, "capstan"])

    async def update(self, path: str, interface: str, props: dict[str, Variant]) -> None:
        await call(self.bus, defs.BLUEZ, path, "org.freedesktop.DBus.Mock", "UpdateProperties",
                   "sa{sv}", [interface, props])

    async def add_device(self, address: str, name: str, rssi: int = -60,
                         klass: int = HEADPHONES_CLASS, audio_sink: bool = True) -> str:
        """A device in pairing mode answering an inquiry at RSSI dBm."""
        path = await self.mock("AddDevice", "sss", [HCI, address, name])
        uuids = [defs.A2DP_SINK_UUID] if audio_sink else []
        await self.update(path, defs.DEVICE, {"Class": Variant("u", klass),
                                              "UUIDs": Variant("as", uuids),
                                              "RSSI": Variant("n", rssi)})
        return path

    async def add_battery(self, address: str, percent: int) -> None:
        """BlueZ's Battery1 on the device (a classic headphone's HFP/AVRCP battery report)."""
        await self.mock("AddBattery", "ssy", [HCI, address, percent])

    async def add_gatt_battery(self, address: str, percent: int) -> str:
        """The GATT Battery Service (0x180F, Battery Level 0x2A19) under the device."""
        return str(await self.mock("AddGattBattery", "ssy", [HCI, address, percent]))

    async def remote_pair(self, address: str, method: str, agent_owner: str) -> bool:
        return bool(await self.mock("RemotePair", "ssss", [HCI, address, method, agent_owner]))

    async def remote_connect(self, address: str, uuid: str, agent_owner: str) -> bool:
        return bool(await self.mock("RemoteConnect", "ssss", [HCI, address, uuid, agent_owner]))

    async def device(self, address: str) -> dict[str, Any]:
        path = defs.device_path(ADAPTER, address)
        (props,) = await call(self.bus, defs.BLUEZ, path, defs.PROPERTIES, "GetAll", "s",
                              [defs.DEVICE])
        return {k: v.value for k, v in props.items()}

    async def adapter(self) -> dict[str, Any]:
        (props,) = await call(self.bus, defs.BLUEZ, ADAPTER, defs.PROPERTIES, "GetAll", "s",
                              [defs.ADAPTER])
        return {k: v.value for k, v in props.items()}


async def a2dp_stream(mock: BluezMock, address: str) -> int:
    """BlueZ's part of an A2DP stream to ADDRESS; returns the headphones' end of the socket."""
    from dbus_fast import Message, MessageType

    reply = await mock.bus.call(Message(
        destination=defs.BLUEZ, path="/", interface="org.bluez.Mock", member="AddA2DPTransport",
        signature="sssay", body=[HCI, address, defs.BLUEALSA, SBC_48K_JOINT_STEREO]))
    assert reply is not None and reply.message_type == MessageType.METHOD_RETURN, reply.body
    return reply.unix_fds[reply.body[0]]  # the body holds an index into the passed fds
