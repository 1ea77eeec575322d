"""`capstan status` for a person: minutes, words, never raw JSON or "None"."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from capstan.control.view import clock, describe, duration, render

PLAYING = {
    "transport": "playing", "counter": 754.4, "mode": "play", "length": "C60",
    "calibrated": True, "remaining": 1045.6,
    "tape": {"cassette": "c3", "tracks": [[0.0, 200.0], [204.0, None]], "track": 2,
             "search": None, "wow_flutter": None, "speed_trim_percent": 0.12,
             "azimuth": None, "digitizing": {"enabled": True, "directory": "/d/tapes",
                                             "take": "/d/tapes/take-1", "track": 2}},
    "power": {"percent": 80.0, "voltage": 3.976, "supply": "battery", "level": "ok",
              "gauge_known": True, "faults": [], "remaining": 20454.0, "mode": "playing"},
    "board": "sim", "selftest": "self-test passed (18 checks, 1 not checked)",
    "healthy": True, "problems": [], "uptime": 5.7, "state_writes": 3,
    "socket": "/run/capstan/control.sock", "state_dir": "/var/lib/capstan",
}


def test_a_playing_player_in_words() -> None:
    lines = dict(describe(PLAYING))
    assert lines["Player"] == "playing"
    assert lines["Counter"] == "12:34 (exact)"
    assert lines["Cassette"] == "a C60, 17 min left on this side"
    assert lines["Track"] == "2 of 2 known"
    assert lines["Digitizing"] == "on, writing track 2 to /d/tapes/take-1"
    assert lines["Power"] == "80 %, on battery, about 5 h 40 min of play left"
    assert lines["Health"] == "healthy"
    assert lines["Self-test"] == "passed (18 checks, 1 not checked)"
    assert lines["State in"] == "/var/lib/capstan"


def test_nothing_known_yet_and_no_cassette() -> None:
    unknown = {**PLAYING, "transport": "stopped", "length": None, "calibrated": False,
               "remaining": None, "counter": 61.0,
               "power": {"percent": None, "supply": "unknown", "gauge_known": False,
                         "remaining": None, "level": None, "faults": []},
               "healthy": False, "problems": ["audio: the ADC delivered no audio for 3.2 s"]}
    lines = dict(describe(unknown))
    assert lines["Counter"] == "1:01 (time played: the length is not known yet)"
    assert lines["Cassette"] == "length not known yet"
    assert lines["Power"] == "charge unknown (no fuel gauge), power source not known yet"
    assert lines["Health"] == "unhealthy: audio: the ADC delivered no audio for 3.2 s"
    empty = dict(describe({**PLAYING, "transport": "no_cassette"}))
    assert empty["Player"] == "no cassette" and "Counter" not in empty


def test_times() -> None:
    assert [clock(s) for s in (0, 5.4, 59.6, 754.4, 3723, -3)] == [
        "0:00", "0:05", "1:00", "12:34", "1:02:03", "-0:03"]
    assert [duration(s) for s in (0, 45, 60, 1045.6, 3600, 20454)] == [
        "0 s", "45 s", "1 min", "17 min", "1 h", "5 h 40 min"]


values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6)
                      | st.floats(-1e7, 1e7) | st.sampled_from(["ok", "fast_forward", "C90"]),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["a_b", "percent", "enabled"]), inner,
                                        max_size=3), max_leaves=8)


@given(changes=st.dictionaries(st.sampled_from([*PLAYING, "new_thing"]), values, max_size=6))
def test_never_raw_json_nor_none_whatever_the_status_holds(changes: dict[str, Any]) -> None:
    text = render({**PLAYING, **changes})
    for raw in ("None", "{", "}", "[", "]", "null", "True", "False"):
        assert raw not in text, (raw, text)


def test_noise_reduction_reads_in_words() -> None:
    on = describe({"nr": {"on": True, "reference_dbfs": -11.96, "calibrated": True,
                          "default_dbfs": -12.04}})
    assert ("Noise reduction", "B-type decoding on (reference level -12.0 dBFS, calibrated)") in on
    off = describe({"nr": {"on": False, "reference_dbfs": -12.04, "calibrated": False}})
    assert ("Noise reduction", "off (reference level -12.0 dBFS, the board's default)") in off


def test_the_keys_of_a_mechanism_moved_by_hand_read_in_words() -> None:
    assert dict(describe({**PLAYING, "keys": ["play", "rec"]}))["Keys"] == (
        "PLAY + REC down on the mechanism")
    assert dict(describe({**PLAYING, "keys": []}))["Keys"].startswith("none down")
    assert "Keys" not in dict(describe(PLAYING))  # a mechanism the firmware moves
