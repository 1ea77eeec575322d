# ruff: noqa: E501  (kept in upstream python-dbusmock's formatting, 120 columns, so it diffs against it)
"""bluetoothd mock template: Capstan's fixed local copy of python-dbusmock's ``bluez5``.

Changes against python-dbusmock 0.38.1 (each marked "Capstan:" below):
- Device1's LE properties have BlueZ's real types (``a{qv}``, ``a{sv}``, ``ay``,
  ``a{yv}``); upstream sends arrays of dicts, which breaks bleak's scanner.
- ``Connect``/``Disconnect`` and the ``ConnectDevice``/``DisconnectDevice`` helpers
  keep the ``Connected`` property and the mock's own flag in step (upstream
  updates one or the other, so GetManagedObjects disagreed with the signals).
- ``StartDiscovery``/``StopDiscovery`` work before any ``SetDiscoveryFilter``
  (upstream raised KeyError: discovery never started).
- ``Pair`` keeps the UUIDs the device advertised (upstream swaps in a phone's).
- ``SetReachable``: a headphone that is switched off or out of range; Connect
  and Pair then fail like a page timeout.
- ``RemotePair``/``RemoteConnect``: a remote device tries to pair or to connect
  a profile; the mock asks the registered agent exactly as bluetoothd would.
- ``Media1.RegisterEndpoint`` remembers endpoints; ``AddA2DPTransport`` and
  ``RemoveA2DPTransport`` play BlueZ's part of an A2DP stream towards a real
  BlueALSA daemon (SetConfiguration, MediaTransport1.Acquire handing out one end
  of a socket pair, State idle -> active, ClearConfiguration).
- ``Media1.RegisterPlayer``/``UnregisterPlayer`` remember the local media players
  (an ``org.mpris.MediaPlayer2.Player`` object); ``Players`` lists them and
  ``AvrcpPassThrough`` plays what bluetoothd does when a headphone's AVRCP PASS
  THROUGH arrives (play, pause, stop, forward, backward -> Play, Pause, Stop,
  Next, Previous on that player). ``SetTransportVolume`` is a headphone's own
  volume change (AVRCP EVENT_VOLUME_CHANGED): the transport's ``Volume`` changes;
  ``SetAbsoluteVolume`` makes headphones without absolute volume (no ``Volume``).
- ``ServicesResolved`` follows ``Connected`` (bleak waits for it after connecting).
- ``AddBattery``: ``org.bluez.Battery1`` (``Percentage``) on a device, as BlueZ
  shows a classic headphone's HFP/AVRCP battery report.
- ``AddGattBattery``: the GATT Battery Service (0x180F) with its Battery Level
  characteristic (0x2A19, ``ReadValue``) under a device, as BlueZ exports an LE
  peripheral's GATT database; ``SetGattBattery`` changes the level.

This creates the expected methods and properties of the object manager
org.bluez object (/), the manager object (/org/bluez), but no adapters or
devices.

This supports BlueZ 5 only.
"""

# SPDX-License-Identifier: LGPL-3.0-or-later

__author__ = "Philip Withnall"
__copyright__ = """
(c) 2013 Collabora Ltd.
(c) 2017 - 2022 Martin Pitt <martin@piware.de>
"""

from pathlib import Path

import dbus
from dbusmock import OBJECT_MANAGER_IFACE, mockobject

BUS_NAME = "org.bluez"
MAIN_OBJ = "/"
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

BLUEZ_MOCK_IFACE = "org.bluez.Mock"
AGENT_MANAGER_IFACE = "org.bluez.AgentManager1"
PROFILE_MANAGER_IFACE = "org.bluez.ProfileManager1"
ADAPTER_IFACE = "org.bluez.Adapter1"
MEDIA_IFACE = "org.bluez.Media1"
NETWORK_SERVER_IFACE = "org.bluez.Network1"
DEVICE_IFACE = "org.bluez.Device1"

LE_ADVERTISING_MANAGER_IFACE = "org.bluez.LEAdvertisingManager1"
LE_ADVERTISEMENT_IFACE = "org.bluez.LEAdvertisement1"
ADVERTISEMENT_MONITOR_MANAGER_IFACE = "org.bluez.AdvertisementMonitorManager1"
ADVERTISEMENT_MONITOR_IFACE = "org.bluez.AdvertisementMonitor1"

# The device class of some arbitrary Android phone.
MOCK_PHONE_CLASS = 5898764

# Maximum number of BLE advertisements supported per adapter.
MAX_ADVERTISEMENT_INSTANCES = 5


@dbus.service.method(AGENT_MANAGER_IFACE, in_signature="os", out_signature="")
def RegisterAgent(manager, agent_path, capability):
    all_caps = ["DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay"]

    if agent_path in manager.agent_paths:
        raise dbus.exceptions.DBusException(
            "Another agent is already registered " + agent_path, name="org.bluez.Error.AlreadyExists"
        )

    # Fallback to "KeyboardDisplay" as per BlueZ spec
    if not capability:
        capability = "KeyboardDisplay"

    if capability not in all_caps:
        raise dbus.exceptions.DBusException(
            "Unsupported capability " + capability, name="org.bluez.Error.InvalidArguments"
        )

    if not manager.default_agent:
        manager.default_agent = agent_path
    manager.agent_paths += [agent_path]
    manager.capabilities[str(agent_path)] = capability


@dbus.service.method(AGENT_MANAGER_IFACE, in_signature="o", out_signature="")
def UnregisterAgent(manager, agent_path):
    if agent_path not in manager.agent_paths:
        raise dbus.exceptions.DBusException("Agent not registered " + agent_path, name="org.bluez.Error.DoesNotExist")

    manager.agent_paths.remove(agent_path)
    del manager.capabilities[agent_path]
    if manager.default_agent == agent_path:
        if len(manager.agent_paths) > 0:
            manager.default_agent = manager.agent_paths[-1]
        else:
            manager.default_agent = None


