"""B-type on the simulated deck: a cassette recorded with the encoder over the tape's hiss,
played back through the player's decoder, against the same music recorded plain."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from capstan.audio.noise_reduction import Encoder
from capstan.audio.nr_measure import run_blocks
from capstan.harness.session import SimSession
from capstan.sim.wavfile import read_wav, write_wav

RATE = 48000
VOLUME = 0.7  # the configured default


def _music() -> np.ndarray:
    """14 s of "music" (tones 150 Hz…18 kHz and some breathy noise, moving envelopes, peaks
    near the reference level), 6 s of silence, then 4 s more."""
    rng = np.random.default_rng(7)

    def passage(seconds: float) -> np.ndarray:
        t = np.arange(round(seconds * RATE)) / RATE
        x = np.zeros_like(t)
        for f, a in [(150, 1.0), (440, 0.8), (1200, 0.6), (2500, 0.4), (4500, 0.25),
                     (7000, 0.15), (9000, 0.1), (12000, 0.08), (15000, 0.06), (18000, 0.05)]:
            x += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        x += 0.05 * rng.standard_normal(len(t))
        x *= 0.55 + 0.45 * np.sin(2 * np.pi * 0.7 * t)
        return x * (10 ** (-14 / 20) / np.abs(x).max())

    x = np.concatenate([passage(14.0), np.zeros(6 * RATE), passage(4.0)])
    return np.stack([x, x], axis=1).astype(np.float32)


def _play(tmp: Path, name: str, wav: Path, nr: bool) -> np.ndarray:
    session = SimSession(tmp / name)
    try:
        session.make_cassette("C60", "I", side_a=wav)
        session.start()
        session.player.nr.set(nr, "test")
        session.run_until(1.0)
        session.press("play")
        session.run_until(28.0)
    finally:
        session.close()
    return read_wav(tmp / name / "jack.wav", RATE)[:, 0].astype(float) / VOLUME


def _a_weighting(f: np.ndarray) -> np.ndarray:
    """IEC 61672 A-weighting, as a power ratio."""
    f2 = f**2
    ra = 12194.0**2 * f2**2 / ((f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2))
                               * (f2 + 12194.0**2))
    return (ra / 0.7943) ** 2  # 0 dB at 1 kHz


def _hf_hiss(x: np.ndarray) -> float:
    """A-weighted power above 4 kHz (dB)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = freqs >= 4000
    return 10 * math.log10(float(np.sum(spectrum[band] * _a_weighting(freqs[band]))))


def _bands(x: np.ndarray) -> np.ndarray:
    """Power (dB) in octave bands 125 Hz … 16 kHz."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    edges = 125 * 2.0 ** np.arange(9) / math.sqrt(2)
    return np.array([10 * math.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum())
                     for lo, hi in itertools.pairwise(edges)])


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    tmp = tmp_path_factory.mktemp("nr")
    music = _music()
    plain, encoded = tmp / "plain.wav", tmp / "encoded.wav"
    write_wav(plain, music, RATE)
    # the encoder at the board's reference level: what a mixtape recorded with NR holds
    from capstan.hardware.description import load_board

    reference = load_board().nr.reference_dbfs
    write_wav(encoded, run_blocks(Encoder(RATE, 2, reference), music), RATE)
    return {"source": music[:, 0].astype(float), "off": _play(tmp, "off", plain, False),
            "on": _play(tmp, "on", encoded, True)}


def _silence(x: np.ndarray) -> slice:
    """The 6 s gap of the music as the jack has it: the quietest 4 s."""
    win = RATE // 10
    rms = np.sqrt(np.convolve(x**2, np.ones(win) / win, mode="valid"))
    quiet = rms < 10 ** (-45 / 20)
    start = int(np.argmax(quiet[RATE * 5:])) + RATE * 5 + RATE // 2
    return slice(start, start + 4 * RATE)


def test_hiss_above_4_khz_is_at_least_9_db_lower(played: dict[str, np.ndarray]) -> None:
    gap = _silence(played["off"])
    assert np.sqrt(np.mean(played["off"][gap] ** 2)) < 10 ** (-50 / 20)  # only hiss there
    reduction = _hf_hiss(played["off"][gap]) - _hf_hiss(played["on"][gap])
    assert reduction >= 9.0


def test_music_comes_back_within_1_db_of_the_source(played: dict[str, np.ndarray]) -> None:
    """The decoded music in octave bands 125 Hz … 16 kHz (the last band reaches 22.6 kHz,
    so the whole audible band to 20 kHz is held) against the source and against the same
    music recorded without NR on the same deck."""
    source = _bands(played["source"][2 * RATE:12 * RATE])
    gap = _silence(played["off"]).start
    start = gap - int(13.5 * RATE)  # the music began 14 s before the gap (+ 0.5 s margin)
    on, off = (_bands(played[name][start + RATE:start + 11 * RATE]) for name in ("on", "off"))
    assert len(on) == 8
    assert np.all(np.abs(on - source) <= 1.0), on - source
    assert np.all(np.abs(on - off) <= 1.0), on - off
