"""A recording from line-in on the CRP42602Y that runs past the end of side A goes on, on
side B (its tab present), with its marks and a track list per side, and plays back from
both sides; with side B protected it stops at the end of side A."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from capstan.harness.session import SimSession
from capstan.sim.wavfile import read_wav, write_wav
from recording.music import RATE, silence, song
from recording.test_mixtape import align, on_tape, sound_spans

C60_END = 30 * 60 + 2 * 2.0  # s of tape on a C60 side, leaders included


@pytest.fixture
def crp(profile_session: Callable[..., SimSession]) -> SimSession:
    return profile_session("crp42602y", reverse="one_round")


def near_the_end(s: SimSession, position: float, protected: tuple[str, ...] = ()) -> None:
    """A C60 wound near the end of side A whose counter the player kept (a restart)."""
    s.make_cassette("C60", position=position, protected=protected)
    s.player.load_counter = lambda: {"cassette": True, "length": "C60", "calibrated": True,
                                     "position": position, "played": 0.0}


def record(s: SimSession, tmp_path: Path, audio: np.ndarray) -> float:
    wav = tmp_path / "line-in.wav"
    write_wav(wav, audio, RATE)
    s.run_until(0.5)
    s.press("rec")
    s.run_for(0.4)
    s.press("play")
    at = s.now + 3.0
    s.set_line_in(wav, at=at)
    s.run_until(at + len(audio) / RATE + 1.5)
    s.press("stop")
    s.run_for(1.0)
    return at


def relay_edges(events: list[dict[str, Any]]) -> list[tuple[float, float]]:
    return [(e["t"], e["value"]) for e in events
            if e["type"] == "pin" and e["role"] == "record_relay"]


def until(s: SimSession, done: Any, limit: float) -> None:
    end = s.now + limit
    while not done() and s.now < end:
        s.run_for(0.25)


def test_a_c60_recording_past_side_a_goes_on_on_side_b_and_plays_back_from_both(
        crp: SimSession, tmp_path: Path) -> None:
    s, p = crp, crp.player
    near_the_end(s, C60_END - 36.0)
    songs = [song(10.0, 1), song(10.0, 2), song(20.0, 3), song(10.0, 4)]
    audio = np.concatenate([songs[0], silence(3.0), songs[1], silence(3.0), songs[2],
                            silence(3.0), songs[3]])
    record(s, tmp_path, audio)
    ev = s.events
    told = [e["what"] for e in ev if e["type"] == "record"]
    assert "continued_on_b" in told and "end_closed" not in told
    turns = [e for e in ev if e["type"] == "transport"]
    assert [(e["state"], e["side"]) for e in turns if e["state"] == "recording"] == [
        ("recording", "A"), ("recording", "B")]
    # the relay: on for side A, off while the head turns, on again for side B, then off
    edges = relay_edges(ev)
    assert [v for _, v in edges] == [1.0, 0.0, 1.0, 0.0], edges
    turned = next(e["t"] for e in turns if e["side"] == "B")
    assert edges[1][0] <= turned < edges[2][0]
    # what is on the tape, per side, against the track list, per side
    c = s.deck.cassette
    tail = np.asarray(c.track("A")[int((C60_END - 40.0) * RATE):], np.float32) / 32768
    spans_a = [(a + C60_END - 40.0, b + C60_END - 40.0) for a, b in sound_spans(tail)]
    spans_b = sound_spans(on_tape(s, 40.0, "B"))
    toc = p.recording.memory.toc
    assert len(spans_a) == 3 and len(spans_b) == 2, (spans_a, spans_b)
    for side, spans in (("A", spans_a), ("B", spans_b)):
        tracks = toc.tracks(side)
        assert len(tracks) == len(spans), (side, tracks, spans)
        for track, (start, _end) in zip(tracks, spans, strict=True):
            assert abs(track.start - start) <= 0.5, (side, track, spans)
        assert abs(tracks[-1].end - spans[-1][1]) <= 0.5, (side, tracks, spans)
    assert spans_b[0][0] == pytest.approx(2.0, abs=0.3)  # side B's oxide, from its leader
    # play it back: side B from its start, then side A from before the recording
    s.press("rew")
    s.run_for(0.5)
    until(s, lambda: p.deck.state.value != "rewind", 30)
    assert p.deck.side == "B" and p.tape_counter.position == 0.0
    s.press("play")
    b_from = s.now
    s.run_for(25.0)
    s.press("stop")
    s.run_for(0.5)
    s.press("play", hold=1.0)  # held: the other side
    s.run_for(1.5)
    assert p.deck.side == "A" and p.deck.state.value == "playing"
    s.press("rew")
    until(s, lambda: p.counter <= C60_END - 38.0, 20)
    s.press("play")
    a_from = s.now
    assert abs(p.counter - s.deck.position) <= 1.0  # the one sensor counted the rewind
    s.run_for(30.0)
    s.press("stop")
    s.run_for(0.5)
    s.board.playback.close()
    jack = read_wav(s.out_dir / "jack.wav", RATE)[:, 0]
    heard_b = jack[int(b_from * RATE):int((b_from + 25.0) * RATE)]
    heard_a = jack[int(a_from * RATE):int((a_from + 30.0) * RATE)]
    assert align(songs[3][:, 0], heard_b) >= 0.9
    assert align(songs[0][:, 0], heard_a) >= 0.9 and align(songs[1][:, 0], heard_a) >= 0.9
    assert not any(e["type"] == "safety" and e["what"] not in ("start", "end") for e in s.events)


def test_with_side_b_protected_the_recording_stops_at_the_end_of_side_a(
        crp: SimSession, tmp_path: Path) -> None:
    s, p = crp, crp.player
    near_the_end(s, C60_END - 20.0, protected=("B",))
    record(s, tmp_path, song(30.0, 5))
    ev = s.events
    assert [e["side"] for e in ev if e["type"] == "transport" and e["state"] == "recording"] \
        == ["A"]
    # closed the way the reference closes the end of a side: faded out, relay, then motor
    assert "end_closed" in [e["what"] for e in ev if e["type"] == "record"]
    assert p.deck.state.value == "stopped" and p.deck.side == "A"
    assert not any(e["type"] == "safety" for e in ev)  # before the tape ran out
    assert [v for _, v in relay_edges(ev)] == [1.0, 0.0]
    assert not np.any(on_tape(s, C60_END, "B"))  # nothing reached side B
    tracks = p.recording.memory.toc.tracks("A")
    assert len(tracks) == 1 and tracks[0].end is not None
    assert not p.recording.memory.toc.tracks("B")


def test_record_on_b_false_stops_at_the_end_of_side_a(
        tmp_path: Path, profile_session: Callable[..., SimSession]) -> None:
    s = profile_session("crp42602y", record_on_b=False)
    near_the_end(s, C60_END - 20.0)
    record(s, tmp_path, song(30.0, 6))
    sides = [e["side"] for e in s.events if e["type"] == "transport"
             and e["state"] == "recording"]
    assert sides == ["A"] and s.player.deck.state.value == "stopped"
    assert not np.any(on_tape(s, C60_END, "B"))
