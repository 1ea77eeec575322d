"""An update installs into a real slot over Debian 12's python3 and Debian's packages, as
on the player, and the firmware runs from it: every module imports, the self-test and a
scenario run, and each dependency is Debian's (gpiozero excepted: the bundle's wheel).

Needs what tools/install puts on a player (tools/lib/setup.sh's CAPSTAN_DEBS_PLAYER; tools/test
installs them) and the bundle's gpiozero wheel (.venv/bundle-wheels, also tools/test's).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from capstan import __version__
from capstan.update import minisign
from capstan.update.install import install
from capstan.update.pack import build_firmware_wheel
from capstan.update.venv import VenvBuilder

from .helpers import COMPATIBLE, make_bundle, new_root

REPO = Path(__file__).resolve().parents[2]
DEBIAN_SITE = "/usr/lib/python3/dist-packages/"
# import name -> where it must come from on the player
DEPENDENCIES = {"numpy": "debian", "cryptography": "debian", "smbus2": "debian",
                "dbus_fast": "debian", "alsaaudio": "debian", "tomli_w": "debian",
                "soundfile": "debian", "colorzero": "debian", "gpiozero": "slot", "capstan": "slot"}

PROBE = """
import importlib, json, pkgutil, capstan
failed = {}
for m in pkgutil.walk_packages(capstan.__path__, "capstan."):
    # the front panel is the simulator's on a computer (textual), not the player's; the
    # BlueZ mock's template is python-dbusmock's to load, on a computer, as a file
    if m.name.endswith("__main__") or m.name.startswith("capstan.panel") \
            or m.name == "capstan.harness.bluez.template":
        continue
    try:
        importlib.import_module(m.name)
    except Exception as exc:
        failed[m.name] = repr(exc)[:200]
where = {name: importlib.import_module(name).__file__ for name in %r}
print(json.dumps({"failed": failed, "where": where}))
"""


def player_debs() -> list[str]:
    text = (REPO / "tools" / "lib" / "setup.sh").read_text()
    body = re.search(r"CAPSTAN_DEBS_PLAYER=\(([^)]*)\)", text)
    assert body, "tools/lib/setup.sh has no CAPSTAN_DEBS_PLAYER"
    return body[1].split()


def test_the_player_packages_are_here() -> None:
    """Not a skip: without them the next test would prove nothing."""
    missing = [p for p in player_debs() if "install ok installed" not in subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout]
    assert missing == [], f"install the player's Debian packages (tools/test does): {missing}"


def test_debians_numpy_runs_on_openblas() -> None:
    """libopenblas0-serial, not the reference BLAS python3-numpy pulls in (docs/updates.md)."""
    probe = ("import numpy; numpy.ones((64, 32)) @ numpy.ones((32, 33)); "
             "print(open('/proc/self/maps').read())")
    maps = subprocess.run(["/usr/bin/python3", "-c", probe], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    blas = {line.split()[-1] for line in maps.splitlines() if "/libblas.so" in line}
    assert blas and all("/openblas" in lib for lib in blas), blas  # not .../blas/libblas.so


def test_docs_name_exactly_the_packages_tools_install_installs() -> None:
    doc = (REPO / "docs" / "updates.md").read_text()
    listed = re.search(r"<!-- player-debs -->\n(.*?)\n<!-- /player-debs -->", doc, re.S)
    assert listed, "docs/updates.md has no player-debs list"
    assert sorted(re.findall(r"`([a-z0-9.+-]+)`", listed[1])) == sorted(player_debs())


def _firmware_wheel(out: Path) -> Path:
    wheel = build_firmware_wheel(REPO, out)
    assert wheel.name.startswith(f"capstan-{__version__}-")
    return wheel


def test_an_update_installs_over_debians_packages_and_the_firmware_runs(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    assert Path("/usr/bin/python3").exists()
    extra = sorted((Path(sys.prefix) / "bundle-wheels").glob("gpiozero-*-py3-none-any.whl"))
    assert extra, f"no gpiozero wheel in {sys.prefix}/bundle-wheels (tools/test fetches it)"
    wheel = _firmware_wheel(tmp_path / "wheels")
    layout = new_root(tmp_path / "root", key)
    card = tmp_path / "update.capstan"
    card.write_bytes(make_bundle(key, __version__, files={
        f"wheels/{wheel.name}": wheel.read_bytes(),
        f"wheels/{extra[-1].name}": extra[-1].read_bytes()}))
    done = install(card, layout, key=key.public(), compatible=COMPATIBLE,
                   builder=VenvBuilder("/usr/bin/python3"))
    slot = layout.slot(done.slot)
    assert not list(slot.glob("lib/python3*/site-packages/pip")), "no pip copy in the slot"
    python = str(slot / "bin" / "python")
    env = {"PATH": "/usr/bin:/bin", "CAPSTAN_BOARD": str(REPO / "hardware" / "board.toml"),
           "HOME": str(tmp_path)}  # as on the player: nothing of this test's PYTHONPATH
    probe = subprocess.run([python, "-c", PROBE % (list(DEPENDENCIES),)], capture_output=True,
                           text=True, timeout=300, check=False, env=env)
    assert probe.returncode == 0, probe.stderr[-2000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["failed"] == {}
    for name, origin in DEPENDENCIES.items():
        where = found["where"][name]
        if origin == "debian":
            assert where.startswith(DEBIAN_SITE), f"{name} from {where}, not Debian's"
        else:
            assert where.startswith(str(slot)), f"{name} from {where}, not the bundle's"

    capstan = str(slot / "bin" / "capstan")
    version = subprocess.run([capstan, "--version"], capture_output=True, text=True,
                             env=env, timeout=120, check=False)
    assert version.stdout.strip() == f"capstan {__version__}", version.stderr
    selftest = subprocess.run([capstan, "selftest", "--board", "sim"], capture_output=True,
                              text=True, env=env, timeout=300, check=False, cwd=tmp_path)
    assert selftest.returncode == 0 and "self-test passed" in selftest.stdout, \
        selftest.stdout + selftest.stderr
    report = tmp_path / "report.json"
    sim = subprocess.run([capstan, "sim", "--scenario", str(REPO / "examples" /
                          "demo-mixtape.toml"), "--report", str(report)],
                         capture_output=True, text=True, env=env, timeout=600, check=False,
                         cwd=tmp_path)
    assert sim.returncode == 0, sim.stderr[-2000:]
    assert json.loads(report.read_text())["events"]
