"""WAVs: what is not a PCM WAV is refused up front (exit 2, naming the file, nothing
written), and no WAV is ever written with a header that disagrees with its data."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from badwav import BAD, good, write_bad
from hypothesis import given
from hypothesis import strategies as st

from capstan.cli import main
from capstan.wavfile import MAX_DATA, WavError, WavWriter, header, probe_wav, read_wav, write_wav


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", ["tracks", "wow-flutter"])
def test_a_bad_wav_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           name: str, command: str) -> None:
    path = write_bad(tmp_path, name)
    assert main(["analyze", command, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and BAD[name][1] in err, err
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_directory_is_not_a_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "tracks", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@given(cut=st.integers(0, 10_000))
def test_property_a_truncated_wav_is_refused(tmp_path_factory: pytest.TempPathFactory,
                                             cut: int) -> None:
    d = tmp_path_factory.mktemp("cut")
    whole = good(d / "whole.wav", seconds=0.05).read_bytes()  # 44 + 9600 bytes
    part = d / "part.wav"
    part.write_bytes(whole[: min(cut, len(whole) - 1)])
    with pytest.raises(WavError, match=str(part)):
        read_wav(part)


@given(bits=st.sampled_from([16, 24]), channels=st.integers(1, 8),
       rate=st.sampled_from([8000, 44100, 48000, 96000]), frames=st.integers(1, 500))
def test_property_what_is_written_reads_back(tmp_path_factory: pytest.TempPathFactory,
                                             bits: int, channels: int, rate: int,
                                             frames: int) -> None:
    path = tmp_path_factory.mktemp("rt") / "x.wav"
    x = np.random.default_rng(frames).uniform(-0.9, 0.9, (frames, channels))
    write_wav(path, x, rate, bits=bits)
    info = probe_wav(path)
    assert (info.rate, info.channels, info.bits, info.frames) == (rate, channels, bits, frames)
    back, got_rate = read_wav(path)
    assert got_rate == rate and np.max(np.abs(back - x)) <= 1 / (1 << (bits - 1))
    with wave.open(str(path)) as w:  # the standard library agrees with the header
        assert (w.getnframes(), w.getnchannels(), w.getframerate()) == (frames, channels, rate)


def test_no_header_is_written_for_more_than_a_wav_holds() -> None:
    frames = MAX_DATA // 4 + 1
    with pytest.raises(WavError, match="do not fit in a WAV"):
        header(frames, 48000, 2)
    assert len(header(MAX_DATA // 4, 48000, 2)) == 44


def test_the_streaming_writer_goes_on_in_a_new_file_at_the_limit(tmp_path: Path) -> None:
    # the same rule as at 4 GiB, with a limit of 1000 frames (4000 bytes)
    w = WavWriter(tmp_path / "jack.wav", 48000, max_data=4000)
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (2500, 2)).astype(np.float32)
    for block in np.array_split(x, 7):
        w.write(block)
    w.close()
    assert [p.name for p in w.paths] == ["jack.wav", "jack-2.wav", "jack-3.wav"]
    assert w.frames == 2500
    parts = [read_wav(p)[0] for p in w.paths]
    assert [len(p) for p in parts] == [1000, 1000, 500]
    assert np.max(np.abs(np.concatenate(parts) - x)) <= 1 / 32768
    for p in w.paths:
        with wave.open(str(p)) as r:
            assert r.getnframes() * 4 + 44 == p.stat().st_size


def test_wave_format_extensible_pcm_is_read(tmp_path: Path) -> None:
    import struct
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 2, 48000, 48000 * 6, 6, 24, 22, 24, 3) + guid
    samples = (np.arange(12, dtype=np.int32) * 1000).astype("<i4")
    data = samples.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    path = tmp_path / "ext.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    x, rate = read_wav(path)
    assert rate == 48000 and x.shape == (6, 2)
    assert np.allclose(x.ravel(), samples / 8388608)


def test_the_digitizers_wav_has_a_right_header(tmp_path: Path) -> None:
    from capstan.analysis.digitizer import WavEncoder

    sink = WavEncoder().open(tmp_path / "01.wav", 48000, 2)
    x = np.random.default_rng(2).uniform(-0.9, 0.9, (3000, 2)).astype(np.float32)
    for block in np.array_split(x, 5):
        sink.write(block)
    sink.close()
    info = probe_wav(tmp_path / "01.wav")
    assert (info.bits, info.channels, info.frames) == (24, 2, 3000)
    with wave.open(str(tmp_path / "01.wav")) as r:
        assert r.getnframes() == 3000 and r.getsampwidth() == 3
    assert np.max(np.abs(read_wav(tmp_path / "01.wav")[0] - x)) <= 1 / 8388608
