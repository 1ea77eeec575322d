"""The tape counter over a daemon restart: saved at stop, taken back at the next start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from capstan.board import open_board
from capstan.config import load_config
from capstan.hardware.description import load_board
from capstan.service.daemon import Daemon
from capstan.service.notify import Notifier
from capstan.sim.cassette import Cassette
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.deck import SimDeck


def run_daemon(tmp: Path, cassette_dir: Path, position: float | None, play_for: float,
               ) -> tuple[float, float, float]:
    """One daemon lifetime on a fresh loop and board with the cassette in the well:
    (counter after start, counter at stop, the tape's true position at stop)."""
    loop = SimulatedTimeLoop()
    description = load_board()
    deck = SimDeck(description, loop)
    if position is None:
        cassette = Cassette.open(cassette_dir, description.mechanism)
    else:
        cassette = Cassette.create(cassette_dir, description.mechanism, "C90", position=position)
    deck.insert(cassette)
    board = open_board("sim", description, loop, 1024, deck=deck)
    deck.start()
    notifier = Notifier(None, 0)
    daemon = Daemon(board, load_config(overrides={"player": {"board": "sim"}}), loop,
                    socket_path=tmp / "c.sock", notifier=notifier, state_dir=tmp / "state")
    stop = asyncio.Event()
    task = loop.create_task(daemon.run(stop))

    def run_until(t: float) -> None:
        loop.run_until_complete(asyncio.sleep(t - loop.time()))
        assert not task.done(), task

    try:
        run_until(3.0)
        at_start = daemon.player.counter
        if play_for:
            daemon.player.press("play")
            run_until(3.0 + play_for)
            daemon.player.press("stop")
            run_until(5.0 + play_for)
        at_stop, truth = daemon.player.counter, deck.position
        stop.set()
        assert loop.run_until_complete(task) == 0
    finally:
        deck.close()
        board.close()
        notifier.close()
        loop.close()
    return at_start, at_stop, truth


def test_the_counter_is_restored_after_a_restart(tmp_path: Path) -> None:
    tape = tmp_path / "cassette"
    _, believed, truth = run_daemon(tmp_path, tape, position=900.0, play_for=80.0)
    assert abs(believed - truth) < 30  # the first run found where the tape is
    restored, _, _ = run_daemon(tmp_path, tape, position=None, play_for=0.0)
    assert abs(restored - believed) < 0.01  # taken back, not "unknown" or zero
