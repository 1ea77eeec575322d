"""Button latency: from the debounced press to the actuator change, in the running daemon.

The whole Player runs on the simulated board on a real-time asyncio loop (not the
simulated clock), with the audio chain processing capture blocks meanwhile and
the deck's physics ticking every 10 ms. Each press drives the button's pin; the
debouncer declares it pressed BUTTON_DEBOUNCE later (that interval is stated
separately, not included); the figure is the time from that moment to the first
change of a mechanism output (head solenoid, idler or motor PWM) the press causes.

    .venv/bin/python bench/button_latency.py [--presses 240]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path


async def measure(presses: int, spacing: float) -> tuple[list[float], int]:
    from capstan.app import Player
    from capstan.board import open_board
    from capstan.config import load_config
    from capstan.devices.buttons import BUTTON_DEBOUNCE
    from capstan.hardware.description import load_board
    from capstan.sim.cassette import Cassette
    from capstan.sim.deck import SimDeck

    loop = asyncio.get_running_loop()
    description = load_board()
    config = load_config(overrides={"player": {"board": "sim"}})
    deck = SimDeck(description, loop)
    tmp = Path(tempfile.mkdtemp(prefix="capstan-bench-"))
    deck.insert(Cassette.create(tmp / "cassette", description.mechanism, "C90", position=1000.0))
    board = open_board("sim", description, loop, config["player"]["period"],
                       jack_wav=None, deck=deck)
    player = Player(board, config, loop)
    deck.start()
    await player.start()
    watched = {"head_solenoid", "wind_idler", "motor"}
    changed: list[float] = []
    inner = deck.factory.on_output

    def on_output(pin: int, value: float) -> None:
        if deck._pin_roles.get(pin) in watched:
            changed.append(loop.time())
        if inner is not None:
            inner(pin, value)

    deck.factory.on_output = on_output
    latencies: list[float] = []
    cycle = ["play", "stop", "ff", "stop", "rew", "stop"]
    await asyncio.sleep(0.5)
    for i in range(presses):
        button = cycle[i % len(cycle)]
        changed.clear()
        t0 = loop.time()
        deck.set_button(button, True)
        due = t0 + BUTTON_DEBOUNCE
        await asyncio.sleep(0.06)
        deck.set_button(button, False)
        await asyncio.sleep(spacing)
        after = [t for t in changed if t >= due - 1e-4]
        if after:
            latencies.append(max(0.0, after[0] - due))
    blocks = player.audio.blocks
    await player.stop()
    deck.stop()
    board.close()
    return latencies, blocks


def main() -> None:
    from capstan.devices.buttons import BUTTON_DEBOUNCE

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=240)
    ap.add_argument("--spacing", type=float, default=0.09, help="s between presses")
    args = ap.parse_args()
    latencies, blocks = asyncio.run(measure(args.presses, args.spacing))
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"button latency over {len(ms)} presses (audio blocks processed meanwhile: {blocks})")
    print(f"  debounce interval (not included): {BUTTON_DEBOUNCE * 1000:.1f} ms")
    print(f"  debounced press -> actuator: p50 {statistics.median(ms):.3f} ms, "
          f"p99 {p99:.3f} ms, max {ms[-1]:.3f} ms (goal: p99 <= 5 ms)")


if __name__ == "__main__":
    main()
