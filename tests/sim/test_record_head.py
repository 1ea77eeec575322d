"""What the record head writes, the playhead reads back, and the cassette keeps it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from capstan.board import open_board
from capstan.hardware.description import load_board
from capstan.sim.cassette import Cassette
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck

RATE = 48000


def tone_level(block: np.ndarray, hz: float) -> float:
    """Amplitude of the `hz` component (single-bin DFT)."""
    t = np.arange(len(block)) / RATE
    ref = np.exp(-2j * np.pi * hz * t)
    return float(2 * abs(np.mean(block[:, 0] * ref)))


def test_a_recording_reads_back_and_survives_the_run(tmp_path: Path) -> None:
    board = load_board()
    loop = SimulatedTimeLoop()
    deck = SimDeck(board, loop, seed=3)
    b = open_board("sim", board, loop, 1024, deck=deck)
    cassette = Cassette.create(tmp_path / "tape", board.mechanism, "C46")
    deck.insert(cassette)
    deck.start()
    out = b.outputs

    def run(seconds: float) -> None:
        loop.run_until_complete(asyncio.sleep(seconds))

    # record 5 s of a 1 kHz tone at -12 dBFS: head on, motor at play speed, relay on
    out["head_solenoid"].write(True)
    out["motor"].write(board.mechanism.play_duty)
    out["dac_unmute"].write(True)
    run(3.0)  # past the leader and up to speed
    out["record_relay"].write(True)
    t = np.arange(1024) / RATE
    start = loop.time()
    for _ in range(int(5 * RATE / 1024)):
        now = loop.time() - start
        block = 0.25 * np.sin(2 * np.pi * 1000 * (now + t))
        b.playback.write(np.stack([block, block], axis=1).astype(np.float32))
        run(1024 / RATE)
    out["record_relay"].write(False)
    out["motor"].write(0.0)
    run(1.0)
    assert deck.recorded_seconds == pytest.approx(5.0, abs=0.1)

    # rewind by hand and play it back through the playhead
    cassette.position = 3.5
    got: list[np.ndarray] = []
    b.capture.start(got.append)
    out["motor"].write(board.mechanism.play_duty)
    run(4.0)
    b.capture.stop()
    played = np.concatenate(got)[int(1.0 * RATE):int(3.5 * RATE)]  # at speed, on the tone
    assert tone_level(played, 1000) == pytest.approx(np.tanh(0.25), rel=0.05)
    b.close()
    deck.close()
    loop.close()

    # a new run finds it on the cassette
    again = Cassette.open(tmp_path / "tape", board.mechanism)
    track = again.track("A")
    seg = np.asarray(track[int(5.0 * RATE):int(6.0 * RATE)], dtype=np.float32) / 32768
    assert tone_level(seg, 1000) == pytest.approx(np.tanh(0.25), rel=0.05)
    blank = np.asarray(track[int(20 * RATE):int(21 * RATE)])
    assert not blank.any()  # the rest of the side is still blank
