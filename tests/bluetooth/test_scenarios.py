"""The whole player in simulated time with Bluetooth headphones (capstan sim's path).

The firmware's HeadphonesService runs against a private dbus-daemon, the BlueZ
mock and real BlueALSA (capstan.harness.world); the user's hands press the
simulated panel. Nothing here waits on the wall clock for its logic.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario
from capstan.harness.session import SimSession
from capstan.sim.wavfile import read_wav, write_wav

pytestmark = pytest.mark.integration

CANS = "00:1B:66:0A:0B:0C"
STRANGER = "66:55:44:33:22:11"
RATE = 48000
TONE = 1000.0


def tone_cassette(session: SimSession, tmp_path: Path) -> None:
    t = np.arange(int(RATE * 40)) / RATE
    wav = tmp_path / "tone.wav"
    write_wav(wav, (0.25 * np.sin(2 * np.pi * TONE * t)).astype(np.float32), RATE)
    session.make_cassette("C46", side_a=wav)


def bluetooth(session: SimSession, what: str) -> list[dict]:
    return [e for e in session.events if e["type"] == "bluetooth" and e["what"] == what]


def test_pair_hold_pairs_connects_plays_on_the_headphones_and_a_drop_pauses(tmp_path) -> None:
    session = SimSession(tmp_path / "out")
    try:
        tone_cassette(session, tmp_path)
        wav = session.add_headphones([{"name": "Cans", "address": CANS, "pairing_at": 1.0}])
        assert wav is not None
        session.at(0.5, lambda: session.press("play"))
        session.at(2.0, lambda: session.press("pair", hold=2.5))
        session.run_until(4.5)
        assert session.player.headphones.status()["pairing"]  # the window is open, LED blinks
        assert session.player.led_players["bt"].pattern.kind == "blink"
        session.run_until(12.0)
        assert [e["address"] for e in bluetooth(session, "paired")] == [CANS]
        assert [e["address"] for e in bluetooth(session, "connected")] == [CANS]
        assert session.player.audio.outputs.active == "bluetooth"
        assert session.player.led_players["bt"].pattern.level(0) == 1.0  # steady
        session.at(12.0, lambda: session.bluetooth.drop_link(CANS))
        session.run_until(13.0)
        assert [e["address"] for e in bluetooth(session, "disconnected")] == [CANS]
        assert session.player.audio.outputs.active == "jack"
        assert session.player.deck.state.value == "paused"  # the tape does not play on unheard
        connected_at = bluetooth(session, "connected")[0]["t"]
    finally:
        session.close()
    heard = read_wav(wav, RATE)[:, 0].astype(np.float64)
    on = heard[int((connected_at + 1.0) * RATE):int((connected_at + 4.0) * RATE)]
    spectrum = np.abs(np.fft.rfft(on * np.hanning(len(on))))
    peak = (np.argmax(spectrum[1:]) + 1) * RATE / len(on)
    assert abs(peak - TONE) < 10.0, f"the headphones heard {peak:.0f} Hz"
    assert np.sqrt(np.mean(on**2)) > 0.02  # the tone, not silence
    assert len(heard) / RATE < 12.2  # nothing was sent to them after the link dropped at 12 s


def test_a_stranger_without_pair_is_refused_and_never_connected(tmp_path) -> None:
    session = SimSession(tmp_path / "out")
    try:
        session.add_headphones([{"name": "Cans", "address": CANS, "pairing_at": 1.0}])
        for i in range(5):
            session.at(2.0 + i, lambda: session.bluetooth.stranger(STRANGER))
        session.run_until(10.0)
        refused = bluetooth(session, "refused")
        assert len(refused) >= 5 and {e["address"] for e in refused} == {STRANGER}
        assert not bluetooth(session, "paired") and not bluetooth(session, "connected")
        assert session.player.audio.outputs.active == "jack"
        assert session.player.headphones.status()["known"] == []
    finally:
        session.close()


def test_the_example_scenario_reports_bluetooth_events_and_the_wav(tmp_path) -> None:
    example = Path(__file__).parents[2] / "examples" / "bluetooth-pairing.toml"
    runs = [run_scenario(load_scenario(example), tmp_path / f"run{i}") for i in range(2)]
    events = [[e for e in r["events"] if e["type"] in ("bluetooth", "audio_output")]
              for r in runs]
    assert [e["what"] for e in events[0] if e["type"] == "bluetooth"] == [
        "paired", "connected", "disconnected"]  # the scenario drops the link at 14 s
    states = [e["state"] for e in runs[0]["events"] if e["type"] == "transport"]
    assert states[-1] == "paused" and runs[0]["final"]["transport"] == "paused"
    assert events[0] == events[1]  # deterministic, daemons and all
    assert Path(runs[0]["outputs"]["bluetooth"]).stat().st_size > 44
    json.dumps(runs[0])  # the report is JSON
