"""The bundle's container: a strict subset of ustar that GNU tar reads and we write.

Every header must be byte for byte the canonical one we write (regular files, mode
0644, owner 0, time 0, no prefix), padding must be zeros, and the archive ends with
exactly two zero blocks. So any changed byte anywhere is a rejection, and the reader
needs no trust in anything it has not checked. Any input either parses or raises
BundleRejected with one line saying why.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from capstan.update.errors import BundleRejected

BLOCK = 512
NAME_MAX = 100
MAX_ENTRIES = 512
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes


@dataclass(frozen=True)
class Member:
    """Where an entry's data lies in the archive file (checked structure, unchecked data)."""

    name: str
    offset: int
    size: int


def check_path(path: str) -> str:
    """A relative path of plain components; raises BundleRejected naming the path."""
    if (not path or path.startswith("/") or "\\" in path or "\0" in path
            or len(path) > NAME_MAX):
        raise BundleRejected(f"unsafe path in the bundle: {path[:120]!r} (must be relative, "
                             "short and without '..'); the bundle is not installed")
    for part in path.split("/"):
        if part in ("", ".", "..") or not _SAFE_COMPONENT.fullmatch(part):
            raise BundleRejected(f"unsafe path in the bundle: {path[:120]!r} (must be "
                                 "relative, short and without '..'); the bundle is not "
                                 "installed")
    return path


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def header(name: str, size: int) -> bytes:
    """The canonical ustar header of a regular file."""
    raw_name = name.encode("ascii")
    if len(raw_name) > NAME_MAX:
        raise BundleRejected(f"path too long for a bundle: {name!r}")
    fields = [
        raw_name.ljust(100, b"\0"), _octal(0o644, 8), _octal(0, 8), _octal(0, 8),
        _octal(size, 12), _octal(0, 12), b" " * 8, b"0", bytes(100), b"ustar\x0000",
        bytes(32), bytes(32), _octal(0, 8), _octal(0, 8), bytes(155), bytes(12),
    ]
    block = bytearray(b"".join(fields))
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pack(entries: list[Entry], check: bool = True) -> bytes:
    """The canonical archive; check=False lets tests build hostile ones."""
    out = bytearray()
    for entry in entries:
        if check:
            check_path(entry.name)
        out += header(entry.name, len(entry.data))
        out += entry.data
        out += bytes(-len(entry.data) % BLOCK)
    out += bytes(2 * BLOCK)
    return bytes(out)


def unpack(blob: bytes) -> list[Entry]:
    """Every entry of a canonical archive held in memory, or BundleRejected."""
    return [Entry(m.name, blob[m.offset:m.offset + m.size])
            for m in index(io.BytesIO(blob), len(blob))]


def _read_exact(f: BinaryIO, pos: int, n: int) -> bytes:
    f.seek(pos)
    data = f.read(n)
    if len(data) != n:
        raise BundleRejected("the bundle changed size while it was read: copy it onto the "
                             "card again")
    return data


def index(f: BinaryIO, total: int) -> list[Member]:
    """The entries of a canonical archive of `total` bytes in a seekable file.

    Reads only the headers, the padding and the end marker (a few blocks per entry), so
    memory does not grow with the archive; the data are checked by their reader.
    """
    if not total:
        raise BundleRejected("the bundle is empty (0 bytes): copy it onto the card again")
    if total % BLOCK:
        raise BundleRejected(f"the bundle is truncated or padded ({total} bytes is not a "
                             "whole number of blocks): copy it onto the card again")
    members: list[Member] = []
    pos = 0
    while True:
        if pos + BLOCK > total:
            raise BundleRejected("the bundle is truncated (no end-of-archive marker): copy it "
                                 "onto the card again")
        block = _read_exact(f, pos, BLOCK)
        if block == bytes(BLOCK):
            break
        if len(members) >= MAX_ENTRIES:
            raise BundleRejected(f"the bundle has more than {MAX_ENTRIES} entries")
        name, size = _parse_header(block, pos)
        start = pos + BLOCK
        end = start + size
        padded = end + (-size % BLOCK)
        if padded > total:
            raise BundleRejected(f"the bundle is truncated inside {name!r}: copy it onto the "
                                 "card again")
        if _read_exact(f, end, padded - end) != bytes(padded - end):
            raise BundleRejected(f"the padding after {name!r} is damaged: copy the bundle "
                                 "onto the card again")
        members.append(Member(name, start, size))
        pos = padded
    trailer = total - pos
    if trailer < 2 * BLOCK:
        raise BundleRejected("the bundle is truncated (the end-of-archive marker is cut): copy "
                             "it onto the card again")
    if trailer > 2 * BLOCK:
        raise BundleRejected("the bundle has extra bytes after its end: copy it onto the card "
                             "again")
    if _read_exact(f, pos, trailer) != bytes(trailer):
        raise BundleRejected("the end-of-archive marker is damaged: copy the bundle onto the "
                             "card again")
    return members


def chunks(f: BinaryIO, member: Member, size: int = 1 << 20) -> Iterator[bytes]:
    """A member's data in pieces of at most `size` bytes."""
    pos, left = member.offset, member.size
    while left:
        piece = _read_exact(f, pos, min(size, left))
        pos += len(piece)
        left -= len(piece)
        yield piece


class Window(io.RawIOBase):
    """A read-only, seekable view of one member inside the archive file (for zipfile)."""

    def __init__(self, f: BinaryIO, member: Member) -> None:
        super().__init__()
        self._f, self._start, self._size, self._pos = f, member.offset, member.size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = max(0, min(len(buffer), self._size - self._pos))
        if not n:
            return 0
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


def _parse_header(block: bytes, pos: int) -> tuple[str, int]:
    raw_name = block[:100].rstrip(b"\0")
    size_field = block[124:136]
    damaged = BundleRejected(f"the entry header at byte {pos} is damaged: copy the bundle "
                             "onto the card again")
    if not re.fullmatch(rb"[0-7]{11}\0", size_field):
        raise damaged
    try:
        name = raw_name.decode("ascii")
    except UnicodeDecodeError:
        raise damaged from None
    if "\0" in name:
        raise damaged
    size = int(size_field[:11], 8)
    try:
        canonical = header(name, size)
    except (BundleRejected, UnicodeEncodeError):
        raise damaged from None
    if canonical != block:
        raise damaged
    check_path(name)
    return name, size
