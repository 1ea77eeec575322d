"""Durable state on the SD card: settings, paired headphones, cassettes' TOCs, the counter.

One JSON file per name in the state directory (``/var/lib/capstan``), each an
envelope with a checksum of its data::

    {"capstan-state": 1, "name": "settings", "sha256": "…", "data": {…}}

Writes are atomic: a temporary file is written and fsynced, renamed over the
old one, and the directory is fsynced; a power cut at any moment leaves the old
file or the new one. A file that cannot be read, does not parse or fails its
checksum is moved aside (``NAME.json.bad-N``), the caller's defaults are used,
and a `StateRecovered` event says so: never a crash, never a crash loop. The
same holds for data that parses and checks out but is not of the name's layout
(capstan.state.layouts: another firmware's, a hand edit), for JSON nested too
deep to read, and for anything that is not a regular file of at most
`MAX_FILE` bytes: a state file is opened without following a link (into
/dev/zero, say) and without waiting (a FIFO), then looked at with fstat.

SD cards wear: `save` writes only when the data changed, and `save_soon`
coalesces frequent changes (the counter) into at most one write per interval;
`flush` writes what is pending (on stop, on eject).

In the daemon (`background=True`) a save never waits on the card on the event
loop: an SD card can hold a write and its fsyncs for hundreds of milliseconds,
and the loop carries the buttons, the safety watchdog and the audio. The data
is encoded on the loop and written by one writer thread, in the order saved;
a name saved again while its write is under way is written once more after it
(the newest data wins). `load` returns what was saved even before it reached
the disk, and `flush` waits for the writer (on stop, at power-off).
"""

from __future__ import annotations

import asyncio
import copy
import errno
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from capstan.errors import CapstanError
from capstan.events import Event, EventBus
from capstan.schema import read_capped
from capstan.state.disk import Disk
from capstan.state.layouts import layout
from capstan.state.schema import Anything, Schema, SchemaError

FALLBACK = Anything(32)  # a name without a layout: plain data, nested at most 32 deep
MAX_FILE = 4 * 1024 * 1024  # bytes: larger than any state the player writes

log = logging.getLogger(__name__)

FORMAT = 1
KEEP_BAD = 3  # moved-aside files kept per name (older ones are deleted)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class StateError(CapstanError):
    """A state name or value the store cannot take (a programming error, not a disk one)."""


@dataclass(frozen=True)
class StateRecovered(Event):
    """A state file was unreadable or corrupt: moved aside, defaults used."""

    type: ClassVar[str] = "state_recovered"
    name: str
    reason: str
    moved_to: str | None = None


@dataclass(frozen=True)
class StateNotSaved(Event):
    """A write failed (card full, read-only, failing): the player runs on, the change is lost."""

    type: ClassVar[str] = "state_not_saved"
    name: str
    reason: str


def canonical(data: Any) -> bytes:
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise StateError(f"state must be plain JSON data (dicts, lists, str, numbers, "
                         f"bools, None): {exc}") from None


