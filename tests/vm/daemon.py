"""`capstan run --board pi` on the virtual Pi, as a subprocess heard on a NOTIFY_SOCKET."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.vm.rig import BOARD_FILE

from capstan.control.client import ControlClient

CONFIG = Path(__file__).with_name("capstan.toml")

GUARD = 60.0  # s: only ever a failure guard


class PiDaemon:
    def __init__(self, base: Path, board_file: Path = BOARD_FILE, config: Path = CONFIG) -> None:
        self.base = base
        self.socket = base / "control.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(base / "notify"))
        self.notify.settimeout(0.5)
        self.heard: list[str] = []
        env = {**os.environ, "NOTIFY_SOCKET": str(base / "notify"),
               "WATCHDOG_USEC": "10000000", "PYTHONDONTWRITEBYTECODE": "1"}
        self.log = open(base / "daemon.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "capstan", "run", "--board", "pi", "--board-file",
             str(board_file), "--config", str(config), "--socket", str(self.socket),
             "--state-dir", str(base / "state")],
            env=env, cwd=base, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for(self, assignment: str, guard: float = GUARD) -> str:
        deadline = time.monotonic() + guard  # a failure guard, not a measurement
        while True:
            for m in self.heard:
                if assignment in m.split("\n"):
                    return m
            try:
                self.heard.append(self.notify.recv(4096).decode())
                continue
            except TimeoutError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {assignment} from the daemon (heard {self.heard}); "
                                     f"it said:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return (self.base / "daemon.log").read_text(errors="replace")

    def client(self) -> ControlClient:
        return ControlClient(self.socket, timeout=GUARD)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(GUARD)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        self.log.close()
        keep = os.environ.get("CAPSTAN_VM_OUT")  # the run's logs, brought back to the host
        if keep:
            name = os.environ.get("PYTEST_CURRENT_TEST", "daemon").split(" ")[0]
            safe = "".join(c if c.isalnum() else "-" for c in name.split("::")[-1])
            (Path(keep) / f"daemon-{safe}.log").write_bytes((self.base / "daemon.log")
                                                            .read_bytes())
        return self.proc.returncode
