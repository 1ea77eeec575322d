"""A blocking client of the control socket (the `capstan status|press|…` commands use it)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from capstan.errors import CapstanError


class ControlError(CapstanError):
    """The daemon cannot be reached, or it refused the request."""


class ControlClient:
    def __init__(self, path: Path | str, timeout: float | None = 10.0) -> None:
        self.path = Path(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(self.path))
        except FileNotFoundError:
            self._sock.close()
            raise ControlError(f"no Capstan daemon at {self.path}: is it running? "
                               "(systemctl status capstan, or capstan run --board sim)") from None
        except PermissionError:
            self._sock.close()
            raise ControlError(f"not allowed to talk to the daemon at {self.path}: add yourself "
                               "to the capstan group (sudo adduser $USER capstan) and log in "
                               "again") from None
        except OSError as exc:
            self._sock.close()
            raise ControlError(f"cannot reach the daemon at {self.path} ({exc.strerror or exc}): "
                               "is it running?") from None
        self._file = self._sock.makefile("rb")

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_line(self, raw: bytes) -> None:
        self._sock.sendall(raw if raw.endswith(b"\n") else raw + b"\n")

    def read(self) -> dict[str, Any]:
        try:
            line = self._file.readline()
        except TimeoutError:
            raise ControlError(f"the daemon at {self.path} did not answer in time") from None
        if not line:
            raise ControlError(f"the daemon at {self.path} closed the connection")
        return json.loads(line)

    def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        """Send one command and return its reply; ControlError if the daemon refused it."""
        self.send_line(json.dumps({"cmd": cmd, **fields}).encode())
        reply = self.read()
        if not reply.get("ok"):
            raise ControlError(f"the player refused {cmd}: {reply.get('error', 'no reason given')}")
        return reply

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Start following the event stream now; iterate until the daemon goes away.

        `timeout` bounds the wait for each event (None: wait for ever)."""
        self.request("events")
        self._sock.settimeout(timeout)
        return self._event_lines()

    def _event_lines(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                line = self._file.readline()
            except TimeoutError:
                raise ControlError(f"no event from the daemon at {self.path} in time") from None
            if not line:
                return
            event = json.loads(line)
            if event.get("ok") is False:
                raise ControlError(f"the daemon stopped the event stream: {event.get('error')}")
            yield event

    def close(self) -> None:
        self._file.close()
        self._sock.close()
