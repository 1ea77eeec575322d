"""The player on the mechanical profile (a walkman's mechanism moved by its keys): the
production Player over the simulated deck's keys as leaf switches, its one rotation
sensor's auto-stop, the motor the only thing the firmware drives; in simulated time."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from capstan.deck import transport as tp
from capstan.harness.session import SimSession

C60_END = 30 * 60 + 2 * 2.0  # s of tape on a C60 side, leaders included


@pytest.fixture
def make(profile_session: Callable[..., SimSession]) -> Callable[..., SimSession]:
    return functools.partial(profile_session, "mechanical")


def pin_times(s: SimSession, role: str, value: float) -> list[float]:
    return [e["t"] for e in s.events if e["type"] == "pin" and e["role"] == role
            and e["value"] == value]


def transports(s: SimSession) -> list[str]:
    return [e["state"] for e in s.events if e["type"] == "transport"]


def test_a_key_pressed_by_the_user_starts_the_motor_and_the_tape_plays(make) -> None:
    s = make()
    s.make_cassette("C60", position=300.0)
    s.run_until(0.5)
    assert s.deck.outputs["motor"] == 0.0 and s.player.deck.state.value == "stopped"
    s.deck.press_key("play")
    s.run_until(5.0)
    on = pin_times(s, "motor", 1.0)
    assert len(on) == 1 and 0.5 < on[0] <= 0.6  # the leaf switch, debounced
    assert transports(s)[-1] == "playing" and s.player.status()["keys"] == ["play"]
    assert s.deck.position == pytest.approx(300.0 + 5.0 - on[0], abs=0.3)
    keys = [e for e in s.events if e["type"] == "keys" and e.get("action") == "down"]
    assert [(e["key"], list(e["down"])) for e in keys] == [("play", ["play"])]
    # the reference's motor direction, head and idler are not this profile's: never driven
    assert not {"head_solenoid", "wind_idler", "motor_reverse"} & {
        e["role"] for e in s.events if e["type"] == "pin"}
    s.deck.press_key("stop")  # STOP releases the key: the firmware cuts the motor
    s.run_for(0.5)
    assert s.deck.outputs["motor"] == 0.0 and transports(s)[-1] == "stopped"


def test_the_end_of_the_tape_stops_the_motor_within_a_second(make) -> None:
    s = make()
    s.make_cassette("C60", position=C60_END - 5.0)
    s.run_until(0.5)
    s.deck.press_key("play")
    s.run_until(12.0)
    end = next(e["t"] for e in s.events if e["type"] == "tape" and e["what"] == "end")
    off = [t for t in pin_times(s, "motor", 0.0) if t > 0.5]
    assert off and 0.0 < off[0] - end <= 1.0
    safety = [e for e in s.events if e["type"] == "safety"]
    assert [e["what"] for e in safety] == ["end"]
    assert "press STOP on the mechanism" in safety[0]["reason"]  # it cannot lift the head
    assert s.player.deck.state.value == "stopped" and s.deck.keys == {"play"}
    s.run_for(5.0)  # the key still down: the motor stays off
    assert s.deck.outputs["motor"] == 0.0
    s.deck.press_key("stop")
    s.run_for(0.3)
    s.deck.press_key("rew")  # a new key: the motor runs again
    s.run_for(1.0)
    assert s.deck.outputs["motor"] == 1.0 and transports(s)[-1] == "rewind"


@pytest.mark.parametrize("known", [False, True])
def test_a_stall_stops_the_motor_within_half_a_second(make, known: bool) -> None:
    s = make()
    s.make_cassette("C60", position=600.0)
    if known:  # the counter knows the tape is mid-side: a stall, not the end
        s.player.load_counter = lambda: {"cassette": True, "length": "C60",
                                         "calibrated": True, "position": 600.0}
    s.run_until(0.5)
    s.deck.press_key("play")
    s.run_until(5.0)
    s.deck.fault("stall_take_up")
    s.run_until(7.0)
    off = [t for t in pin_times(s, "motor", 0.0) if t > 5.0]
    assert off and 0.0 < off[0] - 5.0 <= 0.5
    assert s.player.deck.state.value == "stopped"
    what = [e["what"] for e in s.events if e["type"] == "safety"]
    assert what == (["tape_stalled"] if known else ["end"])


def test_the_rec_key_with_the_tab_out_never_raises_the_relay(make) -> None:
    s = make()
    s.make_cassette("C60", position=300.0, protected=("A",))
    s.run_until(0.5)
    s.deck.press_key("rec")  # REC goes down with PLAY
    s.run_until(4.0)
    refused = [e for e in s.events if e["type"] == "refused"]
    assert refused and "write-protected" in refused[0]["reason"]
    assert not pin_times(s, "record_relay", 1.0)
    assert "recording" not in transports(s) and transports(s)[-1] == "playing"


def test_the_rec_key_with_the_tab_in_records_with_the_relay(make) -> None:
    s = make()
    s.make_cassette("C60", position=300.0)
    s.run_until(0.5)
    s.deck.press_key("rec")
    s.run_until(4.0)
    assert transports(s)[-1] == "recording"
    up = pin_times(s, "record_relay", 1.0)
    assert up and up[0] > 0.5  # only once the tape is at speed
    s.deck.press_key("stop")
    s.run_for(0.3)
    assert s.deck.outputs["record_relay"] == 0.0 and s.deck.outputs["motor"] == 0.0


def test_the_panel_buttons_of_the_transport_are_refused_in_words(make) -> None:
    s = make()
    s.make_cassette("C60", position=300.0)
    s.run_until(0.5)
    for button in ("play", "ff", "rew", "rec"):
        s.player.press(button)
    s.run_for(0.5)
    refused = [e for e in s.events if e["type"] == "refused"]
    assert len(refused) == 4 and all("press the key on the mechanism" in e["reason"]
                                     for e in refused)
    assert s.deck.outputs["motor"] == 0.0


KEYS = ("play", "ff", "rew", "rec", "stop")
SETTLE = {"play": "playing", "ff": "fast_forward", "rew": "rewind", "rec": "recording",
          "stop": "stopped"}


@pytest.mark.parametrize("first", [None, *KEYS])
@pytest.mark.parametrize("key", KEYS)
def test_every_key_in_every_state(make, first: str | None, key: str) -> None:
    s = make()
    s.make_cassette("C60", position=600.0)
    s.run_until(0.5)
    if first is not None:
        s.deck.press_key(first)
        s.run_for(1.5)
        assert s.player.deck.state.value == SETTLE[first]
    s.deck.press_key(key)
    s.run_for(1.5)
    state = s.player.deck.state
    assert state.value == SETTLE[key]
    moving = state != tp.State.STOPPED
    assert (s.deck.outputs["motor"] == 1.0) == moving
    assert bool(s.deck.outputs["record_relay"]) == (state == tp.State.RECORDING)
    assert s.player.status()["mode"] == s.player.deck.mode().value


def test_the_keys_without_a_cassette_run_nothing_until_one_is_in(make) -> None:
    s = make()
    s.run_until(0.5)
    s.deck.press_key("play")
    s.run_for(1.0)
    assert s.player.deck.state.value == "no_cassette" and s.deck.outputs["motor"] == 0.0
    s.make_cassette("C60", position=300.0)
    s.run_for(1.0)
    assert s.player.deck.state.value == "playing" and s.deck.outputs["motor"] == 1.0
