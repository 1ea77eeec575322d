"""Line-in onto a blank cassette on the simulated deck, the way a user does it with the buttons."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capstan.harness.session import SimSession
from capstan.sim.wavfile import read_wav, write_wav
from recording.music import RATE, three_songs


def kinds(events, type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


def relay_ever_on(events) -> bool:
    return any(e["type"] == "pin" and e["role"] == "record_relay" and e["value"] for e in events)


def on_tape(session: SimSession, seconds: float, side: str = "A") -> np.ndarray:
    track = session.deck.cassette.track(side)
    return np.asarray(track[0:int(seconds * RATE)], np.float32) / 32768


def sound_spans(x: np.ndarray, threshold_db: float = -40.0) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of sound, in 10 ms frames."""
    n = len(x) // 480 * 480
    level = 20 * np.log10(np.abs(x[:n, 0]).reshape(-1, 480).max(axis=1) + 1e-9)
    loud = np.concatenate([[False], level > threshold_db, [False]])
    edges = np.flatnonzero(np.diff(loud.astype(int)))
    return [(a * 0.01, b * 0.01) for a, b in zip(edges[::2], edges[1::2], strict=True)
            if b - a > 50]


def align(reference: np.ndarray, heard: np.ndarray) -> float:
    """The correlation coefficient of `reference` with `heard` at their best alignment."""
    size = 1 << int(np.ceil(np.log2(len(reference) + len(heard))))
    xc = np.fft.irfft(np.fft.rfft(heard, size) * np.conj(np.fft.rfft(reference, size)), size)
    lag = int(np.argmax(xc[: len(heard)]))
    seg = heard[lag:lag + len(reference)]
    ref = reference[: len(seg)]
    return float(np.corrcoef(ref, seg)[0, 1])


def test_three_songs_on_a_blank_c46_play_back_with_their_track_list(
        session: SimSession, tmp_path: Path) -> None:
    audio, truth = three_songs()
    wav = tmp_path / "line-in.wav"
    write_wav(wav, audio, RATE)
    session.make_cassette("C46", position=6.0)  # a blank from the shop, slightly wound in
    session.run_until(0.5)
    p = session.player
    session.press("rew")  # to the start: the counter calibrates there
    session.run_until(2.0)
    while p.deck.state.value == "rewind" and session.now < 30:
        session.run_for(0.5)
    assert p.tape_counter.calibrated
    line_in_at = session.now + 3.5
    session.set_line_in(wav, at=line_in_at)
    session.press("rec")  # arms: REC LED blinks, line-in monitored
    session.run_for(0.4)
    assert p.recording.armed and p.led_players["rec"].pattern.kind == "blink"
    assert session.deck.outputs["adc_mux"] == 1.0 and p.deck.state.value == "stopped"
    session.press("play")  # starts
    session.run_until(line_in_at + len(audio) / RATE + 1.5)
    session.press("stop")
    session.run_for(1.0)
    ev = session.events
    assert [e["what"] for e in kinds(ev, "record")][:2] == ["armed", "started"]
    # the record sequence: tape moving, then the relay, then the feed opened
    recording_at = next(e["t"] for e in ev if e.get("state") == "recording")
    relay_at = next(e["t"] for e in ev if e["type"] == "pin" and e["role"] == "record_relay")
    assert relay_at - recording_at >= 0.3
    # the TOC against where the songs really are on the tape
    spans = sound_spans(on_tape(session, 60.0))
    assert len(spans) == 3
    tracks = p.recording.memory.toc.tracks("A")
    assert len(tracks) == 3
    for track, (start, _end) in zip(tracks, spans, strict=True):
        assert abs(track.start - start) <= 0.5, (track, spans)
    assert abs(tracks[-1].end - spans[-1][1]) <= 0.5
    # the songs' lengths on tape are the line-in's (the tape ran at speed throughout)
    for (a, b), (ta, tb) in zip(spans, truth, strict=True):
        assert abs((b - a) - (tb - ta)) < 0.1
    # rewind, play it back: the jack plays what went in
    session.press("rew")
    session.run_for(1.0)
    while p.deck.state.value == "rewind" and session.now < 200:
        session.run_for(1.0)
    session.press("play")
    played_from = session.now
    session.run_for(len(audio) / RATE + 5.0)
    session.press("stop")
    session.run_for(0.5)
    session.board.playback.close()
    jack = read_wav(session.out_dir / "jack.wav", RATE)[int(played_from * RATE):, 0]
    assert align(audio[:, 0], jack) >= 0.9
    assert not any(e["type"] == "safety" and e["what"] not in ("start", "end") for e in ev)


def test_a_protected_side_is_refused_and_the_relay_never_engages(session: SimSession) -> None:
    session.make_cassette("C60", position=300.0, protected=["A"])
    session.run_until(0.5)
    session.press("rec")
    session.run_until(1.5)
    session.press("rec", hold=1.5)  # REC+PLAY, the direct start
    session.run_until(1.7)
    session.press("play")
    session.run_until(4.0)
    p = session.player
    p.recording.side = "B"  # what the side facing the head is called is the player's guess
    session.press("rec")
    session.run_until(5.0)
    refusals = [e["reason"] for e in kinds(session.events, "refused")]
    assert refusals[:2] == ["side A is write-protected: cover the tab to record"] * 2
    assert refusals[-1] == "side B is write-protected: cover the tab to record"
    assert not relay_ever_on(session.events)
    assert not any(e.get("state") in ("recording", "record_paused") for e in session.events)
    assert session.deck.outputs["adc_mux"] == 0.0 and not p.recording.armed
