"""The live meter starts by itself on a test tone; a measured speed error trims the motor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capstan.wavfile import write_wav

from .deckside import of, session

RATE = 48000


def _test_tape(path: Path, seconds: float = 40.0, hz: float = 3150.0) -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = 0.3 * np.sin(2 * np.pi * hz * t)
    write_wav(path, np.stack([tone, tone], axis=1).astype(np.float32), RATE)
    return path


def test_the_meter_reads_the_flutter_and_the_trim_corrects_the_speed(tmp_path: Path) -> None:
    s = session(tmp_path)
    s.make_cassette("C60", "I", side_a=_test_tape(tmp_path / "tone.wav"), speed_error=0.01,
                    flutter=0.1)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(14.0)
        started = of(s, "wow_flutter", what="started")
        assert started and started[0]["tone_hz"] == 3150.0
        trims = of(s, "speed_trim")
        assert len(trims) >= 1
        assert abs(trims[0]["measured_error_percent"] - 1.0) < 0.05
        first = [e for e in of(s, "wow_flutter", what="reading") if e["t"] < trims[0]["t"]]
        # the simulator's flutter: 0.1 % WRMS at 4 Hz, where the weighting is 0 dB
        assert 0.09 <= first[-1]["wrms_percent"] <= 0.11
        s.run_for(14.0)
        after = [e for e in of(s, "wow_flutter", what="reading") if e["t"] > s.now - 3]
        assert after and all(abs(e["speed_error_percent"]) < 0.05 for e in after)
        trim = s.player.mechanism.speed_trim
        assert abs((1 + trim) * 1.01 - 1) < 0.0005  # the tape moves at nominal speed now
        status = s.player.status()["tape"]
        assert status["wow_flutter"]["frequency_hz"] > 3100
        assert abs(status["azimuth"]["correlation"] - 1.0) < 0.01  # same tone both sides
        assert abs(status["speed_trim_percent"] - trim * 100) < 1e-3
    finally:
        s.close()


def test_the_trim_is_kept_for_the_deck(tmp_path: Path) -> None:

    state = tmp_path / "state"
    s = session(tmp_path / "one", state=state)
    s.make_cassette("C60", "I", side_a=_test_tape(tmp_path / "tone.wav", 20.0), speed_error=-0.008)
    try:
        s.run_until(0.5)
        s.press("play")
        s.run_for(12.0)
        trim = s.player.mechanism.speed_trim
        assert trim > 0.007
    finally:
        s.close()
    again = session(tmp_path / "two", state=state)
    again.make_cassette("C60", "I")
    try:
        again.run_until(0.5)
        assert again.player.mechanism.speed_trim == trim
    finally:
        again.close()
