"""The transport on the simulated deck: the safety stops, eject, a protected side, the counter."""

from __future__ import annotations

from pathlib import Path

from capstan.harness.session import SimSession


def first(events, **match):
    return next(e for e in events if all(e.get(k) == v for k, v in match.items()))


def motor_off_after(events, t: float) -> float:
    return next(e["t"] for e in events if e["type"] == "pin" and e["role"] == "motor"
                and e["value"] == 0.0 and e["t"] >= t)


def relay_ever_on(events) -> bool:
    return any(e["type"] == "pin" and e["role"] == "record_relay" and e["value"] for e in events)


def test_play_to_the_end_of_a_c60_side_stops_within_1_s(session: SimSession) -> None:
    session.make_cassette("C60", position=1770.0)
    session.run_until(0.5)
    session.press("play")
    session.run_until(45.0)
    end = first(session.events, type="tape", what="end")["t"]
    assert motor_off_after(session.events, end) - end <= 1.0
    assert first(session.events, type="safety", what="end")
    assert session.player.deck.state.value == "stopped"
    assert session.deck.outputs["head_solenoid"] == 0.0 and not relay_ever_on(session.events)
    assert session.final()["chewed_metres"] == 0.0
    assert abs(session.final()["counter"] - session.final()["position"]) < 30


def test_a_stalled_take_up_mid_side_stops_within_half_a_second(session: SimSession) -> None:
    session.make_cassette("C90", position=900.0)
    session.run_until(0.5)
    session.press("play")
    session.run_until(20.0)
    session.deck.fault("stall_take_up")
    stall = session.now
    session.run_until(25.0)
    assert motor_off_after(session.events, stall) - stall <= 0.5
    eaten = first(session.events, type="safety", what="tape_eaten")
    assert eaten["t"] - stall <= 0.5 and "take-up" in eaten["reason"]
    assert session.player.deck.fault == "tape_eaten"
    assert session.final()["chewed_metres"] < 0.03  # under 3 cm pulled out
    assert session.player.led_players["rec"].pattern.kind == "blink"  # the error pattern


def test_eject_while_playing_stops_at_once(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.run_until(0.5)
    session.press("play")
    session.run_until(5.0)
    session.deck.eject()
    out = session.now
    session.run_until(6.0)
    assert motor_off_after(session.events, out) - out <= 0.011  # the next edge, no debounce
    states = [e["state"] for e in session.events if e["type"] == "transport"]
    assert states[-2:] == ["stopped", "no_cassette"]
    assert first(session.events, type="safety", what="cassette_out")


def _record_chord(session: SimSession) -> None:
    session.press("rec", hold=1.5)
    session.run_for(0.2)
    session.press("play", hold=0.5)


def test_a_protected_side_refuses_recording_and_never_energizes_the_relay(
        session: SimSession) -> None:
    session.make_cassette("C60", position=300.0, protected=["A"])
    session.run_until(0.5)
    _record_chord(session)
    session.run_until(5.0)
    refused = first(session.events, type="refused", action="record")
    assert "write-protected" in refused["reason"]
    assert not relay_ever_on(session.events)
    assert session.player.deck.state.value != "recording"


def test_recording_energizes_the_relay_only_at_speed_and_stop_releases_it_first(
        session: SimSession) -> None:
    session.make_cassette("C60", position=300.0)
    session.run_until(0.5)
    _record_chord(session)
    session.run_until(6.0)
    rec = first(session.events, type="transport", state="recording")["t"]
    on = first(session.events, type="pin", role="record_relay", value=1.0)["t"]
    assert on > rec + 0.2  # not before the tape was at speed
    session.press("stop")
    session.run_until(8.0)
    stop = next(e["t"] for e in session.events if e["type"] == "transport"
                and e["state"] == "stopped" and e["t"] > rec)
    off = next(e for e in session.events if e["type"] == "pin" and e["role"] == "record_relay"
               and e["value"] == 0.0 and e["t"] >= stop)
    motor_first_change = next(e for e in session.events if e["type"] == "pin"
                              and e["role"] == "motor" and e["t"] >= stop)
    assert session.events.index(off) < session.events.index(motor_first_change)
    assert session.deck.recorded_seconds > 3.0


def test_auto_rewind_at_the_end_then_the_counter_is_calibrated(tmp_path: Path) -> None:
    from capstan.config import load_config

    config = load_config(overrides={"player": {"board": "sim"},
                                    "transport": {"auto_rewind": True}})
    s = SimSession(tmp_path / "s", config=config, record_pins=False)
    try:
        s.make_cassette("C46", position=1370.0)
        s.run_until(0.5)
        s.press("play")
        s.run_until(200.0)
        states = [e["state"] for e in s.events if e["type"] == "transport"]
        assert states[-3:] == ["playing", "rewind", "stopped"]
        assert first(s.events, type="counter", what="calibrated")
        assert s.player.tape_counter.calibrated and s.final()["position"] == 0.0
        assert abs(s.final()["counter"]) < 1.0
    finally:
        s.close()


def test_the_counter_survives_a_daemon_restart_with_the_cassette_in(tmp_path: Path) -> None:
    store: dict = {}
    first_run = SimSession(tmp_path / "one", record_pins=False)
    first_run.player.save_counter = lambda state: store.update(state=dict(state))
    try:
        first_run.make_cassette("C90", position=1000.0)
        first_run.run_until(0.5)
        first_run.press("play")
        first_run.run_until(70.0)
        first_run.press("stop")
        first_run.run_until(71.0)
        believed = first_run.player.counter
        truth = first_run.deck.position
        assert first_run.player.tape_counter.length == "C90"
    finally:
        first_run.close()
    assert store["state"]["cassette"] is True
    second = SimSession(tmp_path / "two", record_pins=False)
    second.player.load_counter = lambda: store["state"]
    try:
        second.make_cassette("C90", position=truth)  # the same tape, never taken out
        second.run_until(0.5)
        assert second.player.tape_counter.length == "C90"
        assert abs(second.player.counter - believed) < 0.01
        second.press("play")
        second.run_until(11.0)
        assert abs(second.player.counter - second.deck.position) < 30
    finally:
        second.close()
