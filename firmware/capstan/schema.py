"""Declarative checks of what a person writes: scenario, board and configuration files.

Each kind of value is a small checker, `check(key, value) -> value`, that refuses
with a ConfigError naming the key, the value and what is accepted:

    mechanism.nominal_speed = nan: must be a number from 0.01 to 0.2 m/s

`read_toml()` reads such a file safely: only a regular file (a directory, a FIFO or
a device is refused without being opened for long), at most `MAX_BYTES`, UTF-8 text,
valid TOML, nested at most `MAX_DEPTH` deep. Every refusal is one line naming the file.
The accepted ranges are written in docs/configuration.md and docs/scenarios.md.
"""

from __future__ import annotations

import math
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from capstan.errors import ConfigError

MAX_BYTES = 1 << 20  # a scenario, a board description or a configuration: far less
MAX_DEPTH = 8        # tables and arrays inside one another

Checker = Callable[[str, Any], Any]


def _fmt(x: float) -> str:
    return f"{x:g}"


def number(lo: float, hi: float, *, integer: bool = False, above: bool = False,
           unit: str = "") -> Checker:
    """A finite int or float in [lo, hi] (or (lo, hi] with `above`); `integer`: a whole
    number. Booleans are refused (TOML's true is not 1)."""
    kind = "whole number" if integer else "number"
    span = (f"above {_fmt(lo)}, up to {_fmt(hi)}" if above
            else f"from {_fmt(lo)} to {_fmt(hi)}")
    accepts = f"a {kind} {span}{' ' + unit if unit else ''}"

    def check(key: str, v: Any) -> Any:
        ok = (not isinstance(v, bool) and isinstance(v, int if integer else int | float)
              and math.isfinite(v) and (lo < v if above else lo <= v) and v <= hi)
        if not ok:
            raise ConfigError(f"{key} = {_show(v)}: must be {accepts}")
        return int(v) if integer else float(v)
    check.accepts = accepts  # type: ignore[attr-defined]
    return check


def choice(*choices: Any) -> Checker:
    """One of `choices` (compared with ==, type included: 2 is not "2")."""
    accepts = "one of " + ", ".join(_show(c) for c in choices)

    def check(key: str, v: Any) -> Any:
        if not any(type(v) is type(c) and v == c for c in choices):
            raise ConfigError(f"{key} = {_show(v)}: must be {accepts}")
        return v
    check.accepts = accepts  # type: ignore[attr-defined]
    return check


def flag(key: str, v: Any) -> bool:
    """true or false."""
    if not isinstance(v, bool):
        raise ConfigError(f"{key} = {_show(v)}: must be true or false")
    return v


def true_only(key: str, v: Any) -> bool:
    """An action that is there or not: only `true` (false would do the action anyway, or
    nothing: both surprise; leave the key out instead)."""
    if v is not True:
        raise ConfigError(f"{key} = {_show(v)}: must be true (to not do it, leave the key "
                          "out)")
    return True


def text(key: str, v: Any) -> str:
    """A non-empty string of at most 4096 characters without control characters."""
    if not isinstance(v, str) or not v or len(v) > 4096 or any(ord(c) < 32 for c in v):
        raise ConfigError(f"{key} = {_show(v)}: must be a non-empty line of text")
    return v


def text_or_empty(key: str, v: Any) -> str:
    """A string (empty allowed: "the default") without control characters."""
    if v == "":
        return v
    return text(key, v)


def list_of(item: Checker, max_items: int = 64) -> Checker:
    def check(key: str, v: Any) -> list[Any]:
        if not isinstance(v, list) or len(v) > max_items:
            raise ConfigError(f"{key} = {_show(v)}: must be a list (at most {max_items})")
        return [item(f"{key}[{i}]", x) for i, x in enumerate(v)]
    return check


def table(fields: Mapping[str, Checker], key: str, v: Any,
          required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A TOML table whose every key is in `fields`, each checked; `required` must be there."""
    if not isinstance(v, dict):
        raise ConfigError(f"{key} = {_show(v)}: must be a table ([{key}])")
    out = {}
    for name, value in v.items():
        where = f"{key}.{name}" if key else name
        if name not in fields:
            raise ConfigError(f"unknown key {where} (known: {', '.join(fields)})")
        out[name] = fields[name](where, value)
    for name in required:
        if name not in out:
            raise ConfigError(f"{key}.{name} is missing")
    return out


def _show(v: Any) -> str:
    """The value as the person wrote it, cut short."""
    if isinstance(v, bool):
        s = "true" if v else "false"
    elif isinstance(v, str):
        s = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(v, dict):
        s = "{...}"
    elif isinstance(v, list):
        s = "[...]" if v else "[]"
    else:
        s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def depth(v: Any, limit: int = MAX_DEPTH) -> int:
    """How deep tables and arrays nest in `v` (stops counting past `limit`)."""
    if limit < 0 or not isinstance(v, dict | list):
        return 0
    items = v.values() if isinstance(v, dict) else v
    return 1 + max((depth(x, limit - 1) for x in items), default=0)


def read_capped(fd: int, limit: int) -> bytes | None:
    """Read an open file to its end, or None once it has more than `limit` bytes (a file
    that grows while it is read, or one whose size lies, is never read whole)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 16, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


def read_bytes(path: Path | str, what: str = "file", max_bytes: int = MAX_BYTES) -> bytes:
    """A regular file's bytes: no directory, FIFO, device or endless file is read."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{path}: is a directory, not a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path}: is not a regular file (a {what} is a text file)")
        if st.st_size > max_bytes:
            raise ConfigError(f"{path}: {st.st_size} bytes is too big for a {what} "
                              f"(at most {max_bytes})")
        data = read_capped(fd, max_bytes)
        if data is None:
            raise ConfigError(f"{path}: too big for a {what} (at most {max_bytes} bytes)")
        return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    finally:
        os.close(fd)


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    """UTF-8 TOML text into a dict, nested at most MAX_DEPTH deep; errors name `where`."""
    try:
        text_ = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                          f"offset {exc.start})") from None
    try:
        raw = tomllib.loads(text_)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    if depth(raw) > MAX_DEPTH:
        raise ConfigError(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)")
    return raw


def read_toml(path: Path | str, what: str = "file") -> dict[str, Any]:
    """Read and parse a TOML file safely (see the module's words)."""
    return parse_toml(read_bytes(path, what), str(path))