def encode(name: str, data: Any) -> bytes:
    body = canonical(data)
    envelope = {"capstan-state": FORMAT, "name": name,
                "sha256": hashlib.sha256(body).hexdigest(), "data": data}
    return (json.dumps(envelope, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def decode(name: str, raw: bytes, schema: Schema | None = None) -> Any:
    """The data of a state file; ValueError saying what is wrong with it.

    `schema`: the data's layout (default: the name's in capstan.state.layouts)."""
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at byte {exc.pos})") from None
    except RecursionError:
        raise ValueError("JSON nested too deep to read") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ValueError(f"not readable JSON ({exc})") from None
    if not isinstance(envelope, dict) or envelope.get("capstan-state") != FORMAT:
        raise ValueError(f"not a Capstan state file of format {FORMAT}")
    if envelope.get("name") != name:
        raise ValueError(f"it holds {envelope.get('name')!r}, not {name!r}")
    if "data" not in envelope or not isinstance(envelope.get("sha256"), str):
        raise ValueError("its data or checksum is missing")
    data = envelope["data"]
    try:
        (schema or layout(name) or FALLBACK).validate(data, "data")
    except SchemaError as exc:
        raise ValueError(f"its data is not of the {name} layout ({exc})") from None
    try:
        body = canonical(data)
    except (StateError, RecursionError):
        raise ValueError("its data is not plain JSON") from None
    if hashlib.sha256(body).hexdigest() != envelope["sha256"]:
        raise ValueError("its checksum does not match its data")
    return data


def read_regular(path: Path, limit: int = MAX_FILE) -> bytes:
    """The bytes of `path` if it is a regular file of at most `limit` bytes.

    Never follows a symbolic link, never waits (a FIFO, a device), never reads more
    than `limit` + 1 bytes: FileNotFoundError if there is nothing, else ValueError
    or OSError saying what is there instead."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("it is a symbolic link, not a file") from None
        if exc.errno != errno.ENOENT:
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                raise exc from None
            if not stat.S_ISREG(mode):
                raise ValueError(f"it is {_kind(mode)}, not a regular file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"it is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise ValueError(f"it is {info.st_size} bytes, more than the {limit} a state "
                             "file may hold")
        data = read_capped(fd, limit)
        if data is None:
            raise ValueError(f"it is more than the {limit} bytes a state file may hold")
        return data
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a file"


class StateStore:
    """`load(name, default)` and `save(name, data)` over one directory."""

    def __init__(self, directory: Path | str, bus: EventBus | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, disk: Disk | None = None,
                 background: bool = False) -> None:
        """`background`: write on a writer thread while `loop` runs (the daemon)."""
        self.directory = Path(directory)
        self.bus, self.loop = bus, loop
        self.disk = disk or Disk()
        self.background = background and loop is not None
        self._writer: ThreadPoolExecutor | None = None
        self._unwritten: dict[str, Any] = {}  # saved, not yet on disk (newest per name)
        self._writing: dict[str, asyncio.Future[None]] = {}
        self._again: dict[str, tuple[Path, bytes]] = {}  # to write once the current one is done
        self._results: dict[str, OSError | None] = {}  # the writer thread's outcomes
        self._told: dict[str, list[Callable[[], None]]] = {}  # when_written's callbacks
        self.writes = 0  # files written since start (tests and `capstan status` read it)
        self._known: dict[str, bytes] = {}  # canonical data as on disk, per name
        self._pending: dict[str, Any] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise StateError(f"bad state name {name!r}: use lower-case letters, digits, - and _")
        return self.directory / f"{name}.json"

    # reading ------------------------------------------------------------------
    def load(self, name: str, default: Any, schema: Schema | None = None) -> Any:
        """The saved data, or a copy of `default` if there is none or it was bad.

        `schema`: the layout the data must have (default: the name's, see
        capstan.state.layouts); data of another shape is moved aside like a corrupt file."""
        path = self.path(name)
        if name not in self._writing:  # else the temporary file is the writer's, in use
            self._remove_leftover(path)
        if name in self._pending:
            return copy.deepcopy(self._pending[name])
        if name in self._unwritten:
            return copy.deepcopy(self._unwritten[name])
        try:
            raw = read_regular(path)
        except FileNotFoundError:
            return copy.deepcopy(default)
        except ValueError as exc:
            self._recover(name, path, f"it cannot be read: {exc}")
            return copy.deepcopy(default)
        except OSError as exc:
            self._recover(name, path, f"it cannot be read ({exc.strerror or exc})")
            return copy.deepcopy(default)
        try:
            data = decode(name, raw, schema)
        except ValueError as exc:
            self._recover(name, path, str(exc))
            return copy.deepcopy(default)
        self._known[name] = canonical(data)
        return data

    def _remove_leftover(self, path: Path) -> None:
        tmp = self._temp(path)
        try:
            self.disk.remove(tmp)  # a write that was cut before its rename
        except OSError:
            pass

    def _recover(self, name: str, path: Path, reason: str) -> None:
        moved: Path | None = None
        try:
            moved = self._move_aside(path)
        except OSError as exc:
            log.warning("could not move %s aside: %s", path, exc)
        log.warning("state %s was bad (%s): using defaults%s", name, reason,
                    f", the old file is {moved}" if moved else "")
        self._known.pop(name, None)
        if self.bus is not None:
            self.bus.publish(StateRecovered(name, reason, str(moved) if moved else None))

    def _move_aside(self, path: Path) -> Path:
        bad = sorted(self.directory.glob(f"{path.name}.bad-*"), key=_bad_number)
        number = _bad_number(bad[-1]) + 1 if bad else 1
        target = path.with_name(f"{path.name}.bad-{number}")
        self.disk.replace(path, target)
        for old in bad[:max(0, len(bad) + 1 - KEEP_BAD)]:
            try:
                self.disk.remove(old)
            except OSError as exc:  # a directory moved aside is left for a person to look at
                log.warning("could not remove the old %s: %s", old, exc.strerror or exc)
        self.disk.sync_dir(self.directory)
        return target

    # writing ------------------------------------------------------------------
    def save(self, name: str, data: Any) -> bool:
        """Write `data` now if it differs from what is on disk. False if the write failed."""
        path = self.path(name)
        self._cancel(name)
        self._pending.pop(name, None)
        body = canonical(data)
        _fits(name, data)
        if self._known.get(name) == body:
            return True
        if self.background and self.loop is not None and self.loop.is_running():
            self._known[name] = body  # what the disk will hold
            self._unwritten[name] = copy.deepcopy(data)
            self._queue(name, path, encode(name, data))
            return True
        try:
            self._write(path, encode(name, data))
        except OSError as exc:
            reason = f"{exc.strerror or exc}: is the SD card full or read-only?"
            log.error("could not save state %s: %s", name, reason)
            if self.bus is not None:
                self.bus.publish(StateNotSaved(name, reason))
            return False
        self._known[name] = body
        self.writes += 1
        return True

    def when_written(self, name: str, then: Callable[[], None]) -> None:
        """Call `then()` once what was saved under `name` is on the disk (at once if it is):
        "durable before it is told" holds with the writer thread too."""
        if name in self._writing or name in self._again:
            self._told.setdefault(name, []).append(then)
        else:
            then()

    # the writer thread ----------------------------------------------------------------
    def _queue(self, name: str, path: Path, content: bytes) -> None:
        if name in self._writing:
            self._again[name] = (path, content)
            return
        assert self.loop is not None
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="capstan-state")
        future = self.loop.run_in_executor(self._writer, self._job, name, path, content)
        self._writing[name] = future
        future.add_done_callback(lambda f, name=name: self._written(name, f))

    def _job(self, name: str, path: Path, content: bytes) -> OSError | None:
        """On the writer thread: the write, and how it went (kept for flush())."""
        try:
            self._write(path, content)
            result = None
        except OSError as exc:
            result = exc
        self._results[name] = result
        return result

    def _written(self, name: str, future: asyncio.Future[OSError | None]) -> None:
        if self._writing.get(name) is not future:
            return  # flush() already settled it
        del self._writing[name]
        self._results.pop(name, None)
        self._settle(name, None if future.cancelled() else future.result())

    def _settle(self, name: str, exc: OSError | None) -> None:
        if exc is None:
            self.writes += 1
        else:
            self._known.pop(name, None)
            reason = f"{exc.strerror or exc}: is the SD card full or read-only?"
            log.error("could not save state %s: %s", name, reason)
            if self.bus is not None:
                self.bus.publish(StateNotSaved(name, reason))
        again = self._again.pop(name, None)
        if again is not None and self.background:
            self._queue(name, *again)
        elif again is not None:
            try:
                self._write(*again)
                self.writes += 1
            except OSError as err:
                self._again.pop(name, None)
                self._settle(name, err)
        if name not in self._writing:
            self._unwritten.pop(name, None)
            for then in self._told.pop(name, []) if exc is None else []:
                then()

    def _drain(self) -> None:
        """Wait for the writer thread, then write here what was queued behind it."""
        if self._writer is None:
            return
        self._writer.shutdown(wait=True)
        self._writer = None
        for name in list(self._writing):
            del self._writing[name]
            self._settle(name, self._results.pop(name, None))

    def _write(self, path: Path, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        tmp = self._temp(path)
        fd = self.disk.create(tmp)
        try:
            self.disk.write(fd, content)
            self.disk.sync(fd)
        finally:
            self.disk.close(fd)
        self.disk.replace(tmp, path)
        self.disk.sync_dir(self.directory)

    def save_soon(self, name: str, data: Any, within: float = 60.0) -> None:
        """Save within `within` seconds, coalescing changes meanwhile (needs a loop)."""
        if self.loop is None:
            self.save(name, data)
            return
        self.path(name)
        canonical(data)
        _fits(name, data)
        self._pending[name] = copy.deepcopy(data)
        if name not in self._timers:
            self._timers[name] = self.loop.call_later(within, self._save_pending, name)

    def _save_pending(self, name: str) -> None:
        self._timers.pop(name, None)
        if name in self._pending:
            self.save(name, self._pending.pop(name))

    def flush(self) -> None:
        """Write everything `save_soon` still holds and wait for the writer (on stop)."""
        background, self.background = self.background, False
        try:
            self._drain()
            for name in list(self._pending):
                self.save(name, self._pending.pop(name))
        finally:
            self.background = background

    def _cancel(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    @staticmethod
    def _temp(path: Path) -> Path:
        return path.with_name(f".{path.name}.tmp")


def _fits(name: str, data: Any, schema: Schema | None = None) -> None:
    """StateError unless `data` is of the name's layout: the store never writes a file
    it would move aside at the next start."""
    try:
        (schema or layout(name) or FALLBACK).validate(data, "data")
    except SchemaError as exc:
        raise StateError(f"state {name} does not fit its layout ({exc})") from None


def _bad_number(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def is_writable(directory: Path | str) -> str | None:
    """None if state can be written in `directory`, else what is wrong (for the self-test)."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as exc:
        return f"cannot create the state directory {d} ({exc.strerror or exc})"
    if not os.access(d, os.W_OK | os.X_OK):
        return f"cannot write to the state directory {d}: check its owner and mode"
    return None
