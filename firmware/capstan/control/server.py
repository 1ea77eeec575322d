"""The control socket's server: an async service on the Player's loop.

One JSON object per line each way. A request names a command and may carry an
``id`` (a string or a number) that the reply repeats::

    {"cmd": "status"}                        -> {"ok": true, "status": {...}}
    {"cmd": "press", "button": "play"}       -> {"ok": true}
    {"cmd": "hold", "button": "stop", "seconds": 2}   (replies after the release)
    {"cmd": "pair"}                          -> {"ok": true}
    {"cmd": "events"}                        -> {"ok": true, "following": true}, then
                                                one line per event: {"t": …, "type": …, …}

Every line gets a reply: a malformed one (not UTF-8, not JSON, nested too deep,
an integer of more digits than Python reads, not an object) or an unknown
command gets ``{"ok": false, "error": "…"}`` and the connection stays open. The
socket is created with mode 0660 (owner and group: the capstan user and group)
before it is put in place, so there is no moment when anyone else may connect.

No client can lock the others out, whatever it does:

- a line longer than MAX_LINE is refused and that client closed;
- a client that sends no complete line for IDLE_TIMEOUT seconds (the loop's
  clock) is told so and closed; an `events` follower is exempt, it only listens;
- at most MAX_CLIENTS connections: a new one closes the one idle longest (a
  follower only when no other is idle), or, when every one is busy with a
  request, is told politely that the player is busy and closed;
- a client that does not read its replies for WRITE_TIMEOUT seconds is closed;
  a follower that falls EVENT_BACKLOG events behind is dropped;
- out of file descriptors, a spare one is given up to accept and tell the
  client, then taken back; accepting pauses for ACCEPT_PAUSE;
- what the server logs about clients is rate-limited (LogLimiter).

The loop never waits for a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import math
import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from capstan.control.client import MAX_HOLD
from capstan.errors import CapstanError
from capstan.service.loglimit import LogLimiter

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024
EVENT_BACKLOG = 1000  # events queued for one slow follower before it is dropped
MAX_CLIENTS = 32  # connections at once
IDLE_TIMEOUT = 10.0  # s (loop time) a client may take to send a complete line
WRITE_TIMEOUT = 10.0  # s (loop time) a client may leave its replies unread
ACCEPT_PAUSE = 0.2  # s without accepting after running out of file descriptors
ACCEPT_BATCH = 64  # connections accepted per wake-up of the loop
# the server's own commands; the subsystems register theirs (Player.socket_commands())
COMMANDS = ("status", "press", "hold", "pair", "events", "ping", "help")
# a subsystem's command: the request in, the reply out ({"ok": …}); a ValueError or a
# CapstanError raised is an error reply with its message
SocketCommand = Callable[[dict[str, Any]], dict[str, Any]]
_OUT_OF_FILES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ControlSocketError(CapstanError):
    """The control socket cannot be opened."""


class RequestError(Exception):
    """A request that gets an error reply (the message is the reply's `error`)."""


class _Client:
    """One connection: its task, its writer and what it is doing."""

    def __init__(self, conn: socket.socket, since: float) -> None:
        self.conn = conn
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.active = since  # loop time of its last complete line (or of its connection)
        self.busy = False  # a request of it is being carried out
        self.following = False
        self.started = False  # its task runs: the connection is the task's to close

    def close_with(self, message: str) -> None:
        """Tell the client why in one line (`"closed": true`), then close it."""
        line = (json.dumps({"ok": False, "closed": True, "error": message}) + "\n").encode()
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.write(line)
                self.writer.close()
        else:  # its transport is not made yet: straight onto the socket
            with contextlib.suppress(OSError):
                self.conn.send(line, socket.MSG_DONTWAIT)
            if not self.started:
                self.conn.close()
        if self.task is not None:
            self.task.cancel()

    def _done(self, task: asyncio.Task[None]) -> None:
        if not self.started:  # cancelled before it ran: nobody else closes the socket
            self.conn.close()


class ControlServer:
    def __init__(self, player: Any, path: Path | str, mode: int = 0o660, group: int | None = None,
                 extra_status: Callable[[], dict[str, Any]] | None = None, *,
                 commands: dict[str, SocketCommand] | None = None,
                 max_clients: int = MAX_CLIENTS, idle_timeout: float = IDLE_TIMEOUT,
                 write_timeout: float = WRITE_TIMEOUT) -> None:
        """`commands`: the subsystems' own commands, by name (`Player.socket_commands()`)."""
        self.player, self.path, self.mode, self.group = player, Path(path), mode, group
        self.extra_status = extra_status
        self.commands = dict(commands or {})
        clash = set(self.commands) & set(COMMANDS)
        if clash:
            raise ValueError(f"socket commands registered twice: {', '.join(sorted(clash))}")
        self.max_clients, self.idle_timeout = max_clients, idle_timeout
        self.write_timeout = write_timeout
        self.requests = 0
        self.refused = 0  # connections turned away or closed to make room (status shows it)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: socket.socket | None = None
        self._spare: int | None = None  # a descriptor kept to give up when out of them
        self._clients: set[_Client] = set()
        self._log: LogLimiter | None = None

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # start and stop -------------------------------------------------------------
    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._log = LogLimiter(log, loop.time)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        except OSError as exc:
            raise ControlSocketError(f"cannot make the directory of the control socket "
                                     f"{self.path.parent} ({exc.strerror or exc}): choose "
                                     "another place with --socket") from None
        self._clear_stale()
        # Bind under a temporary name, set the mode, then rename into place: the
        # socket is never reachable with looser permissions than `mode`.
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind(str(tmp))
            os.chmod(tmp, self.mode)
            if self.group is not None:
                os.chown(tmp, -1, self.group)
            sock.listen(128)  # listening before it is in place: no connection is refused
            self._clear_stale()  # nothing took the place meanwhile
            os.replace(tmp, self.path)
        except (OSError, ControlSocketError) as exc:
            sock.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, ControlSocketError):
                raise
            raise ControlSocketError(f"cannot listen at {self.path} ({exc.strerror or exc}): "
                                     "choose another place with --socket") from None
        sock.setblocking(False)
        self._listener = sock
        self._take_spare()
        loop.add_reader(sock.fileno(), self._accept)

    def _clear_stale(self) -> None:
        clear_stale(self.path)

    async def stop(self) -> None:
        if self._listener is None:
            return
        assert self._loop is not None
        self._loop.remove_reader(self._listener.fileno())
        self._listener.close()
        self._listener = None
        tasks = [c.task for c in self._clients if c.task is not None]
        for client in list(self._clients):
            if client.task is not None:
                client.task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._clients.clear()
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # accepting ----------------------------------------------------------------------
    def _take_spare(self) -> None:
        if self._spare is None:
            with contextlib.suppress(OSError):
                self._spare = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_FILES:
                    self._out_of_files(exc)
                else:
                    self._warn("accept", "cannot accept a control client: %s",
                               exc.strerror or exc)
                return
            conn.setblocking(False)
            self._admit(conn)

    def _out_of_files(self, exc: OSError) -> None:
        """No descriptor left: give up the spare one to tell a client, then pause accepting."""
        assert self._listener is not None and self._loop is not None
        self._warn("files", "out of file descriptors (%s): turning control clients away",
                   exc.strerror or exc)
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None
            with contextlib.suppress(OSError):
                conn, _ = self._listener.accept()
                self.refused += 1
                _Client(conn, 0.0).close_with("the player has no file descriptor to spare: "
                                              "try again in a moment")
            self._take_spare()
        fd = self._listener.fileno()
        self._loop.remove_reader(fd)
        self._loop.call_later(ACCEPT_PAUSE, self._resume, self._listener)

    def _resume(self, listener: socket.socket) -> None:
        if self._listener is listener and self._loop is not None:
            self._loop.add_reader(listener.fileno(), self._accept)

    def _admit(self, conn: socket.socket) -> None:
        assert self._loop is not None
        if len(self._clients) >= self.max_clients:
            victim = self._idlest()
            self.refused += 1
            if victim is None:
                self._warn("busy", "%d control clients all busy: turning one away",
                           len(self._clients))
                _Client(conn, 0.0).close_with(
                    f"the player is busy with {len(self._clients)} clients, the most it "
                    "serves at once: try again in a moment")
                return
            self._warn("full", "%d control clients: closing the one idle longest",
                       len(self._clients))
            self._clients.discard(victim)
            victim.close_with(f"{self.max_clients} clients are connected, the most the player "
                              "serves at once: this one was idle longest and is closed")
        client = _Client(conn, self._loop.time())
        self._clients.add(client)
        client.task = self._loop.create_task(self._serve(client))
        client.task.add_done_callback(client._done)

    def _idlest(self) -> _Client | None:
        idle = [c for c in self._clients if not c.busy]
        if not idle:
            return None
        return min(idle, key=lambda c: (c.following, c.active))

    def _warn(self, kind: str, message: str, *args: Any) -> None:
        if self._log is not None:
            self._log.warning(kind, message, *args)

    # one client ---------------------------------------------------------------------
    async def _serve(self, client: _Client) -> None:
        assert self._loop is not None
        writer: asyncio.StreamWriter | None = None
        client.started = True
        try:
            reader, writer = await asyncio.open_unix_connection(sock=client.conn,
                                                                limit=MAX_LINE)
            client.writer = writer
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), self.idle_timeout)
                except TimeoutError:
                    await self._send(writer, {"ok": False, "error": "no complete request in "
                                              f"{self.idle_timeout:g} s: closing the "
                                              "connection"})
                    return
                except ValueError:  # longer than MAX_LINE
                    await self._send(writer, {"ok": False, "error": f"line longer than "
                                              f"{MAX_LINE} bytes: closing the connection"})
                    return
                if not line:
                    return
                client.active = self._loop.time()
                if not line.strip():
                    continue
                client.busy = True  # carrying out its request (a hold lasts its seconds)
                try:
                    reply = await self._reply(line, writer)
                finally:
                    client.busy = False
                await self._send(writer, reply)  # a client that does not read stays idle
                client.active = self._loop.time()
                if reply.get("following"):
                    client.following = True
                    await self._follow(writer)
                    return
        except (ConnectionError, TimeoutError, asyncio.CancelledError):
            pass
        except Exception as exc:  # one client's trouble never stops the daemon
            self._warn("failed", "control client failed: %r", exc)
        finally:
            self._clients.discard(client)
            if writer is None:
                client.conn.close()
            elif writer.transport.get_write_buffer_size():
                writer.transport.abort()  # it does not read: its replies are dropped
            else:
                writer.close()

    async def _reply(self, line: bytes, writer: asyncio.StreamWriter) -> dict[str, Any]:
        """The reply to one line, whatever the line: never an exception."""
        request: Any = None
        try:
            request = _parse(line)
            reply = await self._handle(request, writer)
        except RequestError as exc:
            reply = {"ok": False, "error": str(exc)}
        except Exception as exc:
            self._warn("request", "a control request failed: %r", exc)
            reply = {"ok": False, "error": f"the player could not carry that out ({exc})"}
        if isinstance(request, dict) and "id" in request:
            reply["id"] = request["id"]
        return reply

    async def _send(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        try:
            data = json.dumps(message, default=str)
        except (ValueError, TypeError, RecursionError):
            data = json.dumps({"ok": False, "error": "the reply could not be written as JSON"})
        writer.write((data + "\n").encode())
        await asyncio.wait_for(writer.drain(), self.write_timeout)

    async def _handle(self, request: dict[str, Any],
                      writer: asyncio.StreamWriter) -> dict[str, Any]:
        self.requests += 1
        cmd = request.get("cmd")
        if cmd == "ping":
            return {"ok": True}
        if cmd == "help":
            return {"ok": True, "commands": self.command_names(),
                    "buttons": list(self.player.buttons)}
        if cmd == "status":
            status = dict(self.player.status())
            if self.extra_status is not None:
                status.update(self.extra_status())
            return {"ok": True, "status": status}
        if cmd == "press":
            button = _button(request)
            with self._refusals() as refused:
                self._call(self.player.press, button)
            return _refused_reply(refused)
        if cmd == "hold":
            button, seconds = _button(request), request.get("seconds")
            if (not isinstance(seconds, int | float) or isinstance(seconds, bool)
                    or not 0 < seconds <= MAX_HOLD or not math.isfinite(seconds)):
                raise RequestError(f"hold needs \"seconds\": a number of seconds, 0..{MAX_HOLD}")
            with self._refusals() as refused:
                self._call(self.player.hold, button, float(seconds))
                await asyncio.sleep(seconds)
                await asyncio.sleep(0)  # the release, due at the same time, has run
            return _refused_reply(refused)
        if cmd == "pair":
            headphones = getattr(self.player, "headphones", None)
            if headphones is None or getattr(headphones, "service", True) is None:
                why = getattr(headphones, "unavailable", None) or "no Bluetooth adapter"
                raise RequestError(f"cannot pair: the player has no Bluetooth ({why})")
            with self._refusals() as refused:  # as PAIR held 2 s, without the wait
                self._call(headphones.open_pairing_window)
            return _refused_reply(refused)
        if cmd == "events":
            return {"ok": True, "following": True}
        handler = self.commands.get(cmd)
        if handler is not None:  # a subsystem's own command
            try:
                return handler(request)
            except (ValueError, CapstanError) as exc:
                raise RequestError(str(exc)) from None
        raise RequestError(f"unknown command {cmd!r} (commands: "
                           f"{', '.join(self.command_names())})")

    def command_names(self) -> list[str]:
        return [*COMMANDS, *self.commands]

    @contextlib.contextmanager
    def _refusals(self) -> Iterator[list[str]]:
        """The reasons of the refusals the player publishes meanwhile (a press of PLAY with
        no cassette in: "no cassette: insert one")."""
        from capstan.events import Refused

        reasons: list[str] = []

        def heard(t: float, event: Any) -> None:
            if isinstance(event, Refused):
                reasons.append(f"{event.action.replace('_', ' ')}: {event.reason}")

        bus = getattr(self.player, "bus", None)
        unsubscribe = bus.subscribe(heard) if bus is not None else None
        try:
            yield reasons
        finally:
            if unsubscribe is not None:
                unsubscribe()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except (ValueError, CapstanError) as exc:
            raise RequestError(str(exc)) from None

    async def _follow(self, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def listener(t: float, event: Any) -> None:
            if queue.qsize() < EVENT_BACKLOG:
                queue.put_nowait({"t": round(t, 4), **event.to_dict()})
            else:  # the end marker: this follower is dropped
                unsubscribe()
                queue.put_nowait(None)

        unsubscribe = self.player.bus.subscribe(listener)
        try:
            while (item := await queue.get()) is not None:
                await self._send(writer, item)
            await self._send(writer, {"ok": False, "error": "too slow to follow the events: "
                                      "dropped"})
        finally:
            unsubscribe()


def _parse(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except UnicodeDecodeError:
        raise RequestError("not a JSON line (not UTF-8 text): send one object per line, "
                           "e.g. {\"cmd\": \"status\"}") from None
    except json.JSONDecodeError as exc:
        raise RequestError(f"not a JSON line ({exc}): send one object per line, "
                           "e.g. {\"cmd\": \"status\"}") from None
    except RecursionError:
        raise RequestError("not a JSON line the player reads: nested too deep") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise RequestError(f"not a JSON line the player reads ({exc})") from None
    if not isinstance(request, dict):
        raise RequestError("a request is a JSON object, e.g. {\"cmd\": \"status\"}")
    if not isinstance(request.get("cmd"), str):
        raise RequestError("a request needs \"cmd\" ({\"cmd\": \"help\"} lists the commands)")
    ident = request.get("id")
    if isinstance(ident, bool) or not (ident is None or (isinstance(ident, str | int)
                                       and len(str(ident)) <= 100)):
        request.pop("id", None)
        raise RequestError("\"id\" is a string or a whole number of at most 100 characters")
    return request


def _refused_reply(reasons: list[str]) -> dict[str, Any]:
    if reasons:
        return {"ok": False, "refused": True, "error": "refused: " + "; ".join(reasons)}
    return {"ok": True}


def _button(request: dict[str, Any]) -> str:
    button = request.get("button")
    if not isinstance(button, str):
        raise RequestError(f"{request['cmd']} needs \"button\", e.g. \"play\"")
    return button


def clear_stale(path: Path) -> None:
    """Remove a socket left by a daemon that died at `path`; ControlSocketError for anything
    else there (a live socket, a file, a directory, a link), which is left alone."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ControlSocketError(f"cannot look at {path} ({exc.strerror or exc}): "
                                 "choose another place with --socket") from None
    if not stat.S_ISSOCK(mode):
        what = next((name for test, name in (
            (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
            (stat.S_ISREG, "a regular file"), (stat.S_ISFIFO, "a FIFO"),
            (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")) if test(mode)), "something")
        raise ControlSocketError(f"{path} is {what}, not a control socket: it is "
                                 "left alone; choose another place with --socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    probe.setblocking(False)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left behind by a daemon that died
        return
    except BlockingIOError:
        pass  # its queue is full: someone listens
    except OSError as exc:
        raise ControlSocketError(f"cannot tell whether a daemon listens at {path} "
                                 f"({exc.strerror or exc}): choose another place with "
                                 "--socket") from None
    finally:
        probe.close()
    raise ControlSocketError(f"another Capstan daemon is already listening at {path}: "
                             "stop it first (systemctl stop capstan) or use --socket")