@dbus.service.method(AGENT_MANAGER_IFACE, in_signature="o", out_signature="")
def RequestDefaultAgent(manager, agent_path):
    if agent_path not in manager.agent_paths:
        raise dbus.exceptions.DBusException("Agent not registered " + agent_path, name="org.bluez.Error.DoesNotExist")
    manager.default_agent = agent_path


def load(mock, parameters):
    mock.AddObject(
        "/org/bluez",
        AGENT_MANAGER_IFACE,
        {},
        [
            ("RegisterAgent", "os", "", RegisterAgent),
            ("RequestDefaultAgent", "o", "", RequestDefaultAgent),
            ("UnregisterAgent", "o", "", UnregisterAgent),
        ],
    )

    bluez = mockobject.objects["/org/bluez"]
    bluez.AddMethods(
        PROFILE_MANAGER_IFACE,
        [
            ("RegisterProfile", "osa{sv}", "", ""),
            ("UnregisterProfile", "o", "", ""),
        ],
    )
    bluez.agent_paths = []
    bluez.capabilities = {}
    bluez.default_agent = None

    # whether to expose the LEAdvertisingManager1 interface on adapters (BLE advertising)
    bluez.enable_advertise_api = parameters.get("enable_advertise_api", True)
    # whether to expose the AdvertisementMonitorManager1 interface on adapters (Passive scanning)
    bluez.enable_monitor_api = parameters.get("enable_monitor_api", True)


@dbus.service.method(ADAPTER_IFACE, in_signature="o", out_signature="")
def RemoveDevice(adapter, path):
    adapter.RemoveObject(path)

    manager = mockobject.objects["/"]
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesRemoved",
        "oas",
        [
            dbus.ObjectPath(path),
            [DEVICE_IFACE],
        ],
    )


@dbus.service.method(ADAPTER_IFACE, in_signature="", out_signature="")
def StartDiscovery(adapter):
    adapter.props[ADAPTER_IFACE]["Discovering"] = True
    # NOTE: discovery filter support is minimal to mock
    # the Discoverable discovery filter
    if adapter.props[ADAPTER_IFACE].get("DiscoveryFilter") is not None:  # Capstan: no filter set yet
        adapter.props[ADAPTER_IFACE]["Discoverable"] = True
    adapter.EmitSignal(
        dbus.PROPERTIES_IFACE,
        "PropertiesChanged",
        "sa{sv}as",
        [
            ADAPTER_IFACE,
            {
                "Discoverable": dbus.Boolean(adapter.props[ADAPTER_IFACE]["Discoverable"]),
                "Discovering": dbus.Boolean(adapter.props[ADAPTER_IFACE]["Discovering"]),
            },
            [],
        ],
    )


@dbus.service.method(ADAPTER_IFACE, in_signature="", out_signature="")
def StopDiscovery(adapter):
    adapter.props[ADAPTER_IFACE]["Discovering"] = False
    # NOTE: discovery filter support is minimal to mock
    # the Discoverable discovery filter
    if adapter.props[ADAPTER_IFACE].get("DiscoveryFilter") is not None:  # Capstan: no filter set yet
        adapter.props[ADAPTER_IFACE]["Discoverable"] = False
    adapter.EmitSignal(
        dbus.PROPERTIES_IFACE,
        "PropertiesChanged",
        "sa{sv}as",
        [
            ADAPTER_IFACE,
            {
                "Discoverable": dbus.Boolean(adapter.props[ADAPTER_IFACE]["Discoverable"]),
                "Discovering": dbus.Boolean(adapter.props[ADAPTER_IFACE]["Discovering"]),
            },
            [],
        ],
    )


