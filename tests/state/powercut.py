"""A Disk that models what a power cut leaves behind, and cuts a write at any step.

Two pictures of one directory are kept: the volatile one (what the running
system sees, also done for real on the filesystem) and the durable one (what is
on the card after the power goes): a file's bytes are durable once fsynced, a
directory entry (create, rename, unlink) once the directory is fsynced. Data
never fsynced comes back as an empty file, as ext4's delayed allocation leaves it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from capstan.state.disk import Disk


class PowerCut(Exception):
    pass


class PowerCutDisk(Disk):
    def __init__(self, directory: Path, cut_at: int | None = None) -> None:
        self.directory = directory
        self.cut_at = cut_at
        self.steps = 0
        self._inodes = itertools.count(1)
        self.entries: dict[str, int] = {}  # durable directory entries
        self.data: dict[int, bytes] = {}  # durable file contents
        self.v_entries: dict[str, int] = {}
        self.v_data: dict[int, bytes] = {}
        self._fds: dict[int, int] = {}  # real fd -> inode
        for path in directory.iterdir() if directory.exists() else ():
            inode = next(self._inodes)
            self.entries[path.name] = self.v_entries[path.name] = inode
            self.data[inode] = self.v_data[inode] = path.read_bytes()

    def _step(self) -> None:
        if self.cut_at is not None and self.steps >= self.cut_at:
            raise PowerCut(f"power cut before step {self.steps}")
        self.steps += 1

    def create(self, path: Path) -> int:
        self._step()
        fd = super().create(path)
        inode = next(self._inodes)
        self.v_entries[path.name] = inode
        self.v_data[inode] = b""
        self._fds[fd] = inode
        return fd

    def write(self, fd: int, data: bytes) -> None:
        self._step()
        super().write(fd, data)
        self.v_data[self._fds[fd]] += data

    def sync(self, fd: int) -> None:
        self._step()
        super().sync(fd)
        inode = self._fds[fd]
        self.data[inode] = self.v_data[inode]

    def close(self, fd: int) -> None:
        # close() always happens (it is in a finally) and changes nothing durable
        super().close(fd)
        self._fds.pop(fd, None)

    def replace(self, src: Path, dst: Path) -> None:
        self._step()
        super().replace(src, dst)
        self.v_entries[dst.name] = self.v_entries.pop(src.name)

    def remove(self, path: Path) -> None:
        self._step()
        super().remove(path)
        self.v_entries.pop(path.name, None)

    def sync_dir(self, directory: Path) -> None:
        self._step()
        super().sync_dir(directory)
        self.entries = dict(self.v_entries)

    def after_power_cut(self, into: Path) -> Path:
        """Write the durable picture of the directory into `into` (a fresh directory)."""
        into.mkdir(parents=True)
        for name, inode in self.entries.items():
            (into / name).write_bytes(self.data.get(inode, b""))
        return into
