"""Bundles up to the size cap verify and install under a 256 MB memory limit (RLIMIT_AS
on a real process, as on a Pi Zero 2 W with 512 MB); larger ones are refused before
anything is copied; running out of memory is recorded as a failure, not retried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capstan.update import ledger, minisign
from capstan.update.bundle import MAX_FILE
from capstan.update.errors import BundleRejected, PowerCut
from capstan.update.install import install
from capstan.update.manifest import MAX_BUNDLE, Manifest, PayloadFile, dump_manifest
from capstan.update.venv import UnpackBuilder

from .helpers import (
    COMPATIBLE,
    make_bundle,
    make_wheel,
    put_on_card,
    seeded_root,
    tree_digest,
    write_big_bundle,
)
from .test_install import _boot, running_version

LIMIT = 256 * 1024 * 1024

RUNNER = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
from capstan.cli import main
from capstan.update.boot import boot
from capstan.update.venv import UnpackBuilder
root, card = Path(sys.argv[2]), sys.argv[3]
code = main(["update", "verify", card, "--root", str(root)])
report = boot(root, this_boot="boot-1", now=0.0, deadline=60.0,
              compatible="capstan,reference-v1", builder=UnpackBuilder())
print(json.dumps({"verify": code, "installed": report.installed, "rejected": report.rejected,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _limited(root: Path, card: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(LIMIT), str(root), str(card)],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_bundle_at_the_cap_verifies_and_installs_under_256_mb(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    (tmp_path / "etc" / "capstan" / "update.pub").write_text(key.public().to_text())
    card = write_big_bundle(layout.boot / "capstan-0.2.0.capstan", key, "0.2.0",
                            MAX_BUNDLE - (64 << 10))
    assert MAX_BUNDLE - (1 << 20) < card.stat().st_size <= MAX_FILE
    result = _limited(tmp_path, card)
    print(f"\n{card.stat().st_size >> 20} MiB bundle under RLIMIT_AS {LIMIT >> 20} MiB: "
          f"peak RSS {int(result['peak_kib']) >> 10} MiB")  # type: ignore[call-overload]
    assert result == {**result, "verify": 0, "installed": "0.2.0", "rejected": []}
    assert running_version(layout) == "0.2.0"
    assert list(layout.incoming.iterdir()) == []


def test_a_manifest_over_the_cap_is_refused(tmp_path: Path, key: minisign.SecretKey) -> None:
    from capstan.update import archive
    from capstan.update.bundle import MANIFEST, SIGNATURE

    layout = seeded_root(tmp_path, key)
    name, data = make_wheel("0.2.0")
    for sizes in ([MAX_BUNDLE + 1], [MAX_BUNDLE // 2, MAX_BUNDLE // 2 + 1]):
        payload = tuple(PayloadFile(f"wheels/{i}-{name}", size, "0" * 64)
                        for i, size in enumerate(sizes))
        manifest = dump_manifest(Manifest(COMPATIBLE, "0.2.0", payload))
        blob = archive.pack([
            archive.Entry(MANIFEST, manifest),
            archive.Entry(SIGNATURE, minisign.sign(manifest, key, "t").encode()),
            *(archive.Entry(f"payload/{p.path}", data) for p in payload)])
        card = put_on_card(layout, blob, "0.2.0")
        with pytest.raises(BundleRejected, match="more than the 256 MiB a bundle may carry"):
            install(card, layout, key=key.public(), compatible=COMPATIBLE,
                    builder=UnpackBuilder())
        assert list(layout.incoming.iterdir()) == []


def test_a_file_over_the_cap_is_refused_before_it_is_read(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    layout = seeded_root(tmp_path, key)
    card = layout.boot / "capstan-0.2.0.capstan"
    with card.open("wb") as f:
        f.truncate(MAX_FILE + 512)  # sparse: costs no disk, and would cost memory if read
    before = tree_digest(layout.slot("a"))
    report = _boot(layout, "boot-1")
    assert "larger than the 256 MiB a bundle may be" in report.rejected[0]
    assert "Result: REFUSED" in layout.result.read_text()
    assert not layout.incoming.exists() or list(layout.incoming.iterdir()) == []
    assert tree_digest(layout.slot("a")) == before and layout.active() == "a"


class HungryBuilder(UnpackBuilder):
    """Stands for a build that runs out of memory half-way through the slot."""

    def __init__(self) -> None:
        self.calls = 0

    def build(self, slot: Path, wheels: list[Path], disk) -> None:  # type: ignore[no-untyped-def]
        self.calls += 1
        super().build(slot, wheels, disk)
        bytearray(1 << 62)  # MemoryError, whatever the machine


def test_running_out_of_memory_is_recorded_once_and_not_retried_at_every_boot(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    from capstan.update.boot import boot

    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    hungry = HungryBuilder()
    for n in (1, 2, 3):
        report = boot(tmp_path, this_boot=f"boot-{n}", now=0.0, deadline=60.0,
                      compatible=COMPATIBLE, builder=hungry)
        assert report.installed is None
    assert hungry.calls == 1
    result = layout.result.read_text()
    assert "Result: REFUSED" in result and "ran out of memory" in result
    assert list(layout.incoming.iterdir()) == []
    assert layout.active() == "a" and running_version(layout) == "0.1.0"
    assert ledger.read_trial(layout) is None


class KilledBuilder(UnpackBuilder):
    """Stands for the kernel stopping the updater mid-build (SIGKILL: nothing runs after)."""

    def build(self, slot: Path, wheels: list[Path], disk) -> None:  # type: ignore[no-untyped-def]
        super().build(slot, wheels, disk)
        raise PowerCut("killed")


def test_an_install_cut_off_at_every_start_is_refused_after_three(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    from capstan.update.boot import boot

    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    for n in range(ledger.MAX_ATTEMPTS):
        with pytest.raises(PowerCut):
            boot(tmp_path, this_boot=f"boot-{n}", now=0.0, compatible=COMPATIBLE,
                 builder=KilledBuilder())
        assert layout.active() == "a"
    report = _boot(layout, "boot-last")
    assert report.installed is None and "cut off 3 times" in report.rejected[0]
    assert "Result: REFUSED" in layout.result.read_text()
    assert _boot(layout, "boot-after").rejected == []  # reported once, then left alone
    assert running_version(layout) == "0.1.0"


def test_an_install_cut_off_twice_still_installs_at_the_third_start(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    from capstan.update.boot import boot

    layout = seeded_root(tmp_path, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    for n in range(ledger.MAX_ATTEMPTS - 1):
        with pytest.raises(PowerCut):
            boot(tmp_path, this_boot=f"boot-{n}", now=0.0, compatible=COMPATIBLE,
                 builder=KilledBuilder())
    assert _boot(layout, "boot-3").installed == "0.2.0"
    assert ledger.read_history(layout).attempts == {}
