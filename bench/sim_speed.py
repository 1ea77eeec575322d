#!/usr/bin/env python3
"""How fast the simulated deck runs: simulated seconds per wall-clock second.

Plays the demo mixtape (or a blank tape) on a C60 with the full daemon and
audio chain on one core, writing the jack output to a temporary WAV.
Goal: at least 50× real time.

    .venv/bin/python bench/sim_speed.py [--seconds 600]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from capstan.harness.session import SimSession

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated seconds of play")
    args = parser.parse_args()
    demo = ROOT / "examples" / "media" / "demo-mixtape.wav"
    with tempfile.TemporaryDirectory() as tmp:
        s = SimSession(Path(tmp), record_pins=False)
        s.make_cassette("C60", side_a=demo if demo.exists() else None)
        s.run_until(0.5)
        s.press("play")
        t0, c0 = time.perf_counter(), time.process_time()
        s.run_for(args.seconds)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        blocks = s.player.audio.blocks
        s.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"simulated {args.seconds:.0f} s of playback with audio in {wall:.2f} s wall "
          f"({cpu:.2f} s CPU)")
    print(f"speed: {args.seconds / wall:.0f}x real time (goal >= 50x); "
          f"{blocks} audio blocks, {wall / max(blocks, 1) * 1e6:.0f} us per block; "
          f"max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
