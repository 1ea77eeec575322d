"""`capstan nr encode|decode` and `capstan analyze nr` on files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from capstan.cli import main
from capstan.wavfile import read_wav, write_wav

RATE = 48000


def _music(path: Path) -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.arange(3 * RATE) / RATE
    x = 0.1 * np.sin(2 * np.pi * 440 * t) + 0.01 * np.sin(2 * np.pi * 6000 * t)
    x = x * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t)) + 0.002 * rng.standard_normal(len(t))
    stereo = np.stack([x, 0.5 * x], axis=1).astype(np.float32)
    write_wav(path, stereo, RATE, bits=24)
    return stereo


def test_encode_then_decode_gives_the_file_back(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    x = _music(tmp_path / "in.wav")
    assert main(["nr", "encode", str(tmp_path / "in.wav"), str(tmp_path / "enc.wav"),
                 "--reference-dbfs", "-12"]) == 0
    assert "encoded" in capsys.readouterr().out
    enc, rate = read_wav(tmp_path / "enc.wav")
    assert rate == RATE and enc.shape == x.shape
    hf = np.fft.rfft(enc[:, 0])[6000 * 3] / np.fft.rfft(x[:, 0])[6000 * 3]
    assert 20 * np.log10(abs(hf)) > 3.0  # the quiet treble was boosted
    assert main(["nr", "decode", str(tmp_path / "enc.wav"), str(tmp_path / "dec.wav"),
                 "--reference-dbfs", "-12"]) == 0
    dec, _ = read_wav(tmp_path / "dec.wav")
    assert np.abs(dec - x).max() < 2e-4  # 24-bit files: the pair is complementary


def test_bad_input_is_refused_with_one_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.wav").write_text("not a wav")
    assert main(["nr", "decode", str(tmp_path / "junk.wav"), str(tmp_path / "o.wav")]) == 2
    err = capsys.readouterr().err.strip()
    assert "junk.wav" in err and len(err.splitlines()) == 1
    _music(tmp_path / "in.wav")
    assert main(["nr", "decode", str(tmp_path / "in.wav"), str(tmp_path / "in.wav")]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main(["nr", "encode", str(tmp_path / "in.wav"), str(tmp_path / "o.wav"),
                 "--reference-dbfs", "3"]) == 2
    assert "--reference-dbfs" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


def test_analyze_nr_prints_the_static_curves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "nr", "--json", "--reference-dbfs", "-12"]) == 0
    out = json.loads(capsys.readouterr().out)
    table = np.array(out["boost_db"])
    levels, freqs = out["levels_db"], out["freqs_hz"]
    assert levels[0] == -60.0 and levels[-1] == 0.0 and 5000.0 in freqs
    assert abs(table[0, freqs.index(5000.0)] - 10.0) <= 1.0  # full boost at low level
    assert abs(table[-1, freqs.index(5000.0)]) <= 1.0  # none at reference level
    assert main(["analyze", "nr"]) == 0
    text = capsys.readouterr().out
    assert "static response" in text and len(text.splitlines()) == 2 + len(levels)
