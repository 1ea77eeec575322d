"""The power goes off at every write, rename and fsync in turn; the next start must run a
complete slot, old or new, never a half one.

`CuttingDisk` counts the installer's disk steps (capstan.update.disk) and, at step N,
cuts: the step is not done, and every file written since its last fsync loses its
content (the worst case of a delayed-allocation filesystem: a zero-length file). The
restart is a fresh `boot` with an honest disk. A second harness kills a real process at
step N (os._exit) and restarts it as a new process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from capstan.update import ledger, minisign
from capstan.update.boot import boot
from capstan.update.disk import Disk
from capstan.update.errors import PowerCut
from capstan.update.slots import Layout
from capstan.update.trial import confirm_healthy
from capstan.update.venv import UnpackBuilder

from .helpers import COMPATIBLE, CountingDisk, make_bundle, put_on_card, seeded_root
from .test_install import running_version


class CuttingDisk(Disk):
    def __init__(self, cut_at: int) -> None:
        super().__init__()
        self.cut_at = cut_at
        self.dirty: set[Path] = set()

    def step(self, kind: str, path: Path) -> None:
        super().step(kind, path)
        if self.steps == self.cut_at:
            for lost in self.dirty:
                if lost.is_file():
                    lost.write_bytes(b"")  # written, never fsynced: gone with the power
            raise PowerCut(f"step {self.steps}: {kind} {path}")

    def write_stream(self, path: Path, pieces: Iterable[bytes], mode: int = 0o644) -> None:
        super().write_stream(path, pieces, mode)
        self.dirty.add(path)

    def fsync(self, path: Path) -> None:
        super().fsync(path)
        self.dirty.discard(path)

    def rename(self, src: Path, dst: Path) -> None:
        super().rename(src, dst)
        if src in self.dirty:
            self.dirty.discard(src)
            self.dirty.add(dst)


def _boot(layout: Layout, boot_id: str, disk: Disk) -> None:
    boot(layout.root, this_boot=boot_id, now=0.0, deadline=60.0, compatible=COMPATIBLE,
         builder=UnpackBuilder(), disk=disk)


def _cut_points(tmp: Path, key: minisign.SecretKey) -> list[str]:
    layout = seeded_root(tmp, key)
    put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
    disk = CountingDisk()
    _boot(layout, "boot-1", disk)
    assert layout.active() == "b"
    return disk.kinds


def test_a_cut_at_every_step_of_an_install_leaves_a_complete_slot(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    kinds = _cut_points(tmp_path / "count", key)
    outcomes: dict[str, int] = {}
    for n in range(1, len(kinds) + 1):
        layout = seeded_root(tmp_path / str(n), key)
        put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
        try:
            _boot(layout, "boot-1", CuttingDisk(n))
        except PowerCut:
            pass
        else:
            raise AssertionError(f"no cut at step {n}")
        _boot(layout, "boot-2", Disk())  # the power comes back
        version = running_version(layout)
        assert version in ("0.1.0", "0.2.0"), f"cut at step {n} ({kinds[n - 1]})"
        outcomes[version] = outcomes.get(version, 0) + 1
        if ledger.read_trial(layout):  # the new slot is on trial: it proves healthy
            assert confirm_healthy(layout.root)
        assert running_version(layout) in ("0.1.0", "0.2.0")
    print(f"\npower-cut harness (install at boot): {len(kinds)} cut points "
          f"({', '.join(f'{k} {kinds.count(k)}' for k in sorted(set(kinds)))}); "
          f"after restart: {outcomes}")
    assert len(kinds) > 40 and {"write", "rename", "fsync"} <= set(kinds)
    # Cut before the switch, the next start installs again (0.2.0 on trial); cut after
    # the trial began, the unconfirmed trial is rolled back (0.1.0): both occur.
    assert set(outcomes) == {"0.1.0", "0.2.0"}


def test_a_cut_at_every_step_of_a_rollback_or_a_confirmation(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    tried = 0
    for what in ("rollback", "confirm"):
        for n in range(1, 200):
            layout = seeded_root(tmp_path / f"{what}{n}", key)
            put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
            _boot(layout, "boot-1", Disk())
            disk = CuttingDisk(n)
            try:
                if what == "rollback":
                    _boot(layout, "boot-2", disk)  # boot-1 never confirmed
                else:
                    confirm_healthy(layout.root, disk=disk)
            except PowerCut:
                tried += 1
            else:
                break  # n is past the last step
            _boot(layout, "boot-3", Disk())
            version = running_version(layout)
            if what == "rollback":
                assert version == "0.1.0", f"rollback cut at step {n}"
            else:
                assert version in ("0.1.0", "0.2.0"), f"confirm cut at step {n}"
    print(f"\npower-cut harness (rollback and confirmation): {tried} cut points")
    assert tried > 10


KILLER = """
import os, sys
from pathlib import Path
from capstan.update.boot import boot
from capstan.update.disk import Disk
from capstan.update.venv import UnpackBuilder

class KillingDisk(Disk):
    def step(self, kind, path):
        super().step(kind, path)
        if self.steps == int(sys.argv[2]):
            os._exit(137)

boot(Path(sys.argv[1]), this_boot=sys.argv[3], now=0.0, deadline=60.0,
     compatible="capstan,reference-v1", builder=UnpackBuilder(),
     disk=KillingDisk() if sys.argv[2] != "0" else Disk())
"""


def test_a_killed_install_process_restarts_onto_a_complete_slot(
        tmp_path: Path, key: minisign.SecretKey) -> None:
    total = len(_cut_points(tmp_path / "count", key))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    points = list(range(1, total + 1, max(1, total // 12)))
    for n in points:
        layout = seeded_root(tmp_path / str(n), key)
        put_on_card(layout, make_bundle(key, "0.2.0"), "0.2.0")
        killed = subprocess.run([sys.executable, "-c", KILLER, str(layout.root), str(n),
                                 "boot-1"], env=env, check=False)
        assert killed.returncode == 137
        subprocess.run([sys.executable, "-c", KILLER, str(layout.root), "0", "boot-2"],
                       env=env, check=True)
        assert running_version(layout) in ("0.1.0", "0.2.0"), f"killed at step {n}"
    print(f"\nkill harness: {len(points)} of {total} cut points, each in a real process")
