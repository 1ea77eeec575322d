"""Real-time factor of the tape-intelligence meters on this machine (one core).

    .venv/bin/python bench/analysis.py [--seconds 60]

Feeds 48 kHz stereo float32 blocks, as the audio chain's analysis tap does, at
two block sizes, and prints seconds of audio analysed per second of CPU time.
Goal: >= 300x real time each on one x86 core.
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as on the player; before numpy loads

import numpy as np  # noqa: E402

from capstan.analysis.azimuth import AzimuthMeter  # noqa: E402
from capstan.analysis.flutter import WowFlutterMeter  # noqa: E402
from capstan.analysis.tone import ToneDetector, tone_stretch  # noqa: E402
from capstan.analysis.tracks import TrackDetector, quietest_tape_dbfs  # noqa: E402

RATE = 48000


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.5 * np.sin(2 * np.pi * 3150 * t - 3150 * 0.001 / 4 * np.cos(2 * np.pi * 4 * t))
    return np.stack([x, x], axis=1).astype(np.float32)


def _tape(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, (int(seconds * RATE), 2))
    for start in range(10, int(seconds), 30):  # a 3 s gap of hiss every 30 s
        x[start * RATE:(start + 3) * RATE] *= 0.01
    return x.astype(np.float32)


def _rate(make, feed, audio: np.ndarray, block: int) -> float:
    meter = make()
    start = time.process_time()
    for i in range(0, len(audio), block):
        feed(meter, audio[i:i + block], i / RATE)
    used = time.process_time() - start
    return len(audio) / RATE / max(used, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    tone, tape = _tone(args.seconds), _tape(args.seconds)

    def flutter(m, b, t):
        m.feed(b)

    def tracks(m, b, t):
        m.feed(b, t)

    cases = [
        ("wow & flutter meter", lambda: WowFlutterMeter(RATE), flutter, tone),
        ("track detector", lambda: TrackDetector(RATE), tracks, tape),
        ("tone detector", lambda: ToneDetector(RATE), flutter, tape),
        ("azimuth meter", lambda: AzimuthMeter(RATE), flutter, tape),
    ]
    print(f"{args.seconds:.0f} s of 48 kHz stereo; real-time factor (higher is better, goal 300x)")
    for name, make, feed, audio in cases:
        figures = "  ".join(f"block {b:5d}: {_rate(make, feed, audio, b):7.0f}x"
                            for b in (1024, 4800))
        print(f"{name:22s} {figures}")
    print("whole-recording passes of `capstan analyze` (before the meters run):")
    for name, run, audio in (("finding the test tone", tone_stretch, tone),
                             ("the tape's hiss floor", quietest_tape_dbfs, tape)):
        start = time.process_time()
        run(audio, RATE)
        used = time.process_time() - start
        print(f"{name:22s} {args.seconds / max(used, 1e-9):7.0f}x real time")


if __name__ == "__main__":
    main()
