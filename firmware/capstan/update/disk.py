"""The one door through which the installer changes the disk.

Every write, rename, fsync, mkdir, symlink and removal the install makes goes through a
`Disk`, so the power-cut harness can stop the install at any one of them (see
tests/update/test_power_cut.py). Subprocesses (venv, pip) write on their own; the
installer fsyncs their output through here before it counts on it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


class Disk:
    """Real file operations, counted."""

    def __init__(self) -> None:
        self.steps = 0

    def step(self, kind: str, path: Path) -> None:
        """Called before every change; a test's subclass cuts the power here."""
        self.steps += 1

    def write(self, path: Path, data: bytes, mode: int = 0o644) -> None:
        self.write_stream(path, (data,), mode)

    def write_stream(self, path: Path, pieces: Iterable[bytes], mode: int = 0o644) -> None:
        """One write step: the file gets the pieces in turn (memory: one piece)."""
        self.step("write", path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
        try:
            for data in pieces:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def fsync(self, path: Path) -> None:
        self.step("fsync", path)
        flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, src: Path, dst: Path) -> None:
        self.step("rename", dst)
        os.replace(src, dst)

    def symlink(self, target: str, path: Path) -> None:
        self.step("symlink", path)
        os.symlink(target, path)

    def mkdir(self, path: Path, mode: int = 0o755) -> None:
        self.step("mkdir", path)
        path.mkdir(mode=mode, parents=True, exist_ok=True)

    def remove(self, path: Path) -> None:
        self.step("remove", path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    # Compositions of the steps above.

    def write_durably(self, path: Path, data: bytes, mode: int = 0o644) -> None:
        """Old or new content after a power cut, never a torn file."""
        tmp = path.with_name(path.name + ".tmp")
        self.write(tmp, data, mode)
        self.fsync(tmp)
        self.rename(tmp, path)
        self.fsync(path.parent)

    def point(self, link: Path, target: str) -> None:
        """Atomically make `link` a symlink to `target` (a rename over the old link)."""
        tmp = link.with_name(link.name + ".new")
        if tmp.is_symlink() or tmp.exists():
            self.remove(tmp)
        self.symlink(target, tmp)
        self.rename(tmp, link)
        self.fsync(link.parent)

    def fsync_tree(self, top: Path) -> int:
        """fsync every file and directory under `top` (files first, then their dirs)."""
        count = 0
        for dirpath, _dirs, files in os.walk(top, topdown=False):
            for name in files:
                path = Path(dirpath, name)
                if not path.is_symlink():
                    self.fsync(path)
                    count += 1
            self.fsync(Path(dirpath))
            count += 1
        return count