@dbus.service.method(ADAPTER_IFACE, in_signature="a{sv}", out_signature="")
def SetDiscoveryFilter(adapter, discovery_filter):
    adapter.props[ADAPTER_IFACE]["DiscoveryFilter"] = discovery_filter


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="s")
def AddAdapter(self, device_name, system_name):
    """Convenience method to add a Bluetooth adapter

    You have to specify a device name which must be a valid part of an object
    path, e. g. "hci0", and an arbitrary system name (pretty hostname).

    Returns the new object path.
    """
    path = "/org/bluez/" + device_name
    address_start = int(device_name[-1])
    address = (
        f"{address_start:02d}:{address_start + 1:02d}:{address_start + 2:02d}:"
        f"{address_start + 3:02d}:{address_start + 4:02d}:{address_start + 5:02d}"
    )
    adapter_properties = {
        "UUIDs": dbus.Array(
            [
                # Reference:
                # http://git.kernel.org/cgit/bluetooth/bluez.git/tree/lib/uuid.h
                # PNP
                "00001200-0000-1000-8000-00805f9b34fb",
                # Generic Access Profile
                "00001800-0000-1000-8000-00805f9b34fb",
                # Generic Attribute Profile
                "00001801-0000-1000-8000-00805f9b34fb",
                # Audio/Video Remote Control Profile (remote)
                "0000110e-0000-1000-8000-00805f9b34fb",
                # Audio/Video Remote Control Profile (target)
                "0000110c-0000-1000-8000-00805f9b34fb",
            ],
        ),
        "Discoverable": dbus.Boolean(False),
        "Discovering": dbus.Boolean(False),
        "Pairable": dbus.Boolean(True),
        "Powered": dbus.Boolean(True),
        "Address": dbus.String(address),
        "AddressType": dbus.String("public"),
        "Alias": dbus.String(system_name),
        "Modalias": dbus.String("usb:v1D6Bp0245d050A"),
        "Name": dbus.String(system_name),
        # Reference:
        # http://bluetooth-pentest.narod.ru/software/
        # bluetooth_class_of_device-service_generator.html
        "Class": dbus.UInt32(268),  # Computer, Laptop
        "DiscoverableTimeout": dbus.UInt32(180),
        "PairableTimeout": dbus.UInt32(0),
        "Roles": dbus.Array(["central", "peripheral"]),
    }

    self.AddObject(
        path,
        ADAPTER_IFACE,
        # Properties
        adapter_properties,
        # Methods
        [
            ("RemoveDevice", "o", "", RemoveDevice),
            ("StartDiscovery", "", "", StartDiscovery),
            ("StopDiscovery", "", "", StopDiscovery),
            ("SetDiscoveryFilter", "a{sv}", "", SetDiscoveryFilter),
        ],
    )

    adapter = mockobject.objects[path]
    adapter.AddMethods(
        MEDIA_IFACE,
        [
            ("RegisterEndpoint", "oa{sv}", "", RegisterEndpoint),
            ("UnregisterEndpoint", "o", "", ""),
            ("RegisterPlayer", "oa{sv}", "", RegisterPlayer),  # Capstan: AVRCP target players
            ("UnregisterPlayer", "o", "", UnregisterPlayer),
        ],
    )
    adapter.AddMethods(
        NETWORK_SERVER_IFACE,
        [
            ("Register", "ss", "", ""),
            ("Unregister", "s", "", ""),
        ],
    )

    bluez = mockobject.objects["/org/bluez"]

    # Advertising Manager
    if bluez.enable_advertise_api:
        # Example values below from an Intel AX200 adapter
        advertising_manager_properties = {
            "ActiveInstances": dbus.Byte(0),
            "SupportedInstances": dbus.Byte(MAX_ADVERTISEMENT_INSTANCES),
            "SupportedIncludes": dbus.Array(["tx-power", "appearance", "local-name", "rssi"]),
            "SupportedSecondaryChannels": dbus.Array(["1M", "2M", "Coded"]),
            "SupportedCapabilities": dbus.Dictionary(
                {
                    "MaxAdvLen": dbus.Byte(251),
                    "MaxScnRspLen": dbus.Byte(251),
                    "MinTxPower": dbus.Int16(-34),
                    "MaxTxPower": dbus.Int16(7),
                },
                signature="sv",
            ),
            "SupportedFeatures": dbus.Array(
                [
                    "CanSetTxPower",
                    "HardwareOffload",
                ],
            ),
        }
        adapter.AddProperties(LE_ADVERTISING_MANAGER_IFACE, advertising_manager_properties)
        adapter.AddMethods(
            LE_ADVERTISING_MANAGER_IFACE,
            [
                ("RegisterAdvertisement", "oa{sv}", "", RegisterAdvertisement),
                ("UnregisterAdvertisement", "o", "", UnregisterAdvertisement),
            ],
        )

        # Track advertisements per adapter
        adapter.advertisements = []

    # Advertisement Monitor Manager
    if bluez.enable_monitor_api:
        advertisement_monitor_manager_properties = {
            "SupportedMonitorTypes": dbus.Array(["or_patterns"]),
        }
        adapter.AddProperties(ADVERTISEMENT_MONITOR_MANAGER_IFACE, advertisement_monitor_manager_properties)
        adapter.AddMethods(
            ADVERTISEMENT_MONITOR_MANAGER_IFACE,
            [
                ("RegisterMonitor", "o", "", RegisterMonitor),
                ("UnregisterMonitor", "o", "", UnregisterMonitor),
            ],
        )

        # Track advertisement monitors per adapter
        adapter.monitors = []

    manager = mockobject.objects["/"]
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesAdded",
        "oa{sa{sv}}",
        [
            dbus.ObjectPath(path),
            {ADAPTER_IFACE: adapter_properties},
        ],
    )

    return path


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="s")
def RemoveAdapter(self, device_name):
    """Convenience method to remove a Bluetooth adapter"""
    path = "/org/bluez/" + device_name
    # We could remove the devices related to the adapters here, but
    # when bluez crashes, the InterfacesRemoved aren't necessarily sent
    # devices first, so in effect, our laziness is testing an edge case
    # in the clients
    self.RemoveObject(path)

    manager = mockobject.objects["/"]
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesRemoved",
        "oas",
        [
            dbus.ObjectPath(path),
            [ADAPTER_IFACE],
        ],
    )


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="s")
def RemoveAdapterWithDevices(self, device_name):
    """Convenience method to remove a Bluetooth adapter and all
    the devices associated to it
    """
    adapter_path = "/org/bluez/" + device_name
    adapter = mockobject.objects[adapter_path]
    manager = mockobject.objects["/"]

    to_remove = []
    for path in mockobject.objects:
        if path.startswith(adapter_path + "/"):
            to_remove.append(path)

    for path in to_remove:
        adapter.RemoveObject(path)
        manager.EmitSignal(
            OBJECT_MANAGER_IFACE,
            "InterfacesRemoved",
            "oas",
            [
                dbus.ObjectPath(path),
                [DEVICE_IFACE],
            ],
        )

    self.RemoveObject(adapter_path)
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesRemoved",
        "oas",
        [
            dbus.ObjectPath(adapter_path),
            [ADAPTER_IFACE],
        ],
    )


def _page_timeout(device):
    # Capstan: a switched-off or out-of-range device does not answer the page.
    if not getattr(device, "reachable", True):
        raise dbus.exceptions.DBusException("Page Timeout", name="org.bluez.Error.Failed")


def _set_connected(device, connected):
    # Capstan: keep the property and the mock's flag in step, and signal it. Services are
    # resolved with the link, as bluetoothd reports once SDP/GATT discovery is done.
    device.connected = connected
    device.UpdateProperties(DEVICE_IFACE, {"Connected": dbus.Boolean(connected),
                                           "ServicesResolved": dbus.Boolean(connected)})


