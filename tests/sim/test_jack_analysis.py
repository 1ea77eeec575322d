"""The deck's own jack.wav, untrimmed (a muted leader, then what the tape holds), analysed
as a user would: the tracks of a mixtape, and the wow & flutter of a test tone that
`capstan analyze test-tone` wrote and the simulated cassette carried."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from analysis.synth import RATE, song

from capstan.cli import main
from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario
from capstan.wavfile import write_wav


def play(tmp_path: Path, side_a: Path, until: float, extra: str = "") -> Path:
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[cassette]\nlength = "C46"\ntype = "II"\nside_a = "{side_a.name}"\n'
                        f"{extra}[run]\nuntil = {until}\n[[step]]\nat = 1\npress = \"play\"\n")
    report = run_scenario(load_scenario(scenario), tmp_path / "out")
    return Path(report["outputs"]["jack"])


def test_tracks_of_the_decks_own_jack_wav(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(7)
    songs = [6.0, 5.0, 5.0]
    parts = []
    for length in songs:
        parts += [song(length, rng), np.zeros((4 * RATE, 2))]  # 4 s gaps: blank tape
    side = tmp_path / "mix.wav"
    write_wav(side, np.concatenate(parts), RATE)
    jack = play(tmp_path, side, until=1 + 2 + sum(songs) + 8 + 2)
    assert main(["analyze", "tracks", str(jack), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found["tracks"]) == 3
    first = found["tracks"][0]["start"]
    assert 3.0 < first < 3.6  # PLAY at 1 s, then the 2 s leader: the music, not the leader
    for track, length in zip(found["tracks"], songs, strict=True):
        assert track["end"] - track["start"] == pytest.approx(length, abs=0.1)
    for gap in found["gaps"]:  # the Type II tape's hiss (-65 dBFS RMS), never digital zero
        assert -72.0 < gap["hiss_dbfs"] < -60.0


def test_wow_flutter_of_a_test_tone_carried_by_the_cassette(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tone = tmp_path / "test-tone.wav"
    assert main(["analyze", "test-tone", str(tone), "--seconds", "15"]) == 0
    capsys.readouterr()
    jack = play(tmp_path, tone, until=22, extra="flutter = 0.1\n")
    assert main(["analyze", "wow-flutter", str(jack), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert 3.0 < r["tone_start_s"] < 3.8 and 17.5 < r["tone_end_s"] <= 22.0
    assert r["nominal_hz"] == 3150.0
    assert r["wrms_percent"] == pytest.approx(0.1, rel=0.15)
    assert abs(r["speed_error_percent"]) < 0.05
