"""Recordings as they come off the deck, untrimmed: a muted leader of digital silence,
hiss that is the tape's, a test tone somewhere in the middle. The analysis finds the
tape's hiss floor and the tone's stretch by itself; `capstan analyze test-tone` writes
the tone to record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capstan.analysis import AnalysisError
from capstan.analysis.flutter import find_test_tone, measure_wow_flutter
from capstan.analysis.tracks import detect_tracks, quietest_tape_dbfs
from capstan.cli import main
from capstan.wavfile import probe_wav, read_wav, write_wav

from .synth import RATE, at_dbfs, expected_weighted, fm_tone, mixtape, song

LAYOUT = [(12.0, 4.0), (10.0, 4.0), (8.0, 4.0), (9.0, 0.0)]


def with_leader(audio: np.ndarray, seconds: float) -> np.ndarray:
    return np.concatenate([np.zeros((int(seconds * RATE), 2), np.float32), audio])


@pytest.mark.parametrize("leader_s", [0.0, 2.0, 5.0])
@pytest.mark.parametrize("hiss", [-65.0, -50.0, -75.0])
def test_a_muted_leader_and_music_first_find_every_track(leader_s: float, hiss: float) -> None:
    audio, truth = mixtape(LAYOUT, hiss_dbfs=hiss, lead_s=0.0)
    tracks, marks = detect_tracks(with_leader(audio, leader_s), RATE)
    assert [edge for t in tracks for edge in (t.start, t.end)] == pytest.approx(
        [edge + leader_s for pair in truth for edge in pair], abs=0.02)
    assert [m.hiss_dbfs for m in marks] == pytest.approx([hiss] * 3, abs=1.5)


def test_the_floor_is_the_tapes_not_digital_zero() -> None:
    audio, _ = mixtape(LAYOUT, hiss_dbfs=-65.0, lead_s=0.0)
    assert quietest_tape_dbfs(with_leader(audio, 5.0), RATE) == pytest.approx(-65, abs=1.0)
    assert quietest_tape_dbfs(np.zeros((RATE, 2)), RATE) is None


def test_a_gap_of_digital_silence_between_songs_is_a_gap_not_the_floor() -> None:
    rng = np.random.default_rng(3)
    hiss = at_dbfs(rng.normal(size=(RATE * 4, 2)), -62.0)
    parts = [song(8, rng), hiss, song(6, rng), np.zeros((RATE * 3, 2)), song(6, rng),
             hiss, song(5, rng)]
    tracks, marks = detect_tracks(np.concatenate(parts).astype(np.float32), RATE)
    assert len(tracks) == 4
    assert all(m.hiss_dbfs > -70 for m in marks)  # never -200 dBFS from the zeros


@settings(max_examples=12)
@given(leader=st.floats(0, 8), hiss=st.floats(-75, -50), seed=st.integers(0, 50))
def test_property_every_track_after_any_muted_leader(leader: float, hiss: float,
                                                     seed: int) -> None:
    audio, truth = mixtape([(6.0, 3.0), (5.0, 2.5), (4.0, 0.0)], hiss_dbfs=hiss, lead_s=0.0,
                           seed=seed)
    tracks, _ = detect_tracks(with_leader(audio, leader), RATE)
    assert len(tracks) == len(truth)
    assert tracks[0].start == pytest.approx(truth[0][0] + leader, abs=0.05)


def untrimmed(tone: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Digital silence, tape hiss, the tone, the hiss again and some music after it."""
    rng = np.random.default_rng(seed)
    hiss = at_dbfs(rng.normal(size=(RATE * 2, 2)), -62.0)
    stereo = np.stack([tone, tone], axis=1)
    parts = [np.zeros((int(RATE * 1.5), 2)), hiss, stereo, hiss, song(4.0, rng)]
    start = 3.5
    return np.concatenate(parts), start, start + len(tone) / RATE


