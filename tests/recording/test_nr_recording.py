"""A mixtape recorded with B-type NR on: the tape holds the encoded music, and the player's
decoder gives line-in's balance back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from capstan.harness.session import SimSession
from capstan.sim.wavfile import read_wav, write_wav
from recording.music import RATE

LOW, HIGH = 100.0, 6000.0


def _line_in(seconds: float) -> np.ndarray:
    """A loud 100 Hz tone and a quiet 6 kHz one (46 dB under it): treble the encoder lifts
    (the bass, weighted down by the side chain's high-pass, slides the band only so far)."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * LOW * t) + 0.0015 * np.sin(2 * np.pi * HIGH * t)
    return np.stack([x, x], axis=1).astype(np.float32)


def _balance(x: np.ndarray) -> float:
    """dB of the 6 kHz tone over the 100 Hz one."""
    t = np.arange(len(x)) / RATE
    amp = [abs(np.mean(x * np.exp(-2j * np.pi * f * t))) for f in (HIGH, LOW)]
    return float(20 * np.log10(amp[0] / amp[1]))


def test_a_recording_with_nr_is_encoded_and_decodes_back(session: SimSession,
                                                         tmp_path: Path) -> None:
    audio = _line_in(8.0)
    write_wav(tmp_path / "line-in.wav", audio, RATE)
    session.make_cassette("C46", position=0.0)
    session.run_until(0.5)
    p = session.player
    p.nr.set(True, "test")  # before arming: the cassette records with NR
    line_in_at = session.now + 3.0
    session.set_line_in(tmp_path / "line-in.wav", at=line_in_at)
    session.press("rec")
    session.run_for(0.4)
    session.press("play")
    session.run_until(line_in_at + len(audio) / RATE + 1.0)
    session.press("stop")
    session.run_for(1.0)
    assert [e["what"] for e in session.events if e["type"] == "record"][:2] == ["armed",
                                                                                 "started"]
    track = np.asarray(session.deck.cassette.track("A")[: 20 * RATE], np.float32)[:, 0] / 32768
    loud = np.flatnonzero(np.abs(track) > 0.05)
    on_tape = track[loud[0] + 2 * RATE: loud[0] + 6 * RATE]
    source = _balance(audio[:, 0].astype(float))
    assert _balance(on_tape.astype(float)) > source + 1.5  # the quiet treble was lifted
    # play it back with NR on: the decoder takes the lift off again
    session.press("rew")
    session.run_for(1.0)
    while p.deck.state.value == "rewind" and session.now < 200:
        session.run_for(1.0)
    session.press("play")
    played_from = session.now
    session.run_for(12.0)
    session.press("stop")
    session.run_for(0.5)
    session.board.playback.close()
    jack = read_wav(session.out_dir / "jack.wav", RATE)[int(played_from * RATE):, 0]
    heard = np.flatnonzero(np.abs(jack) > 0.03)
    decoded = jack[heard[0] + 2 * RATE: heard[0] + 6 * RATE].astype(float)
    assert abs(_balance(decoded) - source) <= 1.0
