"""The speaker tee and the jack's meter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capstan.panel.sound import FLOOR_DB, JackTee, LevelMeter, WavSpeaker, open_speaker
from capstan.sim.wavfile import read_wav

RATE = 48000


def sine(peak: float, frames: int = 4800) -> np.ndarray:
    t = np.arange(frames) / RATE
    x = (peak * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    return np.stack([x, x * 0.5], axis=1)


class Jack:
    rate, channels, period, underruns = RATE, 2, 1024, 0

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.closed = False

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(block)

    def close(self) -> None:
        self.closed = True


def test_the_meter_reads_peak_and_rms_in_dbfs() -> None:
    now = [0.0]
    meter = LevelMeter(lambda: now[0])
    meter.feed(sine(0.5))
    assert meter.peak_db[0] == pytest.approx(-6.02, abs=0.05)
    assert meter.rms_db[0] == pytest.approx(-9.03, abs=0.05)
    assert meter.peak_db[1] == pytest.approx(-12.04, abs=0.05)
    now[0] = 0.5  # silence half a second later: the peak falls back, the RMS drops at once
    meter.feed(np.zeros((1024, 2), np.float32))
    assert meter.peak_db[0] == pytest.approx(-6.02 - 12.0, abs=0.05)
    assert meter.rms_db[0] == FLOOR_DB


def test_the_tee_feeds_the_jack_and_the_speaker_silenced_while_muted(tmp_path: Path) -> None:
    jack, muted = Jack(), [False]
    speaker = WavSpeaker(tmp_path / "speaker.wav", RATE)
    tee = JackTee(jack, speaker, LevelMeter(lambda: 0.0), lambda: muted[0])
    tee.write(sine(0.5, 1000))
    muted[0] = True
    tee.write(sine(0.5, 1000))
    tee.close()
    assert len(jack.blocks) == 2 and jack.closed
    heard = read_wav(tmp_path / "speaker.wav", RATE)
    assert len(heard) == 2000
    assert np.abs(heard[:1000]).max() == pytest.approx(0.5, abs=1e-3)
    assert np.abs(heard[1000:]).max() == 0.0


def test_no_sound_card_means_a_wav_file(tmp_path: Path) -> None:
    speaker, words = open_speaker("no-such-card", RATE, 1024, tmp_path / "jack.wav")
    assert isinstance(speaker, WavSpeaker)
    assert str(tmp_path / "jack.wav") in words
    speaker.close()


@pytest.mark.integration
def test_a_real_alsa_device_opens_through_alsa_lib(tmp_path: Path) -> None:
    speaker, words = open_speaker("null", RATE, 1024, tmp_path / "jack.wav")
    try:
        assert "ALSA null" in words
        speaker.write(sine(0.1, 1024))
    finally:
        speaker.close()
    assert not (tmp_path / "jack.wav").exists()
