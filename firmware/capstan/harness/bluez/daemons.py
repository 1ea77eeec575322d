"""Real daemons for the simulator and the tests: a private system bus, the BlueZ mock, BlueALSA.

Each is a child process, started and stopped by the simulator's Bluetooth world
(harness/world.py) or by a test fixture; the firmware finds the bus through
its address (DBUS_SYSTEM_BUS_ADDRESS for BlueALSA's ALSA plugin), as it finds
the real one on the Pi. The waits here are start-up conditions, never timing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from capstan.errors import CapstanError

TEMPLATE = Path(__file__).with_name("template.py")


class DaemonMissing(CapstanError):
    """A program the simulated Bluetooth world needs is not installed."""


class DaemonFailed(CapstanError):
    """A daemon of the simulated Bluetooth world did not come up."""


def missing() -> str | None:
    """What is missing for simulated Bluetooth (dbus-daemon, python-dbusmock), or None."""
    import importlib.util

    if shutil.which("dbus-daemon") is None:
        return "dbus-daemon is not installed (Debian package dbus; tools/sim installs it)"
    if importlib.util.find_spec("dbusmock") is None:
        return "python-dbusmock is not installed (pip install python-dbusmock; tools/sim does)"
    return None

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def _wait(condition: Callable[[], bool], what: str, proc: subprocess.Popen,
          limit: float = 20.0) -> None:
    """Wait for a daemon to come up (a start-up condition, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None:
            raise DaemonFailed(f"{what} exited with {proc.returncode} while starting")
        if time.monotonic() > deadline:
            raise DaemonFailed(f"{what} did not come up in {limit} s")
        time.sleep(0.02)


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def has_name(address: str, name: str) -> bool:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
    out = subprocess.run(
        ["dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
         "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
        env=env, capture_output=True, text=True, check=False)
    return "boolean true" in out.stdout


class Daemon:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self._file, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        stop_process(self.proc)
        self._file.close()


def start_bus(directory: Path) -> tuple[subprocess.Popen, str]:
    socket = directory / "system_bus_socket"
    config = directory / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=socket))
    proc = subprocess.Popen(["dbus-daemon", "--config-file", str(config), "--nofork",
                             "--print-address=1"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    if not address:
        stop_process(proc)
        raise DaemonFailed("dbus-daemon did not print its address")
    return proc, address


def start_bluez_mock(directory: Path, address: str) -> Daemon:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
    mock = Daemon([sys.executable, "-m", "dbusmock", "--system", "-t", str(TEMPLATE)], env,
                  directory / "bluez-mock.log")
    _wait(lambda: has_name(address, "org.bluez"), "the BlueZ mock", mock.proc)
    return mock


def start_bluealsa(directory: Path, address: str) -> Daemon:
    binary = shutil.which("bluealsa")
    if binary is None:
        raise DaemonMissing("bluealsa is missing: install bluez-alsa-utils (tools/sim and "
                            "tools/test do)")
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
    daemon = Daemon([binary, "-p", "a2dp-source", "-c", "SBC"], env, directory / "bluealsa.log")
    _wait(lambda: has_name(address, "org.bluealsa"), "bluealsa", daemon.proc)
    return daemon
