"""Every scenario under examples/ parses, and the demo mixtape plays with sound at the jack."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_parses(path: Path) -> None:
    load_scenario(path)


def test_the_demo_mixtape_plays_music_to_the_jack(tmp_path: Path) -> None:
    report = run_scenario(load_scenario(EXAMPLES / "demo-mixtape.toml"), tmp_path)
    states = [e["state"] for e in report["events"] if e["type"] == "transport"]
    assert states == ["stopped", "playing", "fast_forward", "rewind", "playing", "stopped"]
    with wave.open(report["outputs"]["jack"]) as w:
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2) / 32768
    assert len(audio) / rate == pytest.approx(120, abs=0.1)
    music = audio[int(5 * rate):int(30 * rate)]
    silence = audio[int(0.2 * rate):int(0.8 * rate)]  # before PLAY: muted, tape still
    assert np.sqrt(np.mean(music ** 2)) > 0.03
    assert np.sqrt(np.mean(silence ** 2)) < 1e-3
