"""The player's Bluetooth on the real stack in the virtual Pi.

bluetoothd and BlueALSA run from their systemd units, configured as tools/install leaves
them (the player's main.conf and bluetoothd's drop-in). BlueZ's `btvirt` makes three
controllers on hci_vhci that hear each other: hci0 is the player's (the first adapter,
the one the player takes), hci1 a pair of headphones in pairing mode, hci2 a stranger.
One bluetoothd serves all three, as one system has one; the headphones' and the
stranger's side are driven from here, over D-Bus and BlueZ's management socket. The
player is `capstan run --board pi` with Bluetooth on, its pairing agent registered as
the default.

Real time: every wait is on a state with a deadline that only guards against a hang.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.vm.conftest import run
from tests.vm.daemon import CONFIG, PiDaemon
from tests.vm.rig import Header, HeadSignal, load_chips, modprobe, rest_lines
from tests.vm.test_player import EventLog

GUARD = 90.0  # s: a failure guard, never a measurement
BLUEZ, ADAPTER, DEVICE = "org.bluez", "org.bluez.Adapter1", "org.bluez.Device1"
PROPS = "org.freedesktop.DBus.Properties"
TONE = 1000.0  # Hz, at the head


def wait_until(predicate: Any, what: str, guard: float = GUARD) -> Any:
    deadline = time.monotonic() + guard  # a failure guard
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {guard:.0f} s")
        time.sleep(0.1)
    return value


def dev_path(adapter: str, address: str) -> str:
    return f"{adapter}/dev_{address.replace(':', '_')}"


class Client:
    """A D-Bus client of bluetoothd (dbus-python, a private connection per thread)."""

    def __init__(self) -> None:
        import dbus

        self.dbus = dbus
        self.bus = dbus.SystemBus(private=True)

    def objects(self) -> dict[str, Any]:
        om = self.dbus.Interface(self.bus.get_object(BLUEZ, "/"),
                                 "org.freedesktop.DBus.ObjectManager")
        return {str(k): v for k, v in om.GetManagedObjects().items()}

    def get(self, path: str, interface: str, name: str) -> Any:
        try:
            props = self.dbus.Interface(self.bus.get_object(BLUEZ, path), PROPS)
            return props.Get(interface, name)
        except self.dbus.DBusException:
            return None

    def set(self, path: str, interface: str, name: str, value: Any) -> None:
        props = self.dbus.Interface(self.bus.get_object(BLUEZ, path), PROPS)
        props.Set(interface, name, value)

    def close(self) -> None:
        self.bus.close()


class Radio:
    """bluetoothd, BlueALSA and btvirt's three controllers."""

    ADAPTERS = ("/org/bluez/hci0", "/org/bluez/hci1", "/org/bluez/hci2")

    def __init__(self, log: Path) -> None:
        self.log = log
        self.btvirt: subprocess.Popen[bytes] | None = None
        self.client = Client()
        self.address: dict[str, str] = {}

    def start(self) -> None:
        modprobe("hci_vhci")
        # bluealsa-aplay plays what A2DP sinks receive; here the headphones' side is one,
        # and the test listens to it itself
        run("systemctl", "mask", "--runtime", "bluealsa-aplay.service")
        # bluetoothd and BlueALSA before the controllers: their HCI set-up must not compete
        # with those starts on the one emulated CPU (a controller whose reset times out
        # stays down)
        run("systemctl", "start", "bluetooth.service", "bluealsa.service")
        wait_until(lambda: self._answers(), "bluetoothd on the system bus")
        run("udevadm", "settle", "--timeout=30", check=False)
        for attempt in (1, 2):
            self._btvirt()
            try:
                wait_until(self._adapters, "three adapters from btvirt", 45)
                break
            except AssertionError:
                if attempt == 2:
                    raise AssertionError(
                        "btvirt's controllers did not all come up: "
                        + run("dmesg", check=False)[-1500:]) from None
                self.stop_btvirt()
        for path in self.ADAPTERS:
            self.address[path] = str(self.client.get(path, ADAPTER, "Address"))
            self.client.set(path, ADAPTER, "Powered", self.client.dbus.Boolean(True))
        wait_until(lambda: all(self.client.get(p, ADAPTER, "Powered") for p in self.ADAPTERS),
                   "the three adapters powered")

    def _answers(self) -> bool:
        try:
            self.client.objects()
            return True
        except self.client.dbus.DBusException:
            return False

    def _btvirt(self) -> None:
        # at a higher priority: the kernel gives each HCI command of a controller's set-up
        # a few seconds, and the one emulated CPU is busy
        self.btvirt = subprocess.Popen(["nice", "-n", "-10", "btvirt", "-l3"],
                                       stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def _adapters(self) -> bool:
        return all(self.client.get(p, ADAPTER, "Address") for p in self.ADAPTERS)

    def stop_btvirt(self) -> None:
        if self.btvirt is not None and self.btvirt.poll() is None:
            self.btvirt.terminate()
            self.btvirt.wait(GUARD)
        self.btvirt = None

    def stop(self) -> None:
        self.stop_btvirt()
        self.client.close()
        run("systemctl", "stop", "bluealsa.service", "bluetooth.service", check=False)
        run("systemctl", "unmask", "--runtime", "bluealsa-aplay.service", check=False)


@pytest.fixture(scope="module")
def radio(installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radio]:
    r = Radio(tmp_path_factory.mktemp("radio") / "btvirt.log")
    try:
        r.start()
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="module")
def player(radio: Radio, vpi: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[PiDaemon, Header]]:
    """The player with Bluetooth on, a cassette in, a 1 kHz tone at the head."""
    base = tmp_path_factory.mktemp("player")
    config = base / "capstan.toml"
    config.write_text(CONFIG.read_text().replace("enabled = false", "enabled = true"))
    assert "enabled = true" in config.read_text()
    header = Header()
    rest_lines(header, vpi)
    load_chips()
    header.drive(vpi.switches["cassette_in"].pin, False)
    with HeadSignal(level=0.25, tone=TONE):
        d = PiDaemon(base, config=config)
        try:
            d.wait_for("READY=1", GUARD * 2)  # Bluetooth's imports and calls add to the start
            assert "no Bluetooth headphones" not in d.output(), d.output()
            yield d, header
        finally:
            d.stop()
            rest_lines(header, vpi)


