"""Headphone button -> motor: the latency of the AVRCP remote, in simulated time.

The whole player runs in simulated time with its Bluetooth against the private
dbus-daemon, the BlueZ mock and the real BlueALSA (capstan.sim.bluez.world), as
`capstan sim` does. The headphones are paired with a PAIR hold; then their
buttons are pressed as BlueZ delivers them (the mock's AvrcpPassThrough calls the
player's MPRIS method), over and over: play, pause, play, stop, next, stop. The
figure is the simulated time from the press to the first change of the motor's
PWM it causes (through the transport and the mechanism's sequencing: head,
idler, ramp). A D-Bus round trip takes no simulated time here (the loop holds
while an answer is due), so the simulated figure is the firmware's own path;
the wall-clock time of the round trip on this machine is printed beside it.

The USB audio gadget's added CPU needs the virtual Pi (dwc2, configfs, dummy_hcd):
it is not measured here.

    .venv/bin/python bench/remote_and_usb.py [--cycles 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

CANS = "00:1B:66:0A:0B:0C"
CYCLE = ("play", "pause", "play", "stop", "next", "stop")
SPACING = 3.0  # simulated s between presses: every ramp settles


def measure(cycles: int) -> tuple[dict[str, list[float]], list[float], str | None]:
    from capstan.sim.bluez.world import AVRCP_OPERATION, unavailable
    from capstan.sim.session import SimSession

    why = unavailable()
    if why is not None:
        return {}, [], why
    out = Path(tempfile.mkdtemp(prefix="capstan-bench-remote-"))
    s = SimSession(out)
    latency: dict[str, list[float]] = {b: [] for b in CYCLE}
    wall: list[float] = []
    try:
        s.make_cassette("C90", position=600.0)
        s.add_headphones([{"name": "Cans", "address": CANS, "pairing_at": 1.0}])
        world = s.bluetooth
        s.at(2.0, lambda: s.press("pair", hold=2.5))
        s.run_until(12.0)
        if s.player.audio.outputs.active != "bluetooth":
            return {}, [], "the headphones did not connect"
        for _ in range(cycles):
            for button in CYCLE:
                mark, t0 = len(s.events), s.now
                began = time.perf_counter()
                s.loop.run_until_complete(world._pass_through(CANS, AVRCP_OPERATION[button]))
                wall.append(time.perf_counter() - began)
                s.run_for(SPACING)
                motor = [e["t"] for e in s.events[mark:]
                         if e["type"] == "pin" and e.get("role") == "motor"]
                if motor:
                    latency[button].append(motor[0] - t0)
    finally:
        s.close()
    return latency, wall, None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=10)
    args = ap.parse_args()
    latency, wall, why = measure(args.cycles)
    if why is not None:
        print(f"headphone button -> motor: not measured: {why}")
    else:
        every = sorted(x for xs in latency.values() for x in xs)
        print(f"headphone button -> motor change, simulated time, {len(every)} presses "
              f"({args.cycles} cycles of {', '.join(CYCLE)}):")
        for button, xs in latency.items():
            if xs:
                print(f"  {button:8s} median {statistics.median(xs) * 1000:6.1f} ms, "
                      f"max {max(xs) * 1000:6.1f} ms ({len(xs)} presses)")
        print(f"  all      median {statistics.median(every) * 1000:6.1f} ms, "
              f"max {every[-1] * 1000:6.1f} ms")
        ms = sorted(w * 1000 for w in wall)
        print(f"  D-Bus round trip mock -> player -> mock (wall clock, this machine): "
              f"median {statistics.median(ms):.2f} ms, max {ms[-1]:.2f} ms")
    print("USB audio stream, added CPU: not measured here: it needs the virtual Pi "
          "(dwc2 gadget, configfs, dummy_hcd)")


if __name__ == "__main__":
    main()
