"""A blocking client of the control socket (the `capstan status|press|…` commands use it).

Every step (connecting, sending, each reply) is bounded by `timeout`: a daemon
whose loop is stuck is reported as not answering, never waited for. Errors say
which kind of trouble it was: `DaemonUnreachable` (not running, not answering,
went away: exit status 3) or `ControlError` (the player refused: exit status 1).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from capstan.errors import CapstanError

DEFAULT_TIMEOUT = 10.0  # s
MAX_HOLD = 30.0  # s: the longest hold the daemon carries out


class ControlError(CapstanError):
    """The player refused the request, or answered something that is not a reply."""

    exit_code = 1


class DaemonUnreachable(ControlError):
    """The daemon is not running, does not answer in time, or went away."""

    exit_code = 3


class ControlClient:
    def __init__(self, path: Path | str, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._sock.settimeout(timeout)
        try:
            self._connect()
        except FileNotFoundError:
            self._sock.close()
            raise DaemonUnreachable(f"no Capstan daemon at {self.path}: is it running? "
                                    "(systemctl status capstan, or capstan run --board sim)"
                                    ) from None
        except PermissionError:
            self._sock.close()
            raise ControlError(f"not allowed to talk to the daemon at {self.path}: add yourself "
                               "to the capstan group (sudo adduser $USER capstan) and log in "
                               "again") from None
        except TimeoutError:
            self._sock.close()
            raise self._not_answering() from None
        except OSError as exc:
            self._sock.close()
            raise DaemonUnreachable(f"cannot reach the daemon at {self.path} "
                                    f"({exc.strerror or exc}): is it running?") from None
        self._file = self._sock.makefile("rb")

    def _connect(self) -> None:
        """Connect; a full listen queue (a busy daemon with a crowd of clients) is waited
        out up to the timeout, as a connect to a TCP server would wait."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            try:
                self._sock.connect(str(self.path))
                return
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError from None
                time.sleep(0.01)

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _not_answering(self) -> DaemonUnreachable:
        return DaemonUnreachable(f"the daemon at {self.path} does not answer (nothing in "
                                 f"{self.timeout:g} s): it may be stuck; systemctl status "
                                 "capstan says more")

    def send_line(self, raw: bytes) -> None:
        try:
            self._sock.sendall(raw if raw.endswith(b"\n") else raw + b"\n")
        except TimeoutError:
            raise self._not_answering() from None
        except OSError as exc:
            raise DaemonUnreachable(f"the daemon at {self.path} closed the connection "
                                    f"({exc.strerror or exc})") from None

    def read(self) -> dict[str, Any]:
        try:
            line = self._file.readline()
        except TimeoutError:
            raise self._not_answering() from None
        except OSError as exc:
            raise DaemonUnreachable(f"the daemon at {self.path} closed the connection "
                                    f"({exc.strerror or exc})") from None
        if not line:
            raise DaemonUnreachable(f"the daemon at {self.path} closed the connection")
        return self._decode(line)

    def _decode(self, line: bytes) -> dict[str, Any]:
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            reply = None
        if not isinstance(reply, dict):
            raise ControlError(f"what answers at {self.path} is not a Capstan daemon: "
                               f"{line[:60]!r}")
        return reply

    def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        """Send one command and return its reply; ControlError if the daemon refused it."""
        self.send_line(json.dumps({"cmd": cmd, **fields}).encode())
        reply = self.read()
        if reply.get("closed"):  # turned away: too many clients, no descriptors left
            raise DaemonUnreachable(f"the daemon at {self.path} cannot serve this command now: "
                                    f"{reply.get('error')}")
        if not reply.get("ok"):
            reason = str(reply.get("error", "no reason given"))
            reason = reason.removeprefix("refused: ")
            raise ControlError(f"the player refused {cmd}: {reason}")
        return reply

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Start following the event stream now; iterate until the daemon goes away
        (then DaemonUnreachable).

        `timeout` bounds the wait for each event (None: wait for ever)."""
        self.request("events")
        self._sock.settimeout(timeout)
        return self._event_lines()

    def _event_lines(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                line = self._file.readline()
            except TimeoutError:
                raise DaemonUnreachable(f"no event from the daemon at {self.path} in time"
                                        ) from None
            except OSError as exc:
                line = b""
                reason = f" ({exc.strerror or exc})"
            else:
                reason = ""
            if not line:
                raise DaemonUnreachable(f"the daemon at {self.path} ended the event stream"
                                        f"{reason}: it stopped or restarted")
            event = self._decode(line)
            if event.get("ok") is False:
                raise DaemonUnreachable(f"the daemon stopped the event stream: "
                                        f"{event.get('error')}")
            yield event

    def close(self) -> None:
        self._file.close()
        self._sock.close()