@dbus.service.method(DEVICE_IFACE, in_signature="", out_signature="")
def Pair(device):
    if device.paired:
        raise dbus.exceptions.DBusException("Device already paired", name="org.bluez.Error.AlreadyExists")
    _page_timeout(device)
    device_address = device.props[DEVICE_IFACE]["Address"]
    adapter_device_name = Path(device.props[DEVICE_IFACE]["Adapter"]).name
    device.PairDevice(adapter_device_name, device_address)


@dbus.service.method(DEVICE_IFACE, in_signature="", out_signature="")
def Connect(device):
    if device.connected:
        raise dbus.exceptions.DBusException("Already Connected", name="org.bluez.Error.AlreadyConnected")
    _page_timeout(device)
    _set_connected(device, True)


@dbus.service.method(DEVICE_IFACE, in_signature="s", out_signature="")
def ConnectProfile(device, uuid):
    _page_timeout(device)
    device.connected_profiles = [*getattr(device, "connected_profiles", []), str(uuid)]
    if not device.connected:
        _set_connected(device, True)


@dbus.service.method(DEVICE_IFACE, in_signature="", out_signature="")
def Disconnect(device):
    if not device.connected:
        raise dbus.exceptions.DBusException("Not Connected", name="org.bluez.Error.NotConnected")
    _set_connected(device, False)


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="sss", out_signature="s")
def AddDevice(self, adapter_device_name, device_address, alias):
    """Convenience method to add a Bluetooth device

    You have to specify a device address which must be a valid Bluetooth
    address (e.g. 'AA:BB:CC:DD:EE:FF'). The alias is the human-readable name
    for the device (e.g. as set on the device itself), and the adapter device
    name is the device_name passed to AddAdapter.

    This will create a new, unpaired and unconnected device with some default properties
    like MOCK_PHONE_CLASS "Class" and a static "Modalias". Especially when working with more
    than one device, you may want to change these after creation.

    Returns the new object path.
    """
    device_name = "dev_" + device_address.replace(":", "_").upper()
    adapter_path = "/org/bluez/" + adapter_device_name
    path = adapter_path + "/" + device_name

    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Adapter {adapter_device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchAdapter"
        )

    properties = {
        "Address": dbus.String(device_address),
        "AddressType": dbus.String("public"),
        "Name": dbus.String(alias),
        "Icon": dbus.String("phone"),
        "Class": dbus.UInt32(MOCK_PHONE_CLASS),
        "Appearance": dbus.UInt16(0),
        "UUIDs": dbus.Array([], signature="s"),
        "Paired": dbus.Boolean(False),
        "Connected": dbus.Boolean(False),
        "Trusted": dbus.Boolean(False),
        "Blocked": dbus.Boolean(False),
        "WakeAllowed": dbus.Boolean(False),
        "Alias": dbus.String(alias),
        "Adapter": dbus.ObjectPath(adapter_path),
        "LegacyPairing": dbus.Boolean(False),
        "Modalias": dbus.String("bluetooth:v000Fp1200d1436"),
        "RSSI": dbus.Int16(-79),  # arbitrary
        "TxPower": dbus.Int16(0),
        # Capstan: BlueZ's own types (upstream: arrays of dicts, which bleak rejects)
        "ManufacturerData": dbus.Dictionary({}, signature="qv"),
        "ServiceData": dbus.Dictionary({}, signature="sv"),
        "ServicesResolved": dbus.Boolean(False),
        "AdvertisingFlags": dbus.Array([], signature="y"),
        "AdvertisingData": dbus.Dictionary({}, signature="yv"),
    }

    self.AddObject(
        path,
        DEVICE_IFACE,
        # Properties
        properties,
        # Methods
        [
            ("CancelPairing", "", "", ""),
            ("Connect", "", "", Connect),
            ("ConnectProfile", "s", "", ConnectProfile),
            ("Disconnect", "", "", Disconnect),
            ("DisconnectProfile", "s", "", ""),
            ("Pair", "", "", Pair),
        ],
    )
    device = mockobject.objects[path]
    device.paired = False
    device.connected = False

    manager = mockobject.objects["/"]
    manager.EmitSignal(
        OBJECT_MANAGER_IFACE,
        "InterfacesAdded",
        "oa{sa{sv}}",
        [
            dbus.ObjectPath(path),
            {DEVICE_IFACE: properties},
        ],
    )

    return path


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="")
def PairDevice(_self, adapter_device_name, device_address):
    """Convenience method to mark an existing device as paired.

    You have to specify a device address which must be a valid Bluetooth
    address (e.g. 'AA:BB:CC:DD:EE:FF'). The adapter device name is the
    device_name passed to AddAdapter.

    This unblocks the device if it was blocked.

    If the specified adapter or device doesn't exist, a NoSuchAdapter or
    NoSuchDevice error will be returned on the bus.

    Returns nothing.
    """
    device_name = "dev_" + device_address.replace(":", "_").upper()
    adapter_path = "/org/bluez/" + adapter_device_name
    device_path = adapter_path + "/" + device_name

    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Adapter {adapter_device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchAdapter"
        )
    if device_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Device {device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchDevice"
        )

    device = mockobject.objects[device_path]
    device.paired = True

    # Based off pairing with an Android phone.
    uuids = [
        "00001105-0000-1000-8000-00805f9b34fb",
        "0000110a-0000-1000-8000-00805f9b34fb",
        "0000110c-0000-1000-8000-00805f9b34fb",
        "00001112-0000-1000-8000-00805f9b34fb",
        "00001115-0000-1000-8000-00805f9b34fb",
        "00001116-0000-1000-8000-00805f9b34fb",
        "0000111f-0000-1000-8000-00805f9b34fb",
        "0000112f-0000-1000-8000-00805f9b34fb",
        "00001200-0000-1000-8000-00805f9b34fb",
    ]

    # Capstan: a device that advertised its services keeps them.
    if device.props[DEVICE_IFACE]["UUIDs"]:
        uuids = list(device.props[DEVICE_IFACE]["UUIDs"])

    device.UpdateProperties(
        DEVICE_IFACE,
        {
            "UUIDs": dbus.Array(uuids, signature="s"),
            "Paired": dbus.Boolean(True),
            "LegacyPairing": dbus.Boolean(True),
            "Blocked": dbus.Boolean(False),
        },
    )


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="")
def BlockDevice(_self, adapter_device_name, device_address):
    """Convenience method to mark an existing device as blocked.

    You have to specify a device address which must be a valid Bluetooth
    address (e.g. 'AA:BB:CC:DD:EE:FF'). The adapter device name is the
    device_name passed to AddAdapter.

    This disconnects the device if it was connected.

    If the specified adapter or device doesn't exist, a NoSuchAdapter or
    NoSuchDevice error will be returned on the bus.

    Returns nothing.
    """
    device_name = "dev_" + device_address.replace(":", "_").upper()
    adapter_path = "/org/bluez/" + adapter_device_name
    device_path = adapter_path + "/" + device_name

    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Adapter {adapter_device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchAdapter"
        )
    if device_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Device {device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchDevice"
        )

    device = mockobject.objects[device_path]

    device.props[DEVICE_IFACE]["Blocked"] = dbus.Boolean(True)
    device.props[DEVICE_IFACE]["Connected"] = dbus.Boolean(False)

    device.EmitSignal(
        dbus.PROPERTIES_IFACE,
        "PropertiesChanged",
        "sa{sv}as",
        [
            DEVICE_IFACE,
            {
                "Blocked": dbus.Boolean(True),
                "Connected": dbus.Boolean(False),
            },
            [],
        ],
    )


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="")
def ConnectDevice(_self, adapter_device_name, device_address):
    """Convenience method to mark an existing device as connected.

    You have to specify a device address which must be a valid Bluetooth
    address (e.g. 'AA:BB:CC:DD:EE:FF'). The adapter device name is the
    device_name passed to AddAdapter.

    This unblocks the device if it was blocked.

    If the specified adapter or device doesn't exist, a NoSuchAdapter or
    NoSuchDevice error will be returned on the bus.

    Returns nothing.
    """
    device_name = "dev_" + device_address.replace(":", "_").upper()
    adapter_path = "/org/bluez/" + adapter_device_name
    device_path = adapter_path + "/" + device_name

    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Adapter {adapter_device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchAdapter"
        )
    if device_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Device {device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchDevice"
        )

    device = mockobject.objects[device_path]

    # Capstan: the flag Connect() checks follows the property.
    device.connected = True
    device.UpdateProperties(
        DEVICE_IFACE, {"Blocked": dbus.Boolean(False), "Connected": dbus.Boolean(True)}
    )


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="")
def DisconnectDevice(_self, adapter_device_name, device_address):
    """Convenience method to mark an existing device as disconnected.

    You have to specify a device address which must be a valid Bluetooth
    address (e.g. 'AA:BB:CC:DD:EE:FF'). The adapter device name is the
    device_name passed to AddAdapter.

    This does not change the device's blocked status.

    If the specified adapter or device doesn't exist, a NoSuchAdapter or
    NoSuchDevice error will be returned on the bus.

    Returns nothing.
    """
    device_name = "dev_" + device_address.replace(":", "_").upper()
    adapter_path = "/org/bluez/" + adapter_device_name
    device_path = adapter_path + "/" + device_name

    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Adapter {adapter_device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchAdapter"
        )
    if device_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(
            f"Device {device_name} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchDevice"
        )

    device = mockobject.objects[device_path]

    # Capstan: the flag Connect() checks follows the property.
    _set_connected(device, False)


