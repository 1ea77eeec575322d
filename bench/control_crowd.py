"""The control socket under a crowd: `status` round trips while idle clients pile up.

Starts `capstan run --board sim` under a 1024-open-file limit (systemd's default),
connects CLIENTS clients that never finish a line (half send half a request), and
prints the round-trip time of `status` before and with the crowd, the daemon's
open file descriptors and how many clients it turned away or closed.

    .venv/bin/python bench/control_crowd.py [--clients 1100] [--rounds 50]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def status_times(path: Path, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(str(path))
            s.sendall(b'{"cmd": "status"}\n')
            reply = s.makefile("rb").readline()
        times.append(time.perf_counter() - t0)
        assert json.loads(reply)["ok"], reply
    return times


def connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    while True:
        try:
            s.connect(str(path))
            return s
        except BlockingIOError:  # its queue is full: it is accepting
            time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1100)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="capstan-bench-crowd-"))
    sock = base / "c.sock"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    proc = subprocess.Popen([sys.executable, "-m", "capstan", "run", "--board", "sim",
                             "--socket", str(sock), "--state-dir", str(base / "state")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=limit)
    crowd: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the daemon did not start")
            time.sleep(0.05)
        alone = status_times(sock, args.rounds)
        t0 = time.perf_counter()
        for i in range(args.clients):
            s = connect(sock)
            if i % 2:
                s.sendall(b'{"cmd": "sta')
            crowd.append(s)
        piled = time.perf_counter() - t0
        crowded = status_times(sock, args.rounds)
        fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
            s.sendall(b'{"cmd": "status"}\n')
            status = json.loads(s.makefile("rb").readline())["status"]
        print(f"{args.clients} idle clients connected in {piled:.2f} s "
              "(1024 open files allowed)")
        for name, times in (("status alone", alone), ("status in the crowd", crowded)):
            print(f"{name:>20}: median {statistics.median(times) * 1e3:.2f} ms, "
                  f"max {max(times) * 1e3:.2f} ms over {len(times)}")
        print(f"daemon's open descriptors with the crowd: {fds}")
        print(f"healthy: {status.get('healthy')}")
    finally:
        for s in crowd:
            s.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
