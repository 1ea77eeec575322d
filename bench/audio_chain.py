"""Benchmark of the audio chain: real-time factor, fixed cost per period, start-up and memory.

    .venv/bin/python bench/audio_chain.py [--seconds S]
    PYTHONPATH=firmware /usr/bin/python3 bench/audio_chain.py   # as the player runs it

The second form measures Debian's numpy, which the player runs (docs/updates.md); the
first the .venv's. Both print the numpy and the BLAS library they ran on.

The full chain per period: decode the capture's S32_LE bytes → DC block and
tape EQ (Type II, the costlier path) → [B-type NR decoder] → meters →
analysis tap → volume and mute → output router → encode to S16_LE bytes for
the DAC, timed with NR off and with NR on: back to back (the table, and the fixed
cost from it), and once more at 1024 frames paced as the live loop runs it, one
period every 21 ms, whose caches and clock have cooled in between (the figure the
daemon sees). Figures are for one core of this machine; goals: ≥ 200× real time
at 1024 frames (NR off and on), ≤ 50 µs fixed cost per period, ready ≤ 0.5 s after
the interpreter starts, RSS ≤ 80 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

import numpy as np
from streams import Capture, DacBytes

RATE = 48000
SIZES = (64, 128, 256, 512, 1024, 2048)


def time_per_period(frames: int, seconds: float, nr: bool = False,
                    paced: bool = False) -> float:
    from capstan.audio.chain import AudioChain
    from capstan.board.alsa import decode, encode
    from capstan.sim.clock import SimulatedTimeLoop

    loop = SimulatedTimeLoop()
    capture = Capture()
    chain = AudioChain(capture, DacBytes(), loop, volume=0.7, gated=False)
    chain.set_tape_type("II")
    chain.set_nr(nr)
    chain.start()
    t = np.arange(frames * 64) / RATE
    # music-like: a 1 kHz tone and treble that comes and goes (the NR's band slides)
    treble = 0.05 * np.sin(2 * np.pi * 7000 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    tone = (0.2 * np.sin(2 * np.pi * 1000 * t) + treble).astype(np.float32)
    raws = [encode(np.stack([tone[i:i + frames]] * 2, axis=1), "S32_LE")
            for i in range(0, len(tone), frames)]
    on_block = capture.cb
    n = max(50, int(seconds * 1e6 / (20 + frames * 0.1)))
    for raw in raws:  # warm up: plans cached, ramps settled
        on_block(decode(raw, "S32_LE", 2))
    if paced:  # one period per period of audio, as the live loop runs it: the median
        times = []
        for i in range(max(20, int(seconds * RATE / frames))):
            time.sleep(frames / RATE)
            raw = raws[i % len(raws)]
            start = time.perf_counter()
            on_block(decode(raw, "S32_LE", 2))
            times.append(time.perf_counter() - start)
        loop.close()
        return float(np.median(times))
    start = time.perf_counter()
    for i in range(n):
        on_block(decode(raws[i % len(raws)], "S32_LE", 2))
    elapsed = (time.perf_counter() - start) / n
    loop.close()
    return elapsed


STARTUP = r"""
import time
t0 = time.perf_counter()
import resource, sys, tempfile
from pathlib import Path
from capstan.harness.session import SimSession
s = SimSession(Path(tempfile.mkdtemp()) / "bench", record_pins=False)
s.make_cassette("C60", "II")
s.start()
ready = time.perf_counter() - t0
print(f"ready {ready:.4f}", flush=True)
s.press("play")
s.run_for(20.0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"rss {rss:.1f}")
print(f"scipy {'scipy' in sys.modules}")
s.close()
"""


def startup() -> dict[str, float | str]:
    spawn = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", STARTUP], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.stdout is not None and proc.stderr is not None
    out: dict[str, float | str] = {}
    for line in proc.stdout:
        key, value = line.split()
        if key == "ready":
            out["ready_from_spawn"] = time.perf_counter() - spawn
        out[key] = value if key == "scipy" else float(value)
    errors = proc.stderr.read().strip().splitlines()
    if proc.wait() != 0:  # e.g. Debian's python3 without the simulator's gpiozero
        out["error"] = errors[-1] if errors else f"exit status {proc.returncode}"
        return out
    bare = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    out["bare_interpreter"] = time.perf_counter() - bare
    return out


def blas_in_use() -> str:
    """The BLAS library this process has loaded (numpy links it at import), as the dynamic
    loader found it."""
    try:
        with open("/proc/self/maps") as maps:
            found = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return "unknown (no /proc/self/maps)"
    return ", ".join(sorted(found)) or "none found in /proc/self/maps"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing per block size")
    args = parser.parse_args()
    asyncio.set_event_loop_policy(None)
    print("audio chain, 48 kHz stereo, S32_LE in → S16_LE out, one core")
    print(f"python {sys.version.split()[0]} ({sys.executable}), numpy {np.__version__}, "
          f"BLAS {blas_in_use()}")
    for nr in (False, True):
        times = {}
        for frames in SIZES:
            times[frames] = time_per_period(frames, args.seconds, nr)
        print(f"NR {'on (B-type decoder)' if nr else 'off'}")
        print(f"{'frames':>7} {'µs/period':>10} {'× real time':>12} {'core % at 48 kHz':>17}")
        for frames, t in times.items():
            rtf = frames / RATE / t
            print(f"{frames:>7} {t * 1e6:>10.1f} {rtf:>12.0f} {100 / rtf:>16.2f}%")
        x = np.array(list(times), float)
        y = np.array(list(times.values())) * 1e6
        slope, fixed = np.polyfit(x, y, 1)
        print(f"fixed cost per period {fixed:.1f} µs (+ {slope * 1000:.1f} µs per 1000 frames; "
              f"least squares over {', '.join(map(str, SIZES))} frames)")
        t = time_per_period(1024, max(args.seconds, 4.0), nr, paced=True)
        print(f"   1024 {t * 1e6:>10.1f} {1024 / RATE / t:>12.0f} {100 * t * RATE / 1024:>16.2f}%"
              "  paced: one period every 21 ms, as the live loop runs it (median)")
    s = startup()
    if "error" in s:
        print(f"start-up and memory on the simulated board: not measured here ({s['error']})")
        return 0
    print(f"start-up to ready on the simulated board: {s['ready']:.3f} s after the first line "
          f"of the interpreter ({s['ready_from_spawn']:.3f} s from spawn; a bare interpreter "
          f"takes {s['bare_interpreter']:.3f} s)")
    print(f"resident memory after 20 s of simulated play: {s['rss']:.1f} MB")
    print(f"scipy imported: {s['scipy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
