"""configfs stood in for by a plain directory tree (host tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

from capstan.usb.gadget import Tree


class PlainTree(Tree):
    """configfs in a temporary directory: attributes are files, and removing a directory
    takes its attributes and default groups (lun.0, strings, configs) with it, as configfs
    does. Every operation is logged in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def mkdir(self, path: Path) -> None:
        self.log.append(("mkdir", str(path)))
        super().mkdir(path)

    def write(self, path: Path, value: str) -> None:
        self.log.append(("write", f"{path}={value}"))
        super().write(path, value)

    def symlink(self, target: Path, path: Path) -> None:
        self.log.append(("symlink", f"{path}->{target}"))
        super().symlink(target, path)

    def unlink(self, path: Path) -> None:
        self.log.append(("unlink", str(path)))
        super().unlink(path)

    def rmdir(self, path: Path) -> None:
        self.log.append(("rmdir", str(path)))
        links = [p for p in path.rglob("*") if p.is_symlink()]
        assert not links, f"rmdir {path} with links still in it: {links}"
        shutil.rmtree(path)