def journal(unit: str) -> str:
    return run("journalctl", "-b", "-u", unit, "--no-pager", "-o", "cat", check=False)


MGMT_STATUS = {0x05: "Authentication Failed", 0x0B: "Rejected", 0x0E: "Failed",
               0x08: "Timeout", 0x04: "Connect Failed", 0x12: "Not Powered"}


def mgmt_pair(index: int, address: str, io_capability: int = 3) -> int:
    """Pair Device (BlueZ's management interface, opcode 0x0019) from controller INDEX to
    ADDRESS over BR/EDR, as a stranger who knows the address would; its status (0 = paired)."""
    import ctypes
    import socket
    import struct

    sock = socket.socket(socket.AF_BLUETOOTH, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                         socket.BTPROTO_HCI)
    try:
        # struct sockaddr_hci {family, dev = HCI_DEV_NONE, channel = HCI_CHANNEL_CONTROL}
        addr = struct.pack("<HHH", socket.AF_BLUETOOTH, 0xFFFF, 3)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.bind(sock.fileno(), ctypes.c_char_p(addr), len(addr)) != 0:
            raise OSError(ctypes.get_errno(), "bind to the management channel")
        bdaddr = bytes(int(b, 16) for b in reversed(address.split(":")))
        params = bdaddr + bytes([0, io_capability])  # BR/EDR, IO capability
        sock.send(struct.pack("<HHH", 0x0019, index, len(params)) + params)
        sock.settimeout(GUARD)
        while True:
            event, ev_index, _ = struct.unpack("<HHH", (packet := sock.recv(512))[:6])
            # Command Complete (1) or Command Status (2) of Pair Device on that index
            if ev_index == index and event in (1, 2) and struct.unpack(
                    "<H", packet[6:8])[0] == 0x0019:
                if event == 2 and packet[8] == 0:
                    continue
                return packet[8]
    finally:
        sock.close()


