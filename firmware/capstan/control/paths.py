"""Where the control socket lives.

On the Pi: /run/capstan/control.sock (systemd's RuntimeDirectory, group capstan).
On a laptop (`capstan run --board sim` as a normal user): $XDG_RUNTIME_DIR/capstan.sock,
else /tmp/capstan-UID/control.sock. $CAPSTAN_SOCKET overrides both, --socket overrides all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SYSTEM_SOCKET = Path("/run/capstan/control.sock")


def user_socket(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "capstan.sock"
    return Path(f"/tmp/capstan-{os.getuid()}") / "control.sock"


def daemon_socket(board: str, configured: str = "", env: Mapping[str, str] | None = None) -> Path:
    """Where `capstan run` listens: configured > $CAPSTAN_SOCKET > system (pi) or user (sim)."""
    env = os.environ if env is None else env
    if configured:
        return Path(configured)
    if env.get("CAPSTAN_SOCKET"):
        return Path(env["CAPSTAN_SOCKET"])
    return SYSTEM_SOCKET if board == "pi" else user_socket(env)


def client_socket(given: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where the `capstan status|press|…` commands connect: --socket > $CAPSTAN_SOCKET >
    the system daemon's socket if there is one, else the user's."""
    env = os.environ if env is None else env
    if given:
        return Path(given)
    if env.get("CAPSTAN_SOCKET"):
        return Path(env["CAPSTAN_SOCKET"])
    return SYSTEM_SOCKET if SYSTEM_SOCKET.exists() else user_socket(env)
