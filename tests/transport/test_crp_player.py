"""The player on the CRP42602Y profile: the production Player, its gear device, the one
rotation sensor's auto-stop and counter, over the simulated part's signals (sim/deck.py
with sim/crp42602y.py's function gear), in simulated time."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from capstan.harness.session import SimSession

C46_END = 23 * 60 + 2 * 2.0  # s of tape on a C46 side, leaders included
C60_END = 30 * 60 + 2 * 2.0


@pytest.fixture
def make(profile_session: Callable[..., SimSession]) -> Callable[..., SimSession]:
    return functools.partial(profile_session, "crp42602y")


def pin_times(s: SimSession, role: str, value: float) -> list[float]:
    return [e["t"] for e in s.events if e["type"] == "pin" and e["role"] == role
            and e["value"] == value]


def tape_end(s: SimSession) -> float:
    return next(e["t"] for e in s.events if e["type"] == "tape" and e["what"] == "end")


def transports(s: SimSession) -> list[tuple[str, str, str]]:
    return [(e["state"], e["side"], e["direction"]) for e in s.events
            if e["type"] == "transport"]


def test_the_end_of_the_side_stops_the_motor_within_a_second(make) -> None:
    s = make(reverse="one_way")
    s.make_cassette("C46", position=C46_END - 5.0)
    s.run_until(0.5)
    s.press("play")
    s.run_until(10.0)
    off = [t for t in pin_times(s, "motor", 0.0) if t > 0.5]
    assert 0.0 < off[0] - tape_end(s) <= 1.0
    assert s.player.deck.state.value == "stopped" and s.final()["side"] == "A"
    assert ("playing", "A", "forward") in transports(s)


@pytest.mark.parametrize("known", [False, True])
def test_a_stall_stops_the_motor_within_half_a_second(make, known: bool) -> None:
    s = make(reverse="one_way")
    s.make_cassette("C60", position=600.0)
    if known:  # the counter knows the tape is mid-side: a stall, not the end
        s.player.load_counter = lambda: {"cassette": True, "length": "C60",
                                         "calibrated": True, "position": 600.0}
    s.run_until(0.5)
    s.press("play")
    s.run_until(5.0)
    s.deck.fault("stall_take_up")
    s.run_until(7.0)
    off = [t for t in pin_times(s, "motor", 0.0) if t > 5.0]
    assert 0.0 < off[0] - 5.0 <= 0.5
    assert s.player.deck.state.value == "stopped"
    assert not s.deck.outputs["record_relay"]
    what = [e["what"] for e in s.events if e["type"] == "safety"]
    assert what == (["tape_stalled"] if known else ["end"])


def test_one_round_turns_to_side_b_and_stops_at_the_end_of_b(make) -> None:
    s = make(reverse="one_round")
    s.make_cassette("C46", position=C46_END - 5.0)
    s.run_until(0.5)
    s.press("play")
    s.run_until(12.0)
    assert s.player.deck.side == "B" and s.final()["side"] == "B"
    assert transports(s)[-1] == ("playing", "B", "forward")
    assert 2.0 <= s.player.counter <= 8.0  # side B counted from its start
    assert abs(s.player.counter - s.deck.position) <= 0.5
    s.press("ff")  # winds side B: the reels turn the other way from side A's
    s.run_for(2.0)
    assert transports(s)[-1] == ("fast_forward", "B", "forward")
    assert s.deck.motion.reverse is False and s.deck.gear.function.reel_fwd is False
    while s.player.deck.state.value == "fast_forward" and s.now < 120:
        s.run_for(1.0)
    assert s.deck.position == pytest.approx(C46_END, abs=0.01)
    s.press("play")  # at the end of B: the sensor stays quiet and one round is over
    s.run_for(4.0)
    assert (s.player.deck.state.value, s.player.deck.side) == ("stopped", "B")
    assert not s.deck.motion.motor


def test_a_jammed_gear_is_stopped_safely(make) -> None:
    s = make()
    s.make_cassette("C60", position=100.0)
    s.run_until(0.5)
    s.deck.fault("gear_jam")
    s.press("play")
    s.run_until(4.0)
    safety = [e for e in s.events if e["type"] == "safety"]
    assert [e["what"] for e in safety] == ["gear"]
    assert "did not reach play on side A" in safety[0]["reason"]
    assert s.deck.outputs["motor"] == 0.0 and s.deck.outputs["solenoid"] == 0.0
    assert s.player.deck.state.value == "stopped" and s.player.deck.fault == "gear"
    # the pull sequence ran twice (retries = 1) before the stop
    pulls = [t for t in pin_times(s, "solenoid", 1.0) if t > 0.5]
    # play A: the unhook pull, then one pull through the lift and reel windows; twice
    assert len(pulls) == 2 * 2 and pulls[2] - pulls[0] >= 0.4


def test_the_counter_from_an_unknown_position_after_a_minute_of_play(make) -> None:
    s = make()
    s.make_cassette("C60", position=900.0)
    s.player.tape_counter.length = "C60"  # told by the user: the sensor cannot tell it
    s.run_until(0.5)
    s.press("play")
    s.run_until(30.0)
    assert s.player.tape_counter.position is None  # not yet: played seconds meanwhile
    s.run_until(62.0)
    assert s.player.tape_counter.position is not None
    assert abs(s.player.counter - s.deck.position) <= 30.0


def test_a_protected_side_b_never_records(make) -> None:
    s = make(reverse="one_round")
    s.make_cassette("C60", position=300.0, protected=("B",))
    s.run_until(0.5)
    s.press("play", hold=1.0)  # held: play side B
    s.run_until(3.0)
    assert s.player.deck.side == "B"
    s.press("stop")
    s.run_for(0.5)
    s.press("rec")
    s.run_for(0.3)
    s.press("play")
    s.run_for(3.0)
    refused = [e for e in s.events if e["type"] == "refused"]
    assert refused and "side B is write-protected" in refused[0]["reason"]
    assert not pin_times(s, "record_relay", 1.0)
    assert "recording" not in [state for state, _, _ in transports(s)]


def test_the_music_search_on_side_b_winds_side_b_and_lands_in_its_gap(
        tmp_path: Path, profile_board: Callable[..., Any]) -> None:
    from capstan.config import load_config

    media = Path(__file__).resolve().parents[2] / "examples" / "media" / "demo-mixtape.wav"
    gaps_b = [(2.0 + 32.0, 2.0 + 36.0), (2.0 + 64.0, 2.0 + 68.0)]  # tests/intelligence
    config = load_config(overrides={"player": {"board": "sim",
                                               "state_dir": str(tmp_path / "state")}})
    s = SimSession(tmp_path / "s", config=config,
                   board=profile_board("crp42602y", reverse="one_round"), record_pins=False)
    try:
        s.make_cassette("C46", "II", position=C46_END - 4.0, side_b=media)
        s.player.load_counter = lambda: {"cassette": True, "length": "C46",
                                         "calibrated": True, "position": C46_END - 4.0}
        landed: list[float] = []
        s.player.bus.subscribe(lambda t, e: landed.append(s.deck.position)
                               if getattr(e, "what", "") == "landed" else None, "track")
        s.run_until(0.5)
        s.press("play")  # side A ends: side B plays from its start
        s.run_until(8.0)
        assert s.player.deck.side == "B" and s.player.tape_counter.calibrated
        s.run_until(50.0)  # in side B's second song
        s.press("ff", hold=1.2)  # the long press: the next track, on side B
        # listening, in steps of 1.2 s of tape: each change of the gear takes about 1 s
        s.run_for(60.0)
        track = [e for e in s.events if e["type"] == "track"]
        assert {e["side"] for e in track} == {"B"}, track
        assert [e["what"] for e in track if e["what"] in ("search", "landed")] == [
            "search", "landed"]
        assert len(landed) == 1 and gaps_b[1][0] <= landed[0] <= gaps_b[1][1] + 0.1
        assert ("fast_forward", "B", "forward") in transports(s)
        assert s.player.deck.state.value == "playing" and s.final()["side"] == "B"
        marks = s.player.intelligence.memory.toc.marks["B"]
        # the counter after a dozen winds and listens of the search: within a second
        assert any(abs(m.position - gaps_b[1][1]) < 1.0 for m in marks), (marks, track)
        assert abs(s.player.counter - s.deck.position) < 1.0
        assert not s.player.intelligence.memory.toc.marks["A"]
    finally:
        s.close()
