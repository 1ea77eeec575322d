"""Digitizing one file per track, and what a power cut leaves behind."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from capstan.analysis import AnalysisError
from capstan.analysis.digitizer import FlacEncoder, TrackWriter, WavEncoder, recover
from capstan.analysis.tracks import Track
from capstan.wavfile import read_wav

RATE = 48000
FRAME_BYTES = 8  # float32 stereo


def _audio(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, (int(seconds * RATE), 2)).astype(
        np.float32)


def _record(writer: TrackWriter, number: int, audio: np.ndarray, block_s: float = 0.5) -> None:
    writer.start_track(number, tape_time=10.0 * number)
    step = int(block_s * RATE)
    for i in range(0, len(audio), step):
        writer.write(audio[i:i + step])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tracks_become_flac_files_that_read_back(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path, RATE, encoder=FlacEncoder())
    audio = [_audio(1.5, 1), _audio(2.0, 2)]
    for n, a in enumerate(audio, start=1):
        _record(writer, n, a)
        writer.end_track()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01.flac", "02.flac"]
    for n, a in enumerate(audio, start=1):
        back, rate = soundfile.read(tmp_path / f"{n:02d}.flac", dtype="float32")
        assert rate == RATE and back.shape == a.shape
        assert np.max(np.abs(back - a)) < 2 / 8388608  # 24-bit


def test_a_power_cut_mid_track_keeps_finished_tracks_and_what_was_synced(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path, RATE, encoder=WavEncoder(), sync_every_s=1.0)
    for n in (1, 2):
        _record(writer, n, _audio(1.0, n))
        writer.end_track()
    before = {p.name: _digest(p) for p in tmp_path.glob("*.wav")}
    third = _audio(2.5, 3)
    _record(writer, 3, third)  # synced at 1.0 s and 2.0 s, the last 0.5 s only in the cache
    part = tmp_path / "03.pcm.part"
    os.truncate(part, 2 * RATE * FRAME_BYTES + 5)  # the cut: unsynced tail lost, last frame torn
    (tmp_path / "03.wav.tmp").write_bytes(b"RIFF half an encode")  # an encode cut short too

    finished = recover(tmp_path, WavEncoder())

    assert [p.name for p in finished] == ["03.wav"]
    assert {p.name: _digest(p) for p in tmp_path.glob("0[12].wav")} == before
    samples, _ = read_wav(tmp_path / "03.wav")
    assert samples.shape == (2 * RATE, 2)
    assert np.max(np.abs(samples - third[:2 * RATE])) < 2 / 8388608
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01.wav", "02.wav", "03.wav"]


def test_a_cut_after_the_rename_leaves_the_finished_file_alone(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path, RATE, encoder=WavEncoder())
    _record(writer, 1, _audio(1.0, 1))
    writer.end_track()
    done = _digest(tmp_path / "01.wav")
    # As if the cut came between the rename and removing the part files:
    (tmp_path / "01.part.json").write_text('{"number": 1, "sample_rate": 48000, "channels": 2}')
    (tmp_path / "01.pcm.part").write_bytes(b"\0" * 80)
    assert recover(tmp_path, WavEncoder()) == [tmp_path / "01.wav"]
    assert _digest(tmp_path / "01.wav") == done
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01.wav"]


def test_a_part_without_its_sidecar_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "04.pcm.part").write_bytes(b"\0" * 16)
    assert recover(tmp_path, WavEncoder()) == []
    assert list(tmp_path.iterdir()) == []


def test_cue_sheet_from_the_toc(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path, RATE, encoder=WavEncoder())
    cue = writer.write_cue([Track(1, 3.0, 65.25), Track(2, 67.5, 190.0)], title="Side A")
    text = cue.read_text()
    assert 'TITLE "Side A"' in text
    assert text.count("INDEX 01 00:00:00") == 2
    assert 'FILE "02.wav" WAVE\n  TRACK 02 AUDIO\n    REM TAPE_START 67.500' in text
    assert not list(tmp_path.glob("*.tmp"))


def test_writing_before_a_track_starts_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="start_track"):
        TrackWriter(tmp_path, RATE, encoder=WavEncoder()).write(_audio(0.1, 0))
