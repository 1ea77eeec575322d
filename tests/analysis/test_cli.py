"""`capstan analyze wow-flutter|tracks FILE.wav [--json]` as a user runs them."""

import json
from pathlib import Path

import numpy as np
import pytest

from capstan.cli import main
from capstan.wavfile import read_wav, write_wav

from .synth import RATE, fm_tone, mixtape


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wav") / "tone.wav"
    tone = fm_tone([(0.002, 4.0, 0.0)], seconds=10.0, speed_error=0.01)
    write_wav(path, np.stack([tone, tone], axis=1), RATE, bits=24)
    return path


def test_wow_flutter_json(tone_wav: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "wow-flutter", str(tone_wav), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frequency_hz"] == pytest.approx(3181.5, abs=0.05)
    assert out["speed_error_percent"] == pytest.approx(1.0, abs=0.01)
    assert out["weighted_peak_percent"] == pytest.approx(0.2 * 0.9969, rel=0.01)
    assert out["wrms_percent"] == pytest.approx(0.2 / np.sqrt(2), rel=0.01)


def test_wow_flutter_text(tone_wav: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "wow-flutter", str(tone_wav)]) == 0
    out = capsys.readouterr().out
    assert "speed error" in out and "+1.000 %" in out and "WRMS" in out


def test_tracks_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio, truth = mixtape([(6.0, 2.0), (5.0, 3.0), (4.0, 0.0)])
    path = tmp_path / "tape.wav"
    write_wav(path, audio, RATE)
    assert main(["analyze", "tracks", str(path), "--json"]) == 0
    tracks = json.loads(capsys.readouterr().out)["tracks"]
    got = [edge for t in tracks for edge in (t["start"], t["end"])]
    assert got == pytest.approx([edge for pair in truth for edge in pair], abs=0.02)
    assert main(["analyze", "tracks", str(path)]) == 0
    assert capsys.readouterr().out.count("track ") == 3


def test_unreadable_file_says_what_to_do(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "not.wav"
    path.write_bytes(b"not a wav")
    assert main(["analyze", "tracks", str(path)]) == 2
    assert "16- or 24-bit PCM WAV" in capsys.readouterr().err


def test_wav_round_trip_16_and_24_bit(tmp_path: Path) -> None:
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (1000, 2))
    for bits, tolerance in ((16, 1 / 32768), (24, 1 / 8388608)):
        write_wav(tmp_path / "x.wav", x, 44100, bits=bits)
        back, rate = read_wav(tmp_path / "x.wav")
        assert rate == 44100 and back.shape == (1000, 2)
        assert np.max(np.abs(back - x)) <= tolerance
