"""The end of the side, REC MUTE and the sync start on the simulated deck."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capstan.harness.session import SimSession
from capstan.sim.wavfile import write_wav
from recording.music import RATE, silence, song


def whats(session: SimSession) -> list[str]:
    return [e["what"] for e in session.events if e["type"] == "record"]


def line_in(session: SimSession, tmp_path: Path, audio: np.ndarray, at: float) -> None:
    write_wav(tmp_path / "in.wav", audio, RATE)
    session.set_line_in(tmp_path / "in.wav", at=at)


def test_the_end_of_the_side_mid_song_closes_cleanly(session: SimSession, tmp_path: Path) -> None:
    c = session.make_cassette("C46", position=1100.0)
    end_of_oxide = c.duration - 2.0
    line_in(session, tmp_path, song(400.0, 4), at=1.0)
    session.run_until(0.5)
    session.press("rec")
    session.run_until(0.8)
    session.press("play")
    session.run_until(320.0)
    p, ev = session.player, session.events
    told = whats(session)
    assert "end_warning" in told and "end_closed" in told
    warned = next(e for e in ev if e.get("what") == "end_warning")
    assert 55 <= end_of_oxide - warned["counter"] <= 61  # a minute before, from the counter
    closed_at = next(e["t"] for e in ev if e.get("what") == "end_closed")
    relay_off = next(e["t"] for e in ev if e["type"] == "pin" and e["role"] == "record_relay"
                     and e["value"] == 0.0)
    motor_off = next(e["t"] for e in ev if e["type"] == "pin" and e["role"] == "motor"
                     and e["value"] == 0.0 and e["t"] >= relay_off)
    assert closed_at < relay_off <= motor_off  # feed faded, then the relay, then the motor
    assert p.deck.state.value == "stopped" and p.deck.fault is None
    assert not any(e["type"] == "safety" for e in ev)  # closed before the tape ran out
    tracks = p.recording.memory.toc.tracks("A")
    assert len(tracks) == 1 and tracks[0].end is not None  # the TOC is complete
    assert end_of_oxide - 3.0 < tracks[0].end <= end_of_oxide
    # the music on the tape fades out: no step where the recording stopped
    pos = session.deck.position
    tape = np.asarray(c.track("A")[int((pos - 3) * RATE):int(pos * RATE)], np.float32)[:, 0]
    last = np.flatnonzero(np.abs(tape) > 0)[-1]
    assert np.abs(tape[last - 48:last + 1]).max() < 0.25 * np.abs(tape[:last - 4800]).max()


def test_rec_mute_leaves_four_seconds_of_silence_then_pauses(
        session: SimSession, tmp_path: Path) -> None:
    c = session.make_cassette("C60", position=100.0)
    line_in(session, tmp_path, song(60.0, 5), at=0.5)
    session.run_until(0.5)
    session.press("rec")
    session.run_until(0.8)
    session.press("play")
    session.run_until(10.0)
    session.press("rec")  # REC MUTE
    muted = session.deck.position
    session.run_until(16.0)
    assert "rec_mute" in whats(session)
    assert session.player.deck.state.value == "record_paused"
    paused_at = next(e["t"] for e in session.events if e.get("state") == "record_paused")
    assert 3.9 <= paused_at - 10.0 <= 4.3
    tape = np.asarray(c.track("A")[int((muted + 0.2) * RATE):int((muted + 3.9) * RATE)],
                      np.float32)
    assert np.abs(tape).max() == 0  # blank (erased) tape, not music
    session.press("play")  # resume: a new track
    session.run_until(22.0)
    assert session.player.deck.state.value == "recording"
    assert len(session.player.recording.memory.toc.tracks("A")) == 2


def test_sync_start_begins_when_the_signal_does(session: SimSession, tmp_path: Path) -> None:
    session.make_cassette("C60", position=100.0)
    line_in(session, tmp_path, np.concatenate([silence(1.0), song(10.0, 6)]), at=5.0)
    session.run_until(0.5)
    session.press("rec", hold=1.2)  # REC held: armed for a sync start
    session.run_until(5.9)
    assert session.player.deck.state.value == "stopped"
    assert whats(session)[:2] == ["armed", "sync_armed"]
    session.run_until(8.0)
    started = next(e["t"] for e in session.events if e.get("state") == "recording")
    assert 6.0 <= started <= 6.1  # the signal began at 6.0
    assert session.player.recording.feed.level.mode == "auto"


def test_vol_while_armed_sets_the_record_level_not_the_volume(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.run_until(0.5)
    volume = session.player.audio.volume
    session.press("rec")
    session.run_until(0.8)
    for _ in range(3):
        session.press("vol_down")
        session.run_for(0.3)
    level = session.player.recording.feed.level
    assert level.mode == "manual" and level.manual_db == -3.0
    assert session.player.audio.volume == volume
    reports = [e for e in session.events if e["type"] == "record_level"]
    assert reports[-1]["mode"] == "manual" and reports[-1]["gain_db"] == -3.0