def link_key(local: str, remote: str) -> bool:
    info = Path("/var/lib/bluetooth") / local / remote / "info"
    return info.is_file() and "[LinkKey]" in info.read_text()


def test_a_stranger_cannot_pair_outside_the_window(player: tuple[PiDaemon, Header],
                                                   radio: Radio) -> None:
    daemon, _ = player
    me, stranger = radio.address[Radio.ADAPTERS[0]], radio.address[Radio.ADAPTERS[2]]
    assert not radio.client.get(Radio.ADAPTERS[0], ADAPTER, "Pairable"), \
        "the player is pairable outside the window"
    log = EventLog(daemon)
    try:
        status = mgmt_pair(2, me)
        said = MGMT_STATUS.get(status, f"status 0x{status:02x}")
        assert status != 0, "the stranger paired with the player outside the window"
        assert not link_key(me, stranger) and not link_key(stranger, me)
        assert not radio.client.get(dev_path(Radio.ADAPTERS[0], stranger), DEVICE, "Paired")
    finally:
        log.close()
    # what the player made of the stranger's link, if bluetoothd showed it one
    refused = [e.get("reason") for e in log.events if e.get("type") == "bluetooth"
               and e.get("what") == "refused" and e.get("address") == stranger]
    print(f"stranger {stranger}: Pair Device -> {said}; the player's refused events: "
          f"{refused}")


class Trusting:
    """The headphones accept the player they are in contact with: as soon as bluetoothd
    has a device object for it on hci1, it is Trusted there (so the A2DP connection the
    player opens is not put to an agent on the headphones' side)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trusting:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(GUARD)

    def _run(self) -> None:
        client = Client()
        try:
            while not self._stop.is_set():
                trusted = client.get(self.path, DEVICE, "Trusted")
                if trusted is not None and not trusted:
                    client.set(self.path, DEVICE, "Trusted", client.dbus.Boolean(True))
                time.sleep(0.05)
        finally:
            client.close()


def test_pair_held_pairs_the_headphones(player: tuple[PiDaemon, Header], radio: Radio,
                                       vpi: Any) -> None:
    daemon, header = player
    c = radio.client
    me_path, hp_path = Radio.ADAPTERS[0], Radio.ADAPTERS[1]
    me, hp = radio.address[me_path], radio.address[hp_path]
    # the headphones in pairing mode: discoverable and pairable until they pair
    c.set(hp_path, ADAPTER, "Alias", "Test headphones")
    for name in ("DiscoverableTimeout", "PairableTimeout"):
        c.set(hp_path, ADAPTER, name, c.dbus.UInt32(0))
    for name in ("Pairable", "Discoverable"):
        c.set(hp_path, ADAPTER, name, c.dbus.Boolean(True))
    assert not c.get(me_path, ADAPTER, "Pairable"), "the player is pairable outside the window"
    known = Path(daemon.base) / "state" / "headphones.json"
    dev = dev_path(me_path, hp)
    log = EventLog(daemon)
    try:
        with Trusting(dev_path(hp_path, me)):
            pair = vpi.buttons["pair"].pin
            header.drive(pair, False)
            time.sleep(2.6)  # PAIR held for 2 s opens the window
            header.drive(pair, True)
            wait_until(lambda: c.get(dev, DEVICE, "Paired"), "the headphones paired", GUARD * 4)
            wait_until(lambda: c.get(dev, DEVICE, "Trusted") and known.is_file()
                       and hp in known.read_text().upper(),
                       "the headphones trusted and remembered", GUARD * 4)
    finally:
        log.close()
    assert c.get(dev_path(hp_path, me), DEVICE, "Paired"), "the headphones did not pair"
    assert link_key(me, hp), "bluetoothd stored no link key for the headphones"
    wait_until(lambda: not c.get(me_path, ADAPTER, "Pairable"), "the window closed")
    refused = [e for e in log.events if e.get("what") == "refused"]
    assert not refused, refused
