"""The filesystem steps of one atomic write, one method each.

`StateStore` writes through a `Disk`. The real one calls `os`; the tests swap in
one that models what survives a power cut (what was fsynced, and which directory
entries were synced) and cut the write at every step.
"""

from __future__ import annotations

import os
from pathlib import Path


class Disk:
    """The POSIX calls an atomic replace needs: create, write, fsync, close, rename, fsync dir."""

    def create(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)

    def write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    def sync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def sync_dir(self, directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, path: Path) -> None:
        os.unlink(path)
