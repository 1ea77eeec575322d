"""End to end on the simulated deck: a tone on tape reaches the jack WAV clean and click-free."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario
from capstan.harness.session import SimSession
from capstan.sim.cassette import HISS_DBFS
from capstan.sim.wavfile import read_wav, write_wav

from .fakes import RATE, largest_step

TONE_DBFS = -12.0  # peak level of the tone on tape
VOLUME = 0.7  # the configured default
NATURAL = VOLUME * 10 ** (TONE_DBFS / 20) * 2 * math.pi * 1000 / RATE
CLICK = 1.3 * NATURAL  # stated threshold: no sample-to-sample step beyond 1.3× the tone's own


def _tone_wav(path: Path, seconds: float) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    write_wav(path, (10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32),
              RATE)
    return path


def _analyse(x: np.ndarray) -> tuple[float, float]:
    """(frequency of the strongest tone in Hz, its SNR in dB against everything else)."""
    w = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * w)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[freqs < 10] = 0  # DC and the rumble below the audio band are not noise here
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1:k + 2])
    peak = k + 0.5 * (a - c) / (a - 2 * b + c)
    df = freqs[1]
    tone = (freqs > (peak - 3) * df) & (freqs < (peak + 3) * df)
    return peak * df, 10 * math.log10(spectrum[tone].sum() / spectrum[~tone].sum())


@pytest.mark.parametrize("tape", ["I", "II"])
def test_a_tone_on_tape_reaches_the_jack(tmp_path: Path, tape: str) -> None:
    _tone_wav(tmp_path / "tone.wav", 40.0)
    speed_error = 0.01
    scenario = tmp_path / "tone.toml"
    scenario.write_text(
        f'[cassette]\nlength = "C60"\ntype = "{tape}"\nside_a = "tone.wav"\n'
        f"speed_error = {speed_error}\n\n[run]\nuntil = 32.0\n\n"
        '[[step]]\nat = 1.0\npress = "play"\n')
    report = run_scenario(load_scenario(scenario), tmp_path / "out")
    jack = read_wav(Path(report["outputs"]["jack"]), RATE)
    assert len(jack) >= 31 * RATE
    x = jack[3 * RATE:31 * RATE, 0].astype(float)  # 28 s of steady play
    freq, snr = _analyse(x)
    assert freq == pytest.approx(1000 * (1 + speed_error), abs=0.1)
    tone_rms_dbfs = TONE_DBFS - 10 * math.log10(2)
    allowed = tone_rms_dbfs - HISS_DBFS[tape]  # what the simulated tape allows
    assert snr > allowed - 1.0
    level = 20 * math.log10(np.sqrt(np.mean(x**2)) * math.sqrt(2) / VOLUME)
    assert level == pytest.approx(TONE_DBFS, abs=0.1)  # Type II corrected back to flat
    assert largest_step(jack) < CLICK
    eq = [e for e in report["events"] if e["type"] == "tape_eq"]
    assert (eq[-1]["time_constant_us"] if eq else 120) == (70 if tape == "II" else 120)


def test_no_clicks_around_transport_changes_and_output_switches(tmp_path: Path) -> None:
    from capstan.sim.board import SimPlayback

    session = SimSession(tmp_path / "s")
    try:
        session.make_cassette("C60", "II", side_a=_tone_wav(tmp_path / "tone.wav", 60.0))
        deck, chain = session.deck, session.player.audio
        cans = SimPlayback(deck, session.loop, session.period, tmp_path / "bt.wav",
                           feeds_record_head=False, dac_pin=None)
        t = 1.0
        for button in ("play", "stop", "play", "ff", "stop", "rew", "stop", "play", "play",
                       "play", "stop", "play"):
            session.run_until(t)
            session.press(button)
            t += 1.7
        session.run_until(t)
        chain.outputs.add("bluetooth", cans)
        chain.select_output("bluetooth")
        session.run_until(t + 1.0)
        chain.select_output("jack")
        session.run_until(t + 2.0)
        chain.select_output("bluetooth")
        session.run_until(t + 3.0)
        chain.outputs.remove("bluetooth")
        session.run_until(t + 4.0)
        states = [e["state"] for e in session.events if e["type"] == "transport"]
        outputs = [e["output"] for e in session.events if e["type"] == "audio_output"]
    finally:
        session.close()
        cans.close()
    assert {"playing", "stopped", "fast_forward", "rewind"} <= set(states)
    assert outputs == ["bluetooth", "jack", "bluetooth", "jack"]
    jack, bt = read_wav(tmp_path / "s" / "jack.wav", RATE), read_wav(tmp_path / "bt.wav", RATE)
    assert np.abs(jack).max() > 0.15 and np.abs(bt).max() > 0.15  # both played the tone
    assert largest_step(jack) < CLICK
    assert largest_step(bt) < CLICK
