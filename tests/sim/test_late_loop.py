"""A loop that runs late decides late, never wrongly; the live loop's clock slips over stalls."""

from __future__ import annotations

from capstan.sim.clock import MAX_STALL, LiveLoop


def test_physics_left_behind_by_a_late_loop_is_no_end_of_tape(session) -> None:
    """The physics' timer stalls for 0.8 s (a busy laptop) while the watchdog runs on: the
    reels are judged where their edges are known, so nothing stops; then the physics
    catches up and the tape plays on."""
    session.make_cassette("C60", position=300.0)
    session.start()
    session.press("play")
    session.run_for(5.0)
    deck, player = session.deck, session.player
    assert player.deck.state.value == "playing"
    stops: list[str] = []
    player.bus.subscribe(lambda t, e: stops.append(e.what), "safety")
    deck.stop()  # the physics' timer does not run ...
    session.run_for(0.8)  # ... for longer than any reel's silence limit (0.2-0.3 s)
    assert stops == [] and player.deck.state.value == "playing"
    assert player.edges_until() <= session.now - 0.75  # the reels are known only up to here
    deck._schedule()  # the overdue physics catches up from where it was, tick by tick
    session.run_for(3.0)
    assert stops == [] and player.deck.state.value == "playing"
    assert player.edges_until() >= session.now - 0.02


def test_the_stall_is_still_caught_within_its_deadline_of_tape_time(session) -> None:
    session.make_cassette("C60", position=300.0)
    session.start()
    session.press("play")
    session.run_for(5.0)
    deck, player = session.deck, session.player
    cut: list[float] = []
    deck.on_tick.append(lambda t: cut.append(t) if not cut and deck.outputs["motor"] == 0
                        else None)
    stalled_at = session.now
    deck.fault("stall_take_up")
    session.run_for(2.0)
    assert player.deck.fault == "tape_eaten"
    assert cut and cut[0] - stalled_at <= 0.5


class FakeWall:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_live_clock_passes_on_short_delays_and_slips_over_stalls() -> None:
    wall = FakeWall()
    loop = LiveLoop(clock=wall)
    selector = loop._selector  # type: ignore[attr-defined]
    try:
        selector.select(0)
        wall.now += 0.03  # callbacks that took 30 ms: time goes on with them
        selector.select(0)
        assert abs(loop.time() - 100.03) < 1e-9 and loop.slipped == 0
        wall.now += 0.4  # a 400 ms stall (a disk held a write): the simulation pauses
        selector.select(0)
        assert abs(loop.slipped - (0.4 - MAX_STALL)) < 1e-9 and loop.stalls == 1
        assert abs(loop.time() - (100.03 + MAX_STALL)) < 1e-9
        wall.now += 0.01
        selector.select(0)
        assert abs(loop.time() - (100.04 + MAX_STALL)) < 1e-9  # and goes on from there
    finally:
        loop.close()
