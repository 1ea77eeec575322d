"""Latency on the virtual Pi: the player on `--board pi` over the kernel's drivers, real time.

    tools/vm-test --bench [--presses 10] [--ends 3]

Run inside the virtual Pi (tools/vm-test starts it there). Two figures, p50 and p99:

- press → motor: the PLAY line pulled low on gpio-sim, through the kernel's edge event,
  lgpio, the debouncer and the transport, to the motor line rising (read back from
  gpio-sim by polling every 2 ms: add up to about 2 ms, more when the emulated CPU
  is busy). The debounce interval is part of the figure.
- tape end → motor off: both reels' tachometer lines pulse at play speed, then stop as at
  the end of the tape; the figure runs from the last pulse to the motor line falling.

Under TCG emulation the CPU is many times slower than a Pi's: the figures bound what a Pi
does, they are not a Pi's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "firmware"))

from tests.vm.daemon import PiDaemon  # noqa: E402
from tests.vm.rig import Header, HeadSignal, load_chips, rest_lines  # noqa: E402

POLL = 0.002  # s between reads of an output line
GUARD = 30.0  # s: a failure guard


def wait_line(header: Header, pin: int, level: int) -> float:
    """The moment (time.monotonic) the line was first seen at the level."""
    end = time.monotonic() + GUARD
    while time.monotonic() < end:
        if header.level(pin) == level:
            return time.monotonic()
        time.sleep(POLL)
    raise SystemExit(f"GPIO {pin} never went to {level}")


def wait_off(header: Header, pin: int, quiet: float) -> float:
    """The moment a PWM line went low for good: the start of a low run longer than `quiet`
    (several PWM periods; at 50 % duty the line is low half of every period)."""
    end = time.monotonic() + GUARD
    low_since: float | None = None
    while time.monotonic() < end:
        now = time.monotonic()
        if header.level(pin) == 0:
            low_since = now if low_since is None else low_since
            if now - low_since > quiet:
                return low_since
        else:
            low_since = None
        time.sleep(POLL)
    raise SystemExit(f"GPIO {pin} never went low for good")


def line_active(header: Header, pin: int, seconds: float) -> bool:
    """Whether the line was high at any moment of `seconds` (a PWM line at any duty > 0)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if header.level(pin):
            return True
        time.sleep(POLL / 4)
    return False


def press(header: Header, pin: int) -> float:
    t = time.monotonic()
    header.drive(pin, False)
    return t


def pulses(header: Header, pins: list[int], period: float, stop: threading.Event,
           last: list[float]) -> None:
    """Both reels turning: their tach lines toggle every half period until `stop`."""
    level = True
    while not stop.is_set():
        level = not level
        for p in pins:
            header.drive(p, level)
        last[0] = time.monotonic()
        time.sleep(period / 2)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--ends", type=int, default=3)
    args = parser.parse_args()
    from tests.vm.rig import BOARD_FILE

    from capstan.hardware.description import load_board

    d = load_board(BOARD_FILE)
    header = Header()
    rest_lines(header, d)
    load_chips()
    header.drive(d.switches["cassette_in"].pin, False)
    motor, play, stop = d.outputs["motor"].pin, d.buttons["play"].pin, d.buttons["stop"].pin
    tachs = [t.pin for t in d.tachometers.values()]
    quiet = 3 / d.outputs["motor"].frequency  # three PWM periods low: the motor is off
    rises: list[float] = []
    ends: list[float] = []
    with HeadSignal(), tempfile.TemporaryDirectory() as tmp:
        daemon = PiDaemon(Path(tmp))
        try:
            daemon.wait_for("READY=1")
            for _ in range(args.presses):
                t0 = press(header, play)
                rises.append(wait_line(header, motor, 1) - t0)
                time.sleep(0.3)
                header.drive(play, True)
                press(header, stop)
                wait_off(header, motor, quiet)
                time.sleep(0.3)
                header.drive(stop, True)
                time.sleep(0.5)
            ms = [x * 1000 for x in rises]
            print(f"press -> motor on ({len(ms)} presses, debounce included): "
                  f"p50 {percentile(ms, 0.5):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
                  f"max {max(ms):.0f} ms", flush=True)
            for _ in range(args.ends):
                halt, last = threading.Event(), [0.0]
                reels = threading.Thread(target=pulses, args=(header, tachs, 0.04, halt, last),
                                         daemon=True)
                press(header, play)
                reels.start()
                wait_line(header, motor, 1)
                time.sleep(0.3)
                header.drive(play, True)
                time.sleep(2.5)  # past the start grace: the reels are judged by their pulses
                if not line_active(header, motor, quiet):
                    halt.set()
                    raise SystemExit("the motor stopped while the bench's reels still turned: "
                                     "the player saw no pulses (see the daemon's log)")
                halt.set()
                reels.join()
                ends.append(wait_off(header, motor, quiet) - last[0])
                rest_lines(header, d)
                header.drive(d.switches["cassette_in"].pin, False)
                time.sleep(0.5)
        finally:
            daemon.stop()
    me = [x * 1000 for x in ends]
    print(f"tape end -> motor off ({len(me)} ends): p50 {percentile(me, 0.5):.0f} ms, "
          f"p99 {percentile(me, 0.99):.0f} ms, max {max(me):.0f} ms "
          f"(mean {statistics.mean(me):.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
