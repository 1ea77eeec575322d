"""The player's B-type switch on the simulated deck: the PAIR+PLAY chord, the cassette's
memory, refusals while recording, and the 400 Hz reference-level calibration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from capstan.audio.nr_switch import OFF_FLASH, ON_FLASH, STATE_NAME, NoiseReductionSwitch
from capstan.cassettes import MemoryStore
from capstan.harness.session import SimSession
from capstan.intelligence.events import CassetteKnown
from capstan.sim.wavfile import write_wav

RATE = 48000




def _chord(session: SimSession) -> list[tuple[Any, float]]:
    """PAIR held, PLAY pressed; returns the status LED's flashes meanwhile."""
    led = session.player.led_players["status"]
    flashes: list[tuple[Any, float]] = []
    real = led.flash
    led.flash = lambda pattern, seconds: (flashes.append((pattern, seconds)),  # type: ignore
                                          real(pattern, seconds))
    try:
        session.press("pair", hold=0.6)
        session.run_for(0.2)
        session.press("play")
        session.run_for(1.0)
    finally:
        led.flash = real  # type: ignore[method-assign]
    return flashes


def test_pair_play_switches_nr_and_the_cassette_remembers(tmp_path: Path) -> None:
    session = SimSession(tmp_path / "s")
    try:
        session.make_cassette("C60", "I")
        session.start()
        session.run_for(1.0)
        led = _chord(session)
        player = session.player
        assert player.audio.nr_on and player.status()["nr"]["on"] is True
        assert player.deck.state.value == "stopped"  # PLAY's own press was not made
        assert player.cassettes.extra["nr"] is True
        assert led == [ON_FLASH]  # two slow blinks of the status LED
        led = _chord(session)
        assert led == [OFF_FLASH]  # one
        assert not player.audio.nr_on and player.cassettes.extra["nr"] is False
        changes = [e for e in session.events if e["type"] == "noise_reduction"]
        assert [(e["on"], e["reason"]) for e in changes] == [(True, "button"), (False, "button")]
        # a recognized cassette brings its own setting back
        player.cassettes.extra["nr"] = True
        player.bus.publish(CassetteKnown("recognized", "c1"))
        session.run_for(0.1)
        assert player.audio.nr_on
        assert session.events[-1]["type"] == "noise_reduction"
        assert session.events[-1]["reason"] == "cassette"
    finally:
        session.close()


def test_nr_cannot_change_while_recording(tmp_path: Path) -> None:
    session = SimSession(tmp_path / "s")
    try:
        session.make_cassette("C60", "I")
        session.start()
        session.run_for(1.0)
        session.press("rec", hold=0.5)
        session.run_for(0.1)
        session.press("play")
        session.run_for(1.0)
        assert session.player.deck.state.value == "recording"
        _chord(session)
        assert not session.player.audio.nr_on
        refused = [e for e in session.events if e["type"] == "refused"]
        assert refused and refused[-1]["action"] == "noise_reduction"
    finally:
        session.close()


def test_recording_with_nr_encodes_the_feed(tmp_path: Path) -> None:
    session = SimSession(tmp_path / "s")
    try:
        session.make_cassette("C60", "I")
        session.start()
        session.player.nr.set(True, "test")
        assert session.player.recording.feed.encoder is not None
        session.player.nr.set(False, "test")
        assert session.player.recording.feed.encoder is None
    finally:
        session.close()


def test_a_400_hz_tone_at_reference_flux_calibrates_the_mechanism(tmp_path: Path) -> None:
    t = np.arange(8 * RATE) / RATE
    tone = 10 ** (-10.0 / 20) * np.sin(2 * np.pi * 400 * t)
    write_wav(tmp_path / "cal.wav", np.stack([tone, tone], axis=1).astype(np.float32), RATE)
    session = SimSession(tmp_path / "s")
    store = MemoryStore()
    try:
        session.make_cassette("C60", "I", side_a=tmp_path / "cal.wav", speed_error=0.01)
        player = session.player
        player.nr = NoiseReductionSwitch(player.nr.port, store)
        session.start()
        assert abs(player.nr.reference_dbfs - player.board.description.nr.reference_dbfs) < 1e-9
        session.run_for(1.0)
        session.press("play")
        session.run_for(9.0)
        notes = [e for e in session.events if e.get("what") == "nr_calibrated"]
        assert len(notes) == 1
        assert abs(player.nr.reference_dbfs - (-10.0)) < 0.2
        assert abs(player.audio.nr.reference_dbfs - player.nr.reference_dbfs) < 1e-9
        saved = store.data[STATE_NAME]["reference"]
        assert abs(saved["reference_dbfs"] - player.nr.reference_dbfs) < 0.01
        # the next start of the player takes the mechanism's calibration back
        again = NoiseReductionSwitch(player.nr.port, store)
        assert again.calibrated and abs(again.reference_dbfs - saved["reference_dbfs"]) < 1e-9
    finally:
        session.close()
