"""Benchmark of the recording path: real-time factor on one core.

    .venv/bin/python bench/record_chain.py [--seconds S]

Per period, the whole path a recording runs: decode the capture's S32_LE bytes
(line-in) → the chain's front end (flat EQ on line-in) → the recorder's insert
(gap detector, automatic record level with its look-ahead limiter, the record
feed's gate) → meters → hold one period → the output router, which writes the
record feed to the DAC (jack and record amplifier) and the monitor to a second
output (Bluetooth headphones) → encode to S16_LE bytes. Goal: ≥ 200×
real time on one x86 core at the default period of 1024 frames.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from streams import Capture, DacBytes

RATE = 48000
SIZES = (256, 512, 1024, 2048)


def time_per_period(frames: int, seconds: float) -> float:
    from capstan.analysis.tracks import TrackDetector
    from capstan.audio.chain import AudioChain
    from capstan.board.alsa import decode, encode
    from capstan.recording.feed import RecordFeed
    from capstan.sim.clock import SimulatedTimeLoop

    loop = SimulatedTimeLoop()
    capture = Capture()
    capture.period = frames
    chain = AudioChain(capture, DacBytes(), loop, volume=0.7, gated=False)
    chain.outputs.add("bluetooth", DacBytes())
    chain.outputs.select("bluetooth")
    chain.outputs.feeds_record = True  # the DAC records while the headphones monitor
    feed = RecordFeed(RATE, 2, loop.time, "II")
    detector = TrackDetector(RATE, 1.8, -70.0)
    clock = [0.0]

    def listen(block: np.ndarray, t: float) -> None:
        detector.feed(block, clock[0])
        clock[0] += len(block) / RATE

    feed.listen = listen
    feed.monitor()
    chain.insert = feed
    chain.transport_changed("recording")
    chain.start()
    rng = np.random.default_rng(1)
    t = np.arange(frames * 64) / RATE
    music = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
             + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    raws = [encode(np.stack([music[i:i + frames]] * 2, axis=1), "S32_LE")
            for i in range(0, len(music), frames)]
    on_block = capture.cb
    for raw in raws:  # warm up
        on_block(decode(raw, "S32_LE", 2))
    chain._open()
    n = max(50, int(seconds * 1e6 / (40 + frames * 0.1)))
    start = time.perf_counter()
    for i in range(n):
        on_block(decode(raws[i % len(raws)], "S32_LE", 2))
    elapsed = (time.perf_counter() - start) / n
    loop.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing per block size")
    args = parser.parse_args()
    print("frames  µs/period  × real time  core %")
    for frames in SIZES:
        per = time_per_period(frames, args.seconds)
        factor = frames / RATE / per
        print(f"{frames:6d}  {per * 1e6:9.1f}  {factor:11.0f}  {100 / factor:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
