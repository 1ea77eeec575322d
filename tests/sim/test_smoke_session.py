from capstan.harness.session import SimSession


def test_play_then_stop_moves_the_tape_and_stops_it(session: SimSession) -> None:
    session.make_cassette("C60")
    session.run_until(1.0)
    session.press("play")
    session.run_until(11.0)
    assert session.player.deck.state.value == "playing"
    assert 9.0 < session.deck.position < 10.5
    session.press("stop")
    session.run_until(12.0)
    p = session.deck.position
    session.run_until(15.0)
    assert session.deck.position == p
    assert session.deck.outputs["motor"] == 0.0
    states = [e["state"] for e in session.events if e["type"] == "transport"]
    assert states == ["stopped", "playing", "stopped"]
