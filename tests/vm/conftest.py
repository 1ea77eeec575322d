"""Fixtures of the virtual Pi (tools/vm-test): its header, I2C stub and loopback card.

These tests run only inside the guest, as root, on the kernel's gpio-sim, i2c-stub and
snd-aloop; tests/conftest.py keeps them out of the host's run.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.vm.rig import BOARD_FILE, ROOT, Header, load_chips, rest_lines, stub_bus

from capstan.hardware.description import BoardDescription, load_board


@pytest.fixture(scope="session")
def vpi() -> BoardDescription:
    """hardware/virtual-pi.toml."""
    return load_board(BOARD_FILE)


@pytest.fixture
def header(vpi: BoardDescription) -> Iterator[Header]:
    """The gpio-sim header; every input back at rest after the test."""
    h = Header()
    rest_lines(h, vpi)
    yield h
    rest_lines(h, vpi)


@pytest.fixture
def chips() -> Iterator[dict[int, object]]:
    """The gauge's and the charger's power-on registers in i2c-stub (again after the test)."""
    models = load_chips()
    yield models
    load_chips()


@pytest.fixture
def i2c_bus() -> int:
    return stub_bus()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable working directory (lgpio makes its notification FIFO there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*cmd: str, check: bool = True) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


@pytest.fixture(scope="session")
def installed() -> Iterator[None]:
    """tools/install into the guest; slot a is this checkout's .venv (its `bin`, and the
    slot's marker as tools/install writes it)."""
    venv = Path(os.environ["CAPSTAN_VENV"])
    opt = Path("/opt/capstan")
    slot = opt / "slots" / "a"
    slot.mkdir(parents=True, exist_ok=True)
    if not (slot / "bin").is_symlink():
        (slot / "bin").symlink_to(venv / "bin")
    version = run(str(venv / "bin" / "python"), "-c",
                  "import capstan; print(capstan.__version__)").strip()
    (slot / "capstan-slot.toml").write_text(
        f'version = "{version}"\nmanifest_sha256 = "installed-from-a-clone"\n')
    for link in (opt / "current", opt / "good"):
        if not link.is_symlink():
            link.symlink_to("slots/a")
    run(str(ROOT / "tools" / "install"), "--no-packages")
    # The checkout stands in for /opt/capstan/slots/a: the capstan user must reach it (in
    # this guest's overlay only), and the units' ProtectHome must not hide it.
    for top in (ROOT, venv):
        for d in (top, *top.parents):
            if not d.stat().st_mode & 0o001:
                d.chmod(d.stat().st_mode | 0o001)
    # (a checkout in a home needs the home readable; one in /tmp needs the real /tmp)
    dropin = ["[Service]"]
    if any(str(p).startswith(("/root/", "/home/", "/run/user/")) for p in (ROOT, venv)):
        dropin.append("ProtectHome=read-only")
    if any(str(p).startswith(("/tmp/", "/var/tmp/")) for p in (ROOT, venv)):
        dropin.append("PrivateTmp=no")
    if len(dropin) > 1:
        for unit in ("capstan.service", "capstan-update.service"):
            path = Path(f"/etc/systemd/system/{unit}.d/checkout-elsewhere.conf")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(dropin) + "\n")
    # The builder's board and configuration: the virtual Pi's
    Path("/etc/capstan/board.toml").write_text(BOARD_FILE.read_text())
    config = (ROOT / "tests" / "vm" / "capstan.toml").read_text().replace(
        "[player]\n", '[player]\nboard_file = "/etc/capstan/board.toml"\n')
    Path("/etc/capstan/capstan.toml").write_text(config)
    # the gpio group is new: udev re-reads its rules (and their groups) only when they changed
    Path("/etc/udev/rules.d/60-capstan-vm.rules").touch()
    run("udevadm", "control", "--reload")
    run("udevadm", "trigger", "--settle", "--subsystem-match=gpio", "--subsystem-match=i2c-dev")
    run("systemctl", "daemon-reload")
    yield
    run("systemctl", "stop", "capstan.service", check=False)