def RegisterAdvertisement(manager, adv_path, options):  # pylint: disable=unused-argument
    if adv_path in manager.advertisements:
        raise dbus.exceptions.DBusException("Already registered: " + adv_path, name="org.bluez.Error.AlreadyExists")

    if len(manager.advertisements) >= MAX_ADVERTISEMENT_INSTANCES:
        raise dbus.exceptions.DBusException(
            f"Maximum number of advertisements reached: {MAX_ADVERTISEMENT_INSTANCES}",
            name="org.bluez.Error.NotPermitted",
        )

    manager.advertisements.append(adv_path)

    manager.UpdateProperties(
        LE_ADVERTISING_MANAGER_IFACE,
        {
            "ActiveInstances": dbus.Byte(len(manager.advertisements)),
            "SupportedInstances": dbus.Byte(MAX_ADVERTISEMENT_INSTANCES - len(manager.advertisements)),
        },
    )


def UnregisterAdvertisement(manager, adv_path):
    try:
        manager.advertisements.remove(adv_path)
    except ValueError:
        raise dbus.exceptions.DBusException(
            "Unknown advertisement: " + adv_path, name="org.bluez.Error.DoesNotExist"
        ) from None

    manager.UpdateProperties(
        LE_ADVERTISING_MANAGER_IFACE,
        {
            "ActiveInstances": dbus.Byte(len(manager.advertisements)),
            "SupportedInstances": dbus.Byte(MAX_ADVERTISEMENT_INSTANCES - len(manager.advertisements)),
        },
    )


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="s", out_signature="s")
def AddAdvertisement(self, adv_name):
    """Convenience method to add an Advertisement object

    Creates a simple broadcast advertisement with some manufacturer data.

    Returns the new object path.
    """
    path = "/org/dbusmock/bluez/advertisement/" + adv_name

    adv_properties = {
        "Type": dbus.String("broadcast"),
        "ManufacturerData": dbus.Dictionary(
            # 0xFFFF is the Bluetooth Company Identifier reserved for internal use and testing.
            {dbus.UInt16(0xFFFF): dbus.Array([0x00, 0x01])},
            signature="qv",
        ),
        "Includes": dbus.Array(["local-name"]),
    }

    self.AddObject(
        path,
        LE_ADVERTISEMENT_IFACE,
        adv_properties,
        [
            ("Release", "", "", ""),
        ],
    )

    return path


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="s", out_signature="s")
def AddMonitor(self, monitor_name):
    """Convenience method to add an Advertisement Monitor

    Returns the new object path.
    """
    path = "/org/dbusmock/bluez/monitor/" + monitor_name

    monitor_properties = {
        "Type": dbus.String("or_patterns"),
        # Example pattern that could be used to scan for an advertisement created by AddAdvertisement()
        "Patterns": dbus.Struct(
            (
                # Start position: 0
                dbus.Byte(0),
                # AD data type: Manufacturer data
                dbus.Byte(0xFF),
                # Vaue of the pattern: 0xFFFF (company identifier), followed by 0x01
                dbus.Array(
                    [
                        dbus.UInt16(0xFFFF),
                        dbus.Byte(0x01),
                    ]
                ),
            ),
            signature="yyay",
        ),
    }

    self.AddObject(
        path,
        ADVERTISEMENT_MONITOR_IFACE,
        monitor_properties,
        [
            ("Release", "", "", ""),
            ("Activate", "", "", ""),
            ("DeviceFound", "o", "", ""),
            ("DeviceLost", "o", "", ""),
        ],
    )

    return path


