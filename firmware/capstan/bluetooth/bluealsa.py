"""BlueALSA over D-Bus: which headphones have an A2DP stream, and their volume.

BlueALSA adds an ``org.bluealsa.PCM1`` object when an A2DP transport to a
headphone is configured and removes it when the stream ends. The watcher
subscribes to PCMAdded/PCMRemoved (and to BlueALSA's name coming and going)
*before* it asks GetPCMs, then reports each A2DP playback PCM to the
:class:`~capstan.bluetooth.route.HeadphoneRoute`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import add_match, call, plain
from capstan.bluetooth.route import HeadphoneRoute

log = logging.getLogger(__name__)


def volume_word(level: int, muted: bool = False) -> int:
    """PCM1.Volume for both channels at LEVEL (0..127)."""
    if not 0 <= level <= defs.BLUEALSA_VOLUME_MAX:
        raise ValueError(f"headphone volume {level} is outside 0..{defs.BLUEALSA_VOLUME_MAX}")
    byte = level | (0x80 if muted else 0)
    return byte << 8 | byte


def volume_level(word: int) -> int:
    """The louder channel's level (0..127) of a PCM1.Volume word."""
    return max((word >> 8) & 0x7F, word & 0x7F)


class BlueAlsa:
    """Mirrors BlueALSA's A2DP playback PCMs by headphone address."""

    def __init__(self, bus: MessageBus, route: HeadphoneRoute,
                 service: str = defs.BLUEALSA,
                 absolute: Callable[[str], bool] = lambda address: False) -> None:
        """`absolute(address)`: do those headphones take an absolute volume (BlueZ shows
        their transport's Volume)? Their PCM then uses it instead of BlueALSA's scaling."""
        self.bus = bus
        self.route = route
        self.service = service
        self.absolute = absolute
        self.pcms: dict[str, str] = {}  # address -> PCM1 object path
        self.props: dict[str, dict[str, Any]] = {}  # path -> PCM1 properties
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.bus.add_message_handler(self._on_message)
        await add_match(self.bus, type="signal", sender=defs.DBUS, member="NameOwnerChanged",
                        arg0=self.service)
        await add_match(self.bus, type="signal", sender=self.service,
                        interface=defs.BLUEALSA_MANAGER)
        await self.resync()

    def stop(self) -> None:
        self.bus.remove_message_handler(self._on_message)

    async def resync(self) -> None:
        """Ask BlueALSA for its PCMs (at start and whenever it (re)appears)."""
        try:
            (pcms,) = await call(self.bus, self.service, defs.BLUEALSA_ROOT,
                                 defs.BLUEALSA_MANAGER, "GetPCMs")
        except Exception as exc:  # not running yet: its name appearing brings us back
            log.info("BlueALSA is not answering yet: %s", exc)
            return
        for path, props in pcms.items():
            self._added(path, plain(props))

    # --- volume ------------------------------------------------------------------
    def volume(self, address: str) -> int | None:
        path = self.pcms.get(address.upper())
        return volume_level(self.props[path].get("Volume", 0)) if path else None

    async def set_volume(self, address: str, level: int) -> None:
        """Set the headphone's A2DP volume (0..127) through BlueALSA's PCM Volume."""
        path = self.pcms.get(address.upper())
        if path is None:
            raise LookupError(f"no A2DP stream to {address}: connect the headphones first")
        word = volume_word(level)
        await call(self.bus, self.service, path, defs.PROPERTIES, "Set", "ssv",
                   [defs.BLUEALSA_PCM, "Volume", Variant("q", word)])
        self.props[path]["Volume"] = word

    def native(self, address: str) -> bool:
        """Does the PCM to ADDRESS pass its volume to the headphones (SoftVolume off)?"""
        path = self.pcms.get(address.upper())
        return path is not None and self.props[path].get("SoftVolume") is False

    async def use_native(self, address: str) -> None:
        """The headphones' absolute volume instead of BlueALSA's scaling (SoftVolume off):
        the stream keeps its full resolution and the headphones' own buttons are heard."""
        path = self.pcms.get(address.upper())
        if path is None or self.props[path].get("SoftVolume") is False:
            return
        await call(self.bus, self.service, path, defs.PROPERTIES, "Set", "ssv",
                   [defs.BLUEALSA_PCM, "SoftVolume", Variant("b", False)])
        self.props[path]["SoftVolume"] = False

    def heard(self, address: str, level: int) -> None:
        """The headphones set their own volume (BlueALSA's PCM follows it by itself)."""
        path = self.pcms.get(address.upper())
        if path is not None:
            self.props[path]["Volume"] = volume_word(level)

    # --- signals -----------------------------------------------------------------
    def _added(self, path: str, props: dict[str, Any]) -> None:
        if props.get("Transport") != defs.BLUEALSA_A2DP_SOURCE or props.get("Mode") != "sink":
            return  # not a stream from the player to headphones
        address = defs.address_of(path)
        if address is None:
            return
        self.pcms[address] = path
        self.props[path] = props
        if self.absolute(address) and props.get("SoftVolume") is not False:
            task = asyncio.get_running_loop().create_task(self._native_then_up(address, path))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self.route.transport_up(address)

    async def _native_then_up(self, address: str, path: str) -> None:
        try:
            await self.use_native(address)
        except Exception as exc:  # BlueALSA goes on scaling: still a volume, still sound
            log.info("headphones %s keep BlueALSA's volume: %s", address, exc)
        if self.pcms.get(address) == path:  # not removed meanwhile
            self.route.transport_up(address)

    def _removed(self, path: str) -> None:
        address = defs.address_of(path)
        self.props.pop(path, None)
        if address is not None and self.pcms.get(address) == path:
            del self.pcms[address]
            self.route.link_lost(address)

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL:
            return
        if msg.member == "NameOwnerChanged" and msg.body and msg.body[0] == self.service:
            for path in list(self.props):
                self._removed(path)  # a restarted BlueALSA starts with no streams
            if msg.body[2]:
                task = asyncio.get_running_loop().create_task(self.resync())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            return
        if msg.interface != defs.BLUEALSA_MANAGER:
            return
        if msg.member == "PCMAdded":
            path, props = msg.body
            self._added(path, plain(props))
        elif msg.member == "PCMRemoved":
            self._removed(msg.body[0])
