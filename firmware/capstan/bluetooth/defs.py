"""D-Bus names, UUIDs and property shapes of BlueZ and BlueALSA, in one place.

Everything the Bluetooth layer says to ``org.bluez`` or ``org.bluealsa`` is
spelled here (as bleak keeps its ``defs.py``), so a rename in either daemon is a
one-line change and a reader can see the whole vocabulary at once.
"""

from __future__ import annotations

import re
from typing import Any

# --- freedesktop -------------------------------------------------------------
DBUS = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"

# --- BlueZ ---------------------------------------------------------------------
BLUEZ = "org.bluez"
BLUEZ_ROOT = "/org/bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
BATTERY = "org.bluez.Battery1"
GATT_SERVICE = "org.bluez.GattService1"
GATT_CHARACTERISTIC = "org.bluez.GattCharacteristic1"
AGENT = "org.bluez.Agent1"
AGENT_MANAGER = "org.bluez.AgentManager1"
MEDIA_TRANSPORT = "org.bluez.MediaTransport1"
MEDIA = "org.bluez.Media1"  # on the adapter: RegisterPlayer / UnregisterPlayer
MEDIA_TRANSPORT_VOLUME_MAX = 127  # AVRCP absolute volume, MediaTransport1.Volume

# --- MPRIS (the player object BlueZ's AVRCP target drives) -------------------------
MPRIS_PLAYER = "org.mpris.MediaPlayer2.Player"
MPRIS_PATH = "/org/mpris/MediaPlayer2"

AGENT_PATH = "/org/capstan/agent"
AGENT_CAPABILITY = "NoInputNoOutput"  # the player has no screen and no keypad

ERROR_REJECTED = "org.bluez.Error.Rejected"
ERROR_ALREADY_EXISTS = "org.bluez.Error.AlreadyExists"
ERROR_ALREADY_CONNECTED = "org.bluez.Error.AlreadyConnected"

# --- UUIDs and classes -----------------------------------------------------------
A2DP_SINK_UUID = "0000110b-0000-1000-8000-00805f9b34fb"  # headphones, speakers
A2DP_SOURCE_UUID = "0000110a-0000-1000-8000-00805f9b34fb"  # what the player is
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"  # GATT Battery Service
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"  # its Battery Level, 0..100 %

MAJOR_CLASS_AUDIO_VIDEO = 0x04  # Class of Device bits 8..12 (Bluetooth Assigned Numbers 2.8)

# --- BlueALSA ------------------------------------------------------------------
BLUEALSA = "org.bluealsa"
BLUEALSA_ROOT = "/org/bluealsa"
BLUEALSA_MANAGER = "org.bluealsa.Manager1"
BLUEALSA_PCM = "org.bluealsa.PCM1"
BLUEALSA_A2DP_SOURCE = "A2DP-source"  # the PCM1 Transport of a player streaming to headphones
BLUEALSA_VOLUME_MAX = 127  # A2DP volume steps per channel in PCM1.Volume


_ADDRESS = re.compile(r"dev_([0-9A-F]{2}(?:_[0-9A-F]{2}){5})", re.IGNORECASE)


def address_of(path: str) -> str | None:
    """'AA:BB:CC:DD:EE:FF' from a BlueZ or BlueALSA object path below a device."""
    match = _ADDRESS.search(path)
    return match.group(1).replace("_", ":").upper() if match else None


def device_path(adapter_path: str, address: str) -> str:
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


def bluealsa_pcm_name(address: str) -> str:
    """The ALSA PCM that plays to the headphones at ADDRESS through BlueALSA."""
    return f"bluealsa:DEV={address.upper()},PROFILE=a2dp"


def is_audio_sink(props: dict[str, Any]) -> bool:
    """Headphones or a speaker: advertises an A2DP sink, or its class says Audio/Video."""
    uuids = {str(u).lower() for u in props.get("UUIDs", ())}
    if A2DP_SINK_UUID in uuids:
        return True
    klass = int(props.get("Class", 0))
    return (klass >> 8) & 0x1F == MAJOR_CLASS_AUDIO_VIDEO