def RegisterMonitor(manager, monitor_path):
    if monitor_path in manager.monitors:
        raise dbus.exceptions.DBusException(
            "Already registered: " + monitor_path, name="org.bluez.Error.AlreadyExists"
        )

    manager.monitors.append(monitor_path)


def UnregisterMonitor(manager, monitor_path):
    try:
        manager.monitors.remove(monitor_path)
    except ValueError:
        raise dbus.exceptions.DBusException(
            "Unknown monitor: " + monitor_path, name="org.bluez.Error.DoesNotExist"
        ) from None


# ---------------------------------------------------------------------------
# Capstan additions: what bluetoothd does on behalf of remote devices and radios.

MEDIA_TRANSPORT_IFACE = "org.bluez.MediaTransport1"
MEDIA_ENDPOINT_IFACE = "org.bluez.MediaEndpoint1"
AGENT_IFACE = "org.bluez.Agent1"
A2DP_SINK_UUID = "0000110b-0000-1000-8000-00805f9b34fb"


def _device(adapter_device_name, device_address):
    path = f"/org/bluez/{adapter_device_name}/dev_" + device_address.replace(":", "_").upper()
    if path not in mockobject.objects:
        raise dbus.exceptions.DBusException(f"Device {path} does not exist.", name=BLUEZ_MOCK_IFACE + ".NoSuchDevice")
    return path, mockobject.objects[path]


def RegisterEndpoint(adapter, endpoint_path, properties):
    adapter.endpoints = [*getattr(adapter, "endpoints", []), (str(endpoint_path), dict(properties))]


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssb", out_signature="")
def SetReachable(_self, adapter_device_name, device_address, reachable):
    """A device switched off or out of range (False) does not answer pages."""
    _path, device = _device(adapter_device_name, device_address)
    device.reachable = bool(reachable)


