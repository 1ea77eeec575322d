"""Headphone button -> motor: the latency of the AVRCP remote, in simulated time.

The whole player runs in simulated time with its Bluetooth against the private
dbus-daemon, the BlueZ mock and the real BlueALSA (capstan.harness.world), as
`capstan sim` does. The headphones are paired with a PAIR hold; then their
buttons are pressed as BlueZ delivers them (the mock's AvrcpPassThrough calls the
player's MPRIS method), over and over: play, pause, play, stop, next, stop. The
figure is the simulated time from the press to the first change of the motor's
PWM it causes (through the transport and the mechanism's sequencing: head,
idler, ramp). A D-Bus round trip takes no simulated time here (the loop holds
while an answer is due), so the simulated figure is the firmware's own path;
the wall-clock time of the round trip on this machine is printed beside it.

The USB audio stream's added CPU: what `[usb] gadget = "audio"` adds to the daemon's
work, measured on this machine: each block from the analysis tap (call_soon), its
conversion to 16-bit and hand-over to the writer thread (capstan.usb.audio.UsbAudio),
and the writer's non-blocking writes into a PCM, here alsa-lib's "null" PCM (the
gadget's card needs the UAC2 function; the kernel's USB transfers are not counted).
The figure is process CPU time per second of audio, in 1024-frame blocks, 48 kHz
stereo, as the player's defaults.

    .venv/bin/python bench/remote_and_usb.py [--cycles 10] [--usb-seconds 60]
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
    from capstan.harness.session import SimSession
    from capstan.harness.world import AVRCP_OPERATION, unavailable

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


def measure_usb(seconds: float, period: int = 1024, rate: int = 48000) -> tuple[float, int]:
    """CPU seconds per second of audio for the USB stream, and the frames it wrote."""
    import asyncio

    import numpy as np

    from capstan.audio.tap import AnalysisTap
    from capstan.usb.audio import UsbAudio, open_gadget_pcm

    loop = asyncio.new_event_loop()
    tap = AnalysisTap(loop, rate)
    t = np.arange(period) / rate
    block = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    block = np.stack([block, block], axis=1)
    blocks = int(seconds * rate / period)
    usb = UsbAudio(tap, rate, 2, period, device="null", opener=open_gadget_pcm)
    usb.start()
    try:
        while usb.opened == 0 and usb.error is None:  # the writer opens the PCM first
            time.sleep(0.01)
        if usb.error is not None:
            raise SystemExit(f"cannot open ALSA's null PCM: {usb.error}")
        writer = time.pthread_getcpuclockid(usb._thread.ident)  # type: ignore[union-attr]
        w0 = time.clock_gettime(writer)
        in_loop = 0.0
        for _ in range(blocks):
            c0 = time.thread_time()
            tap.offer(block.copy(), 0.0)
            loop.run_until_complete(asyncio.sleep(0))
            in_loop += time.thread_time() - c0
            while usb._queue:  # let the writer keep up (this wait is not counted)
                time.sleep(0.0002)
        while usb.frames_written + usb.dropped * period < blocks * period:
            time.sleep(0.001)
        in_writer = time.clock_gettime(writer) - w0
        # what the loop spends anyway: the same blocks offered with no listener
        plain = AnalysisTap(loop, rate)
        base = 0.0
        for _ in range(blocks):
            c0 = time.thread_time()
            plain.offer(block.copy(), 0.0)
            loop.run_until_complete(asyncio.sleep(0))
            base += time.thread_time() - c0
        cpu = in_loop - base + in_writer
    finally:
        usb.stop()
        loop.close()
    return (cpu - base) / (blocks * period / rate), usb.frames_written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--usb-seconds", type=float, default=60.0,
                    help="seconds of audio through the USB stream (default 60)")
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
    per_second, frames = measure_usb(args.usb_seconds)
    print(f"USB audio stream, added CPU on this machine: {per_second * 1000:.2f} ms per "
          f"second of audio ({per_second * 100:.2f} % of one core; {frames} frames, "
          f"{args.usb_seconds:g} s of 48 kHz stereo in 1024-frame blocks into ALSA's null "
          "PCM; the kernel's USB side not counted)")


if __name__ == "__main__":
    main()
