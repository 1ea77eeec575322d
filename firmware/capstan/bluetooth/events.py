"""The events the Bluetooth layer publishes on the EventBus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event


@dataclass(frozen=True)
class BluetoothEvent(Event):
    """A headphone was paired, connected, disconnected, or refused; a remote press; a volume.

    ``what`` is one of ``paired``, ``connected``, ``disconnected``, ``refused``,
    ``remote`` (``button``: play, pause, stop, next, previous, from the headphones'
    AVRCP buttons) or ``volume`` (``value`` 0.0..1.0, ``source`` ``headphones`` or
    ``player``); ``reason`` says what was refused (``pairing``, ``service``,
    ``connection``).
    """

    type: ClassVar[str] = "bluetooth"
    what: str
    address: str | None = None
    reason: str | None = None
    button: str | None = None
    value: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class PairingWindowClosed(Event):
    """The pairing window closed: ``outcome`` is ``paired``, ``timeout`` or ``cancelled``."""

    type: ClassVar[str] = "pairing_window"
    outcome: str
    address: str | None = None


@dataclass(frozen=True)
class HeadphoneBattery(Event):
    """A headphone's battery level in percent, from Battery1 or GATT 0x180F."""

    type: ClassVar[str] = "headphone_battery"
    address: str
    percent: int
    source: str