def _agent_call(agent_owner, method, *args):
    """Ask the registered default agent, as bluetoothd does; True if it agreed.

    dbusmock cannot see who called RegisterAgent, so the caller names the
    agent's bus name (its unique name) as AGENT_OWNER.
    """
    bluez = mockobject.objects["/org/bluez"]
    if not bluez.default_agent:
        return False  # no agent: bluetoothd refuses anything that needs one
    agent = dbus.Interface(bluez.connection.get_object(agent_owner, bluez.default_agent), AGENT_IFACE)
    try:
        getattr(agent, method)(*args, timeout=10)
    except dbus.exceptions.DBusException:
        return False
    return True


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssss", out_signature="b")
def RemotePair(_self, adapter_device_name, device_address, method, agent_owner):
    """A remote device starts pairing; bluetoothd asks the agent with METHOD.

    METHOD is one of RequestAuthorization (Just Works), RequestConfirmation
    (numeric comparison), RequestPinCode, RequestPasskey. Returns whether the
    device ended up paired.
    """
    path, device = _device(adapter_device_name, device_address)
    obj = dbus.ObjectPath(path)
    args = {"RequestAuthorization": (obj,), "RequestConfirmation": (obj, dbus.UInt32(123456)),
            "RequestPinCode": (obj,), "RequestPasskey": (obj,)}[str(method)]
    if not _agent_call(str(agent_owner), str(method), *args):
        return False
    if not device.paired:
        device.PairDevice(adapter_device_name, device_address)
    return True


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssss", out_signature="b")
def RemoteConnect(_self, adapter_device_name, device_address, uuid, agent_owner):
    """A remote device connects the profile UUID; untrusted ones need the agent's AuthorizeService.

    Returns whether the connection was let in.
    """
    path, device = _device(adapter_device_name, device_address)
    if not device.props[DEVICE_IFACE]["Trusted"]:
        if not _agent_call(str(agent_owner), "AuthorizeService", dbus.ObjectPath(path), str(uuid)):
            return False
    if not device.connected:
        _set_connected(device, True)
    return True


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="sssay", out_signature="h")
def AddA2DPTransport(_self, adapter_device_name, device_address, endpoint_owner, configuration):
    """Configure an A2DP stream to the device on the endpoint ENDPOINT_OWNER registered.

    Calls SetConfiguration on that endpoint with a new MediaTransport1, as
    bluetoothd does once AVDTP has agreed on CONFIGURATION (an SBC blob).
    Returns the far end of the transport's socket: what the headphones receive
    (RTP packets of SBC frames).
    """
    import socket

    path, _device_obj = _device(adapter_device_name, device_address)
    adapter = mockobject.objects["/org/bluez/" + adapter_device_name]
    endpoints = [p for p, props in getattr(adapter, "endpoints", []) if str(props.get("UUID", "")).lower() == "0000110a-0000-1000-8000-00805f9b34fb"]
    if not endpoints:
        raise dbus.exceptions.DBusException("no A2DP source endpoint registered", name="org.bluez.Error.NotAvailable")
    endpoint = endpoints[0]
    transport_path = path + "/fd0"
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    props = {
        "Device": dbus.ObjectPath(path),
        "UUID": dbus.String(A2DP_SINK_UUID),
        "Codec": dbus.Byte(0),
        "Configuration": dbus.Array([dbus.Byte(b) for b in configuration], signature="y"),
        "State": dbus.String("idle"),
        "Delay": dbus.UInt16(150),
    }
    if getattr(_device_obj, "absolute_volume", True):  # Capstan: AVRCP 1.4 headphones
        props["Volume"] = dbus.UInt16(127)

    def acquire(transport):
        # bluetoothd starts the stream and hands the L2CAP socket over. The
        # signal goes out just before the reply; BlueALSA handles it in its main
        # loop after its synchronous Acquire call has returned.
        transport.UpdateProperties(MEDIA_TRANSPORT_IFACE, {"State": dbus.String("active")})
        return (dbus.types.UnixFd(transport.socket.fileno()), dbus.UInt16(672), dbus.UInt16(672))

    def release(transport):
        transport.UpdateProperties(MEDIA_TRANSPORT_IFACE, {"State": dbus.String("idle")})

    _self.AddObject(transport_path, MEDIA_TRANSPORT_IFACE, props, [
        ("Acquire", "", "hqq", acquire),
        ("TryAcquire", "", "hqq", acquire),
        ("Release", "", "", release),
    ])
    _interfaces_added(transport_path, MEDIA_TRANSPORT_IFACE, props)  # Capstan: as bluetoothd exports it
    transport = mockobject.objects[transport_path]
    transport.socket = ours
    transport.endpoint = (str(endpoint_owner), endpoint)
    bus = _self.connection
    remote = dbus.Interface(bus.get_object(str(endpoint_owner), endpoint), MEDIA_ENDPOINT_IFACE)
    remote.SetConfiguration(dbus.ObjectPath(transport_path), dbus.Dictionary(props, signature="sv"),
                            reply_handler=lambda *a: None, error_handler=lambda e: _self.log(f"SetConfiguration: {e}"))
    fd = dbus.types.UnixFd(theirs.fileno())
    theirs.close()
    return fd


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ss", out_signature="")
def RemoveA2DPTransport(_self, adapter_device_name, device_address):
    """The stream ends (link lost): State idle, ClearConfiguration, transport gone."""
    path, _device_obj = _device(adapter_device_name, device_address)
    transport_path = path + "/fd0"
    transport = mockobject.objects.get(transport_path)
    if transport is None:
        return
    transport.UpdateProperties(MEDIA_TRANSPORT_IFACE, {"State": dbus.String("idle")})
    owner, endpoint = transport.endpoint
    _self.connection.call_async(owner, endpoint, MEDIA_ENDPOINT_IFACE, "ClearConfiguration", "o",
                                (dbus.ObjectPath(transport_path),), None, None)
    transport.socket.close()
    _self.RemoveObject(transport_path)
    mockobject.objects["/"].EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesRemoved", "oas",
                                       [dbus.ObjectPath(transport_path), [MEDIA_TRANSPORT_IFACE]])


# ---------------------------------------------------------------------------
# Capstan additions: a headphone's battery, through Battery1 or the GATT Battery Service.

BATTERY_IFACE = "org.bluez.Battery1"
GATT_SERVICE_IFACE = "org.bluez.GattService1"
GATT_CHARACTERISTIC_IFACE = "org.bluez.GattCharacteristic1"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


def _interfaces_added(path, interface, props):
    mockobject.objects["/"].EmitSignal(OBJECT_MANAGER_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                                       [dbus.ObjectPath(path), {interface: props}])


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssy", out_signature="")
def AddBattery(_self, adapter_device_name, device_address, percent):
    """BlueZ's Battery1 on the device (a classic headphone's HFP/AVRCP report).

    Later levels: UpdateProperties on the device's org.bluez.Battery1.
    """
    path, device = _device(adapter_device_name, device_address)
    props = {"Percentage": dbus.Byte(percent), "Source": dbus.String("HFP")}
    device.AddProperties(BATTERY_IFACE, props)
    _interfaces_added(path, BATTERY_IFACE, props)


