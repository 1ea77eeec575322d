"""The control socket's server: an async service on the Player's loop.

One JSON object per line each way. A request names a command and may carry an
``id`` that the reply repeats::

    {"cmd": "status"}                        -> {"ok": true, "status": {...}}
    {"cmd": "press", "button": "play"}       -> {"ok": true}
    {"cmd": "hold", "button": "stop", "seconds": 2}   (replies after the release)
    {"cmd": "pair"}                          -> {"ok": true}
    {"cmd": "events"}                        -> {"ok": true, "following": true}, then
                                                one line per event: {"t": …, "type": …, …}

A malformed line or an unknown command gets ``{"ok": false, "error": "…"}`` and
the connection stays open. The socket is created with mode 0660 (owner and
group: the capstan user and group) before it is put in place, so there is no
moment when anyone else may connect. A client that cannot keep up with the
event stream is dropped; the loop never waits for a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from capstan.errors import CapstanError

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024
EVENT_BACKLOG = 1000  # events queued for one slow follower before it is dropped
MAX_HOLD = 30.0  # s
PAIR_HOLD = 3.0  # s: `pair` holds PAIR this long when the player has no pair() of its own
COMMANDS = ("status", "press", "hold", "pair", "events", "record", "digitize", "ping", "help")


class ControlSocketError(CapstanError):
    """The control socket cannot be opened."""


class RequestError(Exception):
    """A request that gets an error reply (the message is the reply's `error`)."""


class ControlServer:
    def __init__(self, player: Any, path: Path | str, mode: int = 0o660, group: int | None = None,
                 extra_status: Callable[[], dict[str, Any]] | None = None) -> None:
        self.player, self.path, self.mode, self.group = player, Path(path), mode, group
        self.extra_status = extra_status
        self.requests = 0
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # start and stop -------------------------------------------------------------
    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
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
            os.replace(tmp, self.path)
            sock.listen(16)
        except OSError as exc:
            sock.close()
            raise ControlSocketError(f"cannot listen at {self.path} ({exc.strerror or exc}): "
                                     "choose another place with --socket") from exc
        self._server = await asyncio.start_unix_server(self._client, sock=sock, limit=MAX_LINE)

    def _clear_stale(self) -> None:
        if not self.path.exists() and not self.path.is_symlink():
            return
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            probe.connect(str(self.path))
        except OSError:
            self.path.unlink()  # left behind by a daemon that died
            return
        finally:
            probe.close()
        raise ControlSocketError(f"another Capstan daemon is already listening at {self.path}: "
                                 "stop it first (systemctl stop capstan) or use --socket")

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        with contextlib.suppress(OSError):
            await asyncio.wait_for(self._server.wait_closed(), 1.0)
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # one client ---------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_LINE
                    await _send(writer, {"ok": False, "error": f"line longer than {MAX_LINE} "
                                         "bytes: closing the connection"})
                    return
                if not line:
                    return
                if not line.strip():
                    continue
                request: Any = None
                try:
                    request = _parse(line)
                    reply = await self._handle(request, writer)
                except RequestError as exc:
                    reply = {"ok": False, "error": str(exc)}
                if isinstance(request, dict) and "id" in request:
                    reply["id"] = request["id"]
                await _send(writer, reply)
                if reply.get("following"):
                    await self._follow(writer)
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # one client's trouble never stops the daemon
            log.exception("control client failed")
        finally:
            self._clients.discard(task)
            writer.close()

    async def _handle(self, request: dict[str, Any],
                      writer: asyncio.StreamWriter) -> dict[str, Any]:
        self.requests += 1
        cmd = request.get("cmd")
        if cmd == "ping":
            return {"ok": True}
        if cmd == "help":
            return {"ok": True, "commands": list(COMMANDS), "buttons": list(self.player.buttons)}
        if cmd == "status":
            status = dict(self.player.status())
            if self.extra_status is not None:
                status.update(self.extra_status())
            return {"ok": True, "status": status}
        if cmd == "press":
            self._call(self.player.press, _button(request))
            return {"ok": True}
        if cmd == "hold":
            button, seconds = _button(request), request.get("seconds")
            if (not isinstance(seconds, int | float) or isinstance(seconds, bool)
                    or not math.isfinite(seconds) or not 0 < seconds <= MAX_HOLD):
                raise RequestError(f"hold needs \"seconds\": a number of seconds, 0..{MAX_HOLD}")
            self._call(self.player.hold, button, float(seconds))
            await asyncio.sleep(seconds)
            return {"ok": True}
        if cmd == "pair":
            pair = getattr(self.player, "pair", None)
            if callable(pair):
                self._call(pair)
            else:
                self._call(self.player.hold, "pair", PAIR_HOLD)
            return {"ok": True}
        if cmd == "events":
            return {"ok": True, "following": True}
        if cmd == "record":  # a planned playlist (capstan record --playlist) onto the tape
            from capstan.recording.control import handle_record

            return handle_record(self.player, request)
        if cmd == "digitize":  # what plays to FLAC, a file per track (docs/tape-intelligence.md)
            on = request.get("on", True)
            if not isinstance(on, bool):
                raise RequestError("digitize takes \"on\": true or false")
            self.player.intelligence.digitizer.enable(on)
            return {"ok": True, "digitizing": on}
        raise RequestError(f"unknown command {cmd!r} (commands: {', '.join(COMMANDS)})")

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
                await _send(writer, item)
            await _send(writer, {"ok": False, "error": "too slow to follow the events: dropped"})
        finally:
            unsubscribe()


def _parse(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"not a JSON line ({exc}): send one object per line, "
                           "e.g. {\"cmd\": \"status\"}") from None
    if not isinstance(request, dict):
        raise RequestError("a request is a JSON object, e.g. {\"cmd\": \"status\"}")
    if not isinstance(request.get("cmd"), str):
        raise RequestError(f"a request needs \"cmd\" (one of {', '.join(COMMANDS)})")
    return request


def _button(request: dict[str, Any]) -> str:
    button = request.get("button")
    if not isinstance(button, str):
        raise RequestError(f"{request['cmd']} needs \"button\", e.g. \"play\"")
    return button


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write((json.dumps(message, default=str) + "\n").encode())
    await writer.drain()
