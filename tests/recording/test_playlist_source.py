"""The playlist's play-out: files decoded ahead on a thread, every track in its place."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from capstan.recording import plan as plan_mod
from capstan.recording.plan import PlaylistSource, plan_mixtape
from capstan.sim.wavfile import write_wav
from capstan.wavfile import read_wav, resample

RATE = 48000
BLOCK = 1024


def tones(tmp_path: Path, seconds: list[float]) -> list[Path]:
    out = []
    for i, s in enumerate(seconds):
        t = np.arange(int(s * RATE)) / RATE
        x = (0.2 * np.sin(2 * np.pi * (300 + 200 * i) * t)).astype(np.float32)
        out.append(tmp_path / f"t{i}.wav")
        write_wav(out[-1], np.stack([x, -x], axis=1), RATE)
    return out


def expected(tracks: list[plan_mod.PlannedTrack], frames: int) -> np.ndarray:
    """The side as it should be: silence, and each track at its planned frame and gain."""
    out = np.zeros((frames, 2), np.float32)
    for t in tracks:
        x, _rate = read_wav(t.path)
        at = round(t.start * RATE)
        n = min(len(x), frames - at)
        out[at:at + n] = x[:n] * np.float32(10 ** (t.gain_db / 20))
    return out


def play(source: PlaylistSource, frames: int) -> np.ndarray:
    source.running = True
    return np.concatenate([source.read(BLOCK) for _ in range(-(-frames // BLOCK))])[:frames]


def test_every_track_plays_at_its_place_and_gain(tmp_path: Path) -> None:
    tracks = plan_mixtape(tones(tmp_path, [0.7, 0.5, 0.9]), side_seconds=60.0,
                          gap=0.3).side("A")
    source = PlaylistSource(tracks, RATE, 0.3)
    source._reader._thread.join(10)  # 2.1 s of audio: all of it decoded ahead
    frames = round((tracks[-1].start + 1.2) * RATE)
    got = play(source, frames)
    assert np.abs(got - expected(tracks, frames)).max() < 1e-6
    assert source.late_frames == 0
    source.close()


def test_a_reader_behind_leaves_out_what_came_late_and_keeps_each_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracks = plan_mixtape(tones(tmp_path, [0.6, 0.8, 0.5]), side_seconds=60.0,
                          gap=0.4).side("A")
    stalled, go = threading.Event(), threading.Event()
    chunks = plan_mod._chunks

    def slow_disk(track: plan_mod.PlannedTrack, rate: int, channels: int):
        if track is tracks[1]:  # the disk holds the second file
            stalled.set()
            go.wait(10)
        yield from chunks(track, rate, channels)

    monkeypatch.setattr(plan_mod, "_chunks", slow_disk)
    source = PlaylistSource(tracks, RATE, 0.4)
    assert stalled.wait(10)
    second = round(tracks[1].start * RATE)
    late_until = second + 10 * BLOCK  # the disk answers only ten blocks into the track
    source.running = True
    got = [source.read(BLOCK) for _ in range(-(-late_until // BLOCK))]
    go.set()
    source._reader._thread.join(10)
    frames = round((tracks[-1].start + 0.8) * RATE)
    got.append(play(source, frames - len(got) * BLOCK))
    side = np.concatenate(got)[:frames]
    want = expected(tracks, frames)
    held_up = slice(second, len(got[:-1]) * BLOCK)
    assert not side[held_up].any()  # nothing while the disk held the file
    assert source.late_frames == held_up.stop - held_up.start
    rest = slice(held_up.stop, frames)  # the rest of it, and the next track, in place
    assert np.abs(side[rest] - want[rest]).max() < 1e-6
    assert np.abs(side[:second] - want[:second]).max() < 1e-6
    source.close()


def test_a_file_gone_bad_since_the_plan_is_silence_in_its_place(tmp_path: Path) -> None:
    tracks = plan_mixtape(tones(tmp_path, [0.5, 0.5]), side_seconds=60.0, gap=0.3).side("A")
    tracks[0].path.write_bytes(b"RIFF....WAVEjunk")
    source = PlaylistSource(tracks, RATE, 0.3)
    source._reader._thread.join(10)
    frames = round((tracks[-1].start + 0.6) * RATE)
    got = play(source, frames)
    second = round(tracks[1].start * RATE)
    assert not got[:second].any()
    want = expected(tracks[1:], frames)
    assert np.abs(got[second:] - want[second:]).max() < 1e-6
    source.close()


def test_a_file_at_another_rate_is_resampled_to_the_tape_rate(tmp_path: Path) -> None:
    t = np.arange(int(0.8 * 44100)) / 44100
    x = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    write_wav(tmp_path / "cd.wav", np.stack([x, x], axis=1), 44100)
    tracks = plan_mixtape([tmp_path / "cd.wav"], side_seconds=60.0, gap=0.3).side("A")
    source = PlaylistSource(tracks, RATE, 0.3)
    source._reader._thread.join(10)
    frames = round((tracks[0].start + 1.0) * RATE)
    got = play(source, frames)
    song, rate = read_wav(tracks[0].path)
    want = resample(song, rate, RATE) * np.float32(10 ** (tracks[0].gain_db / 20))
    at = round(tracks[0].start * RATE)
    assert len(want) == round(len(song) * RATE / 44100)
    assert np.abs(got[at:at + len(want)] - want).max() < 1e-6
    assert not got[at + len(want):].any() and not got[:at].any()
    source.close()