@pytest.mark.parametrize("tone_hz, speed", [(3150.0, 0.01), (3000.0, -0.02), (3150.0, 0.0)])
def test_wow_flutter_finds_the_tone_in_an_untrimmed_recording(tone_hz: float,
                                                              speed: float) -> None:
    flutter = [(0.002, 4.0, 0.0)]
    tone = fm_tone(flutter, seconds=12.0, tone_hz=tone_hz, speed_error=speed)
    recording, start, end = untrimmed(tone)
    got_start, got_end, nominal = find_test_tone(recording, RATE)
    assert nominal == tone_hz
    assert start <= got_start <= start + 0.2 and end - 0.2 <= got_end <= end
    r = measure_wow_flutter(recording, RATE)
    peak, wrms = expected_weighted(flutter)
    assert r.speed_error_percent == pytest.approx(speed * 100, abs=0.01)
    assert r.wrms_percent == pytest.approx(wrms, rel=0.02)
    assert r.weighted_peak_percent == pytest.approx(peak, rel=0.02)


def test_no_tone_anywhere_says_so() -> None:
    rng = np.random.default_rng(1)
    recording = np.concatenate([np.zeros((RATE, 2)), song(8.0, rng)])
    with pytest.raises(AnalysisError, match="no 3150 Hz or 3000 Hz test tone"):
        measure_wow_flutter(recording, RATE)


def test_the_cli_reads_an_untrimmed_recording(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    recording, start, end = untrimmed(fm_tone([(0.001, 10.0, 0.0)], seconds=10.0,
                                              speed_error=0.005))
    path = tmp_path / "untrimmed.wav"
    write_wav(path, recording, RATE, bits=24)
    assert main(["analyze", "wow-flutter", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["speed_error_percent"] == pytest.approx(0.5, abs=0.01)
    assert start <= out["tone_start_s"] <= start + 0.2 and end - 0.2 <= out["tone_end_s"] <= end


def test_test_tone_writes_a_tone_that_reads_clean(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "test-tone.wav"
    assert main(["analyze", "test-tone", str(path), "--seconds", "12"]) == 0
    assert "3150 Hz" in capsys.readouterr().out
    info = probe_wav(path)
    assert (info.rate, info.channels, info.bits, info.frames) == (48000, 2, 16, 12 * 48000)
    x, _ = read_wav(path)
    assert np.max(np.abs(x)) == pytest.approx(10 ** (-10 / 20), abs=1e-3)
    assert abs(x[0, 0]) < 1e-3 and abs(x[-1, 0]) < 1e-3  # faded: no click
    assert main(["analyze", "wow-flutter", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frequency_hz"] == pytest.approx(3150.0, abs=0.01)
    assert out["wrms_percent"] < 0.002 and out["tone_start_s"] == 0.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test-tone.wav"]


def test_test_tone_3000_and_44100(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    assert main(["analyze", "test-tone", str(path), "--hz", "3000", "--rate", "44100",
                 "--seconds", "10", "--level", "-20"]) == 0
    x, rate = read_wav(path)
    assert rate == 44100 and len(x) == 441000
    assert measure_wow_flutter(x, rate).frequency_hz == pytest.approx(3000.0, abs=0.01)


@pytest.mark.parametrize("case", ["exists", "directory", "no_parent"])
def test_test_tone_refuses_and_alters_nothing(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              case: str) -> None:
    path = tmp_path / "t.wav"
    if case == "exists":
        path.write_bytes(b"mine")
    elif case == "directory":
        path.mkdir()
    else:
        path = tmp_path / "nowhere" / "t.wav"
    before = sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir())
    assert main(["analyze", "test-tone", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and err.count("\n") == 1
    assert sorted((p.name, p.is_dir() or p.read_bytes()) for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("option, value", [("--hz", "nan"), ("--hz", "0"), ("--seconds", "-5"),
                                           ("--seconds", "1e9"), ("--level", "3"),
                                           ("--rate", "22050")])
def test_test_tone_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       option: str, value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "test-tone", str(tmp_path / "t.wav"), option, value])
    assert exc.value.code == 2 and option in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