def _read_value(characteristic, options):
    value = characteristic.props[GATT_CHARACTERISTIC_IFACE]["Value"]
    return dbus.Array([dbus.Byte(b) for b in value], signature="y")


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssy", out_signature="s")
def AddGattBattery(self, adapter_device_name, device_address, percent):
    """The GATT Battery Service with its Battery Level characteristic under the device, and the
    service's UUID among the device's UUIDs. Returns the characteristic's path."""
    path, device = _device(adapter_device_name, device_address)
    service_path, char_path = path + "/service0010", path + "/service0010/char0011"
    service = {
        "UUID": dbus.String(BATTERY_SERVICE_UUID),
        "Device": dbus.ObjectPath(path),
        "Primary": dbus.Boolean(True),
        "Handle": dbus.UInt16(0x10),
        "Includes": dbus.Array([], signature="o"),
    }
    characteristic = {
        "UUID": dbus.String(BATTERY_LEVEL_UUID),
        "Service": dbus.ObjectPath(service_path),
        "Value": dbus.Array([dbus.Byte(percent)], signature="y"),
        "Notifying": dbus.Boolean(False),
        "Flags": dbus.Array(["read", "notify"], signature="s"),
        "Handle": dbus.UInt16(0x11),
        "MTU": dbus.UInt16(23),
    }
    self.AddObject(service_path, GATT_SERVICE_IFACE, service, [])
    _interfaces_added(service_path, GATT_SERVICE_IFACE, service)
    self.AddObject(char_path, GATT_CHARACTERISTIC_IFACE, characteristic, [
        ("ReadValue", "a{sv}", "ay", _read_value),
        ("WriteValue", "aya{sv}", "", ""),
        ("StartNotify", "", "", ""),
        ("StopNotify", "", "", ""),
    ])
    _interfaces_added(char_path, GATT_CHARACTERISTIC_IFACE, characteristic)
    uuids = [str(u) for u in device.props[DEVICE_IFACE]["UUIDs"]]
    if BATTERY_SERVICE_UUID not in uuids:
        device.UpdateProperties(DEVICE_IFACE, {"UUIDs": dbus.Array([*uuids, BATTERY_SERVICE_UUID], signature="s")})
    return char_path


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssy", out_signature="")
def SetGattBattery(_self, adapter_device_name, device_address, percent):
    """The headphone's Battery Level characteristic now reads PERCENT."""
    path, _device_obj = _device(adapter_device_name, device_address)
    characteristic = mockobject.objects[path + "/service0010/char0011"]
    characteristic.UpdateProperties(GATT_CHARACTERISTIC_IFACE, {"Value": dbus.Array([dbus.Byte(percent)], signature="y")})


# ---------------------------------------------------------------------------
# Capstan additions: the player as an AVRCP target, and absolute volume.

MPRIS_PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
PASSTHROUGH = {"play": "Play", "pause": "Pause", "stop": "Stop", "forward": "Next", "backward": "Previous"}


def RegisterPlayer(adapter, player_path, properties):
    players = getattr(adapter, "players", {})
    if str(player_path) in players:
        raise dbus.exceptions.DBusException("player already registered", name="org.bluez.Error.AlreadyExists")
    players[str(player_path)] = dict(properties)
    adapter.players = players


def UnregisterPlayer(adapter, player_path):
    players = getattr(adapter, "players", {})
    if players.pop(str(player_path), None) is None:
        raise dbus.exceptions.DBusException("no such player", name="org.bluez.Error.DoesNotExist")


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="s", out_signature="a{oa{sv}}")
def Players(_self, adapter_device_name):
    """The players registered with Media1 on the adapter, with their registration properties."""
    adapter = mockobject.objects["/org/bluez/" + adapter_device_name]
    return dbus.Dictionary({dbus.ObjectPath(p): dbus.Dictionary(props, signature="sv") for p, props in getattr(adapter, "players", {}).items()}, signature="oa{sv}")


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssss", out_signature="")
def AvrcpPassThrough(_self, adapter_device_name, device_address, operation, player_owner):
    """A connected headphone's AVRCP PASS THROUGH press (play, pause, stop, forward, backward).

    bluetoothd calls the matching method of the registered player (the first
    one); dbusmock cannot see who registered it, so the caller names the
    player's bus name as PLAYER_OWNER.
    """
    _path, device = _device(adapter_device_name, device_address)
    if not device.connected:
        raise dbus.exceptions.DBusException("the device is not connected", name="org.bluez.Error.NotConnected")
    adapter = mockobject.objects["/org/bluez/" + adapter_device_name]
    players = getattr(adapter, "players", {})
    if not players:
        raise dbus.exceptions.DBusException("no player registered", name="org.bluez.Error.NotAvailable")
    if str(operation) not in PASSTHROUGH:
        raise dbus.exceptions.DBusException(f"unknown operation {operation}", name="org.bluez.Error.InvalidArguments")
    player = dbus.Interface(_self.connection.get_object(str(player_owner), next(iter(players))), MPRIS_PLAYER_IFACE)
    getattr(player, PASSTHROUGH[str(operation)])(timeout=10)


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssb", out_signature="")
def SetAbsoluteVolume(_self, adapter_device_name, device_address, supported):
    """Whether the headphones take an AVRCP absolute volume (default yes). Without it their
    A2DP transport has no Volume; turned on while a transport exists, its Volume appears
    (AVRCP connected after the stream), at 127."""
    path, device = _device(adapter_device_name, device_address)
    device.absolute_volume = bool(supported)
    transport = mockobject.objects.get(path + "/fd0")
    if supported and transport is not None and "Volume" not in transport.props[MEDIA_TRANSPORT_IFACE]:
        transport.AddProperty(MEDIA_TRANSPORT_IFACE, "Volume", dbus.UInt16(127))
        transport.EmitSignal(dbus.PROPERTIES_IFACE, "PropertiesChanged", "sa{sv}as",
                             [MEDIA_TRANSPORT_IFACE, {"Volume": dbus.UInt16(127)}, []])


@dbus.service.method(BLUEZ_MOCK_IFACE, in_signature="ssq", out_signature="")
def SetTransportVolume(_self, adapter_device_name, device_address, volume):
    """The headphones changed their own volume (0..127): the A2DP transport's Volume follows."""
    path, _device_obj = _device(adapter_device_name, device_address)
    transport = mockobject.objects.get(path + "/fd0")
    if transport is None:
        raise dbus.exceptions.DBusException("no A2DP transport", name="org.bluez.Error.NotAvailable")
    transport.UpdateProperties(MEDIA_TRANSPORT_IFACE, {"Volume": dbus.UInt16(min(127, int(volume)))})
