"""The pairing agent BlueZ consults: NoInputNoOutput, and a gatekeeper.

bluetoothd asks the default agent before it lets a remote device pair
(RequestAuthorization, RequestConfirmation, PIN/passkey requests) or use a
service without being trusted (AuthorizeService). Every answer comes from a
:class:`Gate` (the headphones service), which knows whether the pairing window
is open and which headphones are remembered; a "no" is BlueZ's
``org.bluez.Error.Rejected``.
"""

import logging
from typing import Protocol

from dbus_fast import DBusError
from dbus_fast.service import ServiceInterface, method

from capstan.bluetooth import defs

log = logging.getLogger(__name__)

# D-Bus signatures as plain strings, evaluated when the methods are defined (so no
# `from __future__ import annotations` here): what dbus-fast takes from 1.x (Debian 12
# has 1.84) to 5.x; dbus_fast.annotations exists only from 4.0.
DBusObjectPath, DBusStr, DBusUInt16, DBusUInt32 = "o", "s", "q", "u"

LEGACY_PIN = "0000"  # what headphones without Secure Simple Pairing expect


class Gate(Protocol):
    def allow_pairing(self, address: str, how: str) -> bool:
        """May ADDRESS pair now? HOW is the agent method BlueZ called."""
        ...

    def allow_service(self, address: str, uuid: str) -> bool:
        """May ADDRESS use the profile UUID now?"""
        ...


class PairingAgent(ServiceInterface):
    def __init__(self, gate: Gate) -> None:
        super().__init__(defs.AGENT)
        self._gate = gate

    def _require(self, allowed: bool, device: str, what: str) -> None:
        if not allowed:
            log.info("refused %s from %s", what, device)
            raise DBusError(defs.ERROR_REJECTED, f"Capstan refuses {what}: hold PAIR to pair")

    def _pairing(self, device: str, how: str) -> None:
        address = defs.address_of(device) or device
        self._require(self._gate.allow_pairing(address, how), device, "pairing")

    @method()
    def Release(self):
        log.info("BlueZ released the pairing agent")

    @method()
    def RequestPinCode(self, device: DBusObjectPath) -> DBusStr:
        self._pairing(device, "RequestPinCode")
        return LEGACY_PIN

    @method()
    def DisplayPinCode(self, device: DBusObjectPath, pincode: DBusStr):
        self._pairing(device, "DisplayPinCode")

    @method()
    def RequestPasskey(self, device: DBusObjectPath) -> DBusUInt32:
        self._pairing(device, "RequestPasskey")
        return 0

    @method()
    def DisplayPasskey(self, device: DBusObjectPath, passkey: DBusUInt32,
                       entered: DBusUInt16):
        self._pairing(device, "DisplayPasskey")

    @method()
    def RequestConfirmation(self, device: DBusObjectPath, passkey: DBusUInt32):
        self._pairing(device, "RequestConfirmation")

    @method()
    def RequestAuthorization(self, device: DBusObjectPath):
        self._pairing(device, "RequestAuthorization")

    @method()
    def AuthorizeService(self, device: DBusObjectPath, uuid: DBusStr):
        address = defs.address_of(device) or device
        self._require(self._gate.allow_service(address, uuid.lower()), device, f"service {uuid}")

    @method()
    def Cancel(self):
        log.info("BlueZ cancelled a pairing request")
