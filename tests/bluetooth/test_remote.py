"""The headphones as a remote, and their absolute volume, on the whole simulated player.

The test plays bluetoothd: on the private bus of the BlueZ mock it finds the player
the firmware registered with Media1.RegisterPlayer and calls its MPRIS methods as
BlueZ's AVRCP target does for a headphone's PASS THROUGH press; it follows the
PropertiesChanged and Seeked signals BlueZ would follow. Simulated time throughout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dbus_fast import Message, MessageType

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import call, plain
from capstan.deck.toc import TrackList
from capstan.harness.bluez.mock import HCI
from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario
from capstan.harness.session import SimSession
from capstan.sim.wavfile import write_wav

pytestmark = pytest.mark.integration

CANS = "00:1B:66:0A:0B:0C"
RATE = 48000
LEADER = 2.0
SECOND_TRACK = LEADER + 15.0  # the tape: tone 12 s, silence 3 s, tone 12 s, silence, tone


class BlueZSide:
    """What bluetoothd sees of the player: its registration, its signals; and its calls."""

    def __init__(self, s: SimSession) -> None:
        self.s, self.radio = s, s.bluetooth.radio
        self.owner = s.bluetooth.firmware_bus.unique_name
        self.signals: list[tuple[str, Any]] = []
        self.radio.add_message_handler(self._signal)
        self.run(call(self.radio, defs.DBUS, defs.DBUS_PATH, defs.DBUS, "AddMatch", "s",
                      [f"type='signal',sender='{self.owner}'"]))
        (players,) = self.run(self.s.bluetooth.mock.mock("Players", "s", [HCI]), raw=True)
        self.registered = {path: plain(props) for path, props in players.items()}
        self.path = next(iter(self.registered))

    def run(self, coro: Any, raw: bool = False) -> Any:
        result = self.s.loop.run_until_complete(coro)
        return [result] if raw else result

    def _signal(self, msg: Message) -> None:
        if msg.message_type == MessageType.SIGNAL and msg.sender == self.owner:
            if msg.member == "PropertiesChanged" and msg.body[0] == defs.MPRIS_PLAYER:
                self.signals.append(("changed", plain(msg.body[1])))
            elif msg.member == "Seeked":
                self.signals.append(("seeked", msg.body[0]))

    def press(self, member: str) -> None:
        self.run(call(self.radio, self.owner, self.path, defs.MPRIS_PLAYER, member))

    def get(self, name: str) -> Any:
        """A property as BlueZ would read it; also a sync point: the signals sent before it
        have arrived when the answer does (one sender, one receiver, in order)."""
        (value,) = self.run(call(self.radio, self.owner, self.path, defs.PROPERTIES, "Get",
                                 "ss", [defs.MPRIS_PLAYER, name]))
        return plain(value)

    def changed(self, name: str) -> list[Any]:
        self.get("PlaybackStatus")
        return [props[name] for kind, props in self.signals if kind == "changed" and name in props]


def _tape(tmp_path: Path) -> Path:
    t = np.arange(int(RATE * 12)) / RATE
    tone = (0.25 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    gap = np.zeros(RATE * 3, np.float32)
    wav = tmp_path / "tracks.wav"
    write_wav(wav, np.concatenate([tone, gap, tone, gap, tone]), RATE)
    return wav


def connected(tmp_path: Path) -> tuple[SimSession, BlueZSide]:
    """A player with a cassette and the headphones paired and connected (PAIR held)."""
    s = SimSession(tmp_path / "out", record_pins=False)
    s.make_cassette("C46", side_a=_tape(tmp_path))
    s.add_headphones([{"name": "Cans", "address": CANS, "pairing_at": 1.0}])
    s.at(2.0, lambda: s.press("pair", hold=2.5))
    s.run_until(12.0)
    assert s.player.audio.outputs.active == "bluetooth", "the headphones did not connect"
    return s, BlueZSide(s)


def events(s: SimSession, what: str) -> list[dict[str, Any]]:
    return [e for e in s.events if e["type"] == "bluetooth" and e["what"] == what]


def states(s: SimSession) -> list[str]:
    return [e["state"] for e in s.events if e["type"] == "transport"]


def test_the_player_is_registered_and_play_pause_stop_drive_the_deck(tmp_path: Path) -> None:
    s, bluez = connected(tmp_path)
    try:
        assert s.player.headphones.status()["remote"] is True
        props = bluez.registered[defs.MPRIS_PATH]
        assert props["PlaybackStatus"] == "Stopped" and props["Identity"] == "Capstan"
        assert all(props[k] for k in ("CanPlay", "CanPause", "CanGoNext", "CanGoPrevious",
                                      "CanControl"))  # BlueZ forwards nothing without these
        bluez.press("Play")
        s.run_for(1.0)
        assert s.player.deck.state.value == "playing"
        assert s.player.mechanism.mode.value == "play"  # the motor runs
        bluez.press("Play")  # already playing: PLAY would pause, the remote's play does not
        s.run_for(0.5)
        assert s.player.deck.state.value == "playing"
        bluez.press("Pause")
        s.run_for(0.5)
        assert s.player.deck.state.value == "paused"
        bluez.press("Play")
        s.run_for(0.5)
        bluez.press("Stop")
        s.run_for(0.5)
        assert states(s)[-4:] == ["playing", "paused", "playing", "stopped"]
        assert s.player.mechanism.mode.value == "stop"
        assert [e["button"] for e in events(s, "remote")] == ["play", "play", "pause", "play",
                                                             "stop"]
        assert {e["address"] for e in events(s, "remote")} == {CANS}
        assert bluez.changed("PlaybackStatus") == ["Playing", "Paused", "Playing", "Stopped"]
        assert bluez.get("PlaybackStatus") == "Stopped"
    finally:
        s.close()


def test_next_and_previous_are_the_music_search(tmp_path: Path) -> None:
    s, bluez = connected(tmp_path)
    try:
        bluez.press("Play")
        s.run_for(6.0)
        bluez.press("Next")
        s.run_for(0.5)
        search = [e for e in s.events if e["type"] == "track" and e["what"] == "search"]
        assert [e["direction"] for e in search] == ["next"]  # as the long FF press does
        assert "fast_forward" in states(s)[-3:]
        bluez.press("Next")  # again while it searches: one more track, as FF again does
        s.run_for(0.5)
        search = [e for e in s.events if e["type"] == "track" and e["what"] == "search"]
        assert [(e["direction"], e["skip"]) for e in search] == [("next", 1), ("next", 2)]
        s.run_for(20.0)
        bluez.press("Previous")
        s.run_for(0.5)
        search = [e for e in s.events if e["type"] == "track" and e["what"] == "search"]
        assert search[-1]["direction"] == "previous"
        assert [e["button"] for e in events(s, "remote")] == ["play", "next", "next",
                                                             "previous"]
    finally:
        s.close()


def test_position_and_metadata_follow_the_counter_and_the_toc(tmp_path: Path) -> None:
    s, bluez = connected(tmp_path)
    try:
        toc = TrackList()
        toc.add_mark("A", SECOND_TRACK, "recorded")
        s.player.intelligence.memory.toc = toc  # as restored for a known cassette
        bluez.press("Play")
        s.run_for(6.0)
        position = bluez.get("Position")
        assert abs(position / 1e6 - s.player.counter) < 0.1  # track 1 runs from the tape's start
        meta = bluez.get("Metadata")
        assert meta["xesam:trackNumber"] == 1 and meta["xesam:title"] == "Side A, track 1"
        assert meta["xesam:album"].startswith("Cassette")
        start = toc.tracks("A")[0].start
        assert meta["mpris:length"] == round((SECOND_TRACK - start) * 1e6)
        before = len(bluez.signals)
        s.run_for(SECOND_TRACK - s.player.counter + 1.0)  # into the second track
        meta = bluez.changed("Metadata")[-1]
        assert meta["xesam:trackNumber"] == 2 and meta["xesam:title"] == "Side A, track 2"
        assert "mpris:length" not in meta  # its end is not known yet
        assert 0 <= bluez.get("Position") / 1e6 < 1.5
        seeked = [v for kind, v in bluez.signals[before:] if kind == "seeked"]
        assert seeked and min(seeked) < 0.2e6  # the new track's position from its start
    finally:
        s.close()


def test_a_refused_remote_command_is_refused_as_the_button(tmp_path: Path) -> None:
    s, bluez = connected(tmp_path)
    try:
        s.deck.eject()
        s.run_for(1.0)
        assert s.player.deck.state.value == "no_cassette"
        bluez.press("Play")
        s.run_for(0.5)
        s.press("play")  # the panel's PLAY, for comparison
        s.run_for(0.5)
        refused = [{k: v for k, v in e.items() if k != "t"} for e in s.events
                   if e["type"] == "refused"]
        assert refused == [{"type": "refused", "action": "play",
                            "reason": "no cassette: insert one"}] * 2
        assert bluez.get("Metadata")["xesam:title"] == "No cassette"
    finally:
        s.close()


def test_absolute_volume_both_ways_without_a_jump(tmp_path: Path) -> None:
    s, bluez = connected(tmp_path)
    mock = s.bluetooth.mock
    transport = defs.device_path(f"/org/bluez/{HCI}", CANS) + "/fd0"

    def transport_volume() -> int:
        (v,) = bluez.run(call(bluez.radio, defs.BLUEZ, transport, defs.PROPERTIES, "Get", "ss",
                              [defs.MEDIA_TRANSPORT, "Volume"]))
        return int(v.value)

    try:
        volumes = s.player.headphones.volumes
        # the headphones' own buttons: AVRCP's volume-changed, BlueZ's transport Volume
        bluez.run(mock.mock("SetTransportVolume", "ssq", [HCI, CANS, 60]))
        s.run_for(0.5)
        assert volumes.memory[CANS] == 60  # the player's remembered level for these headphones
        assert [(e["value"], e["source"]) for e in events(s, "volume")] == [(0.472, "headphones")]
        assert s.player.audio.volume == 1.0  # the chain stays at unity: no level change here
        # VOL+ on the player steps from the headphones' level, not from an older one
        s.press("vol_up")
        s.run_for(0.5)
        assert volumes.memory[CANS] == 68
        assert transport_volume() == 68  # BlueALSA passed it on to the headphones
        assert [(e["value"], e["source"]) for e in events(s, "volume")] == [
            (0.472, "headphones"), (0.535, "player")]  # the echo is not taken for theirs
        s.press("vol_down")
        s.run_for(0.2)
        s.press("vol_down")
        s.run_for(0.5)
        assert transport_volume() == 52 and volumes.memory[CANS] == 52
        assert [e["source"] for e in events(s, "volume")] == [
            "headphones", "player", "player", "player"]
        assert s.player.headphones.status()["volume"] == 52
    finally:
        s.close()


def test_the_example_scenario_drives_the_tape_from_the_headphones(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "headphones-remote.toml"
    report = run_scenario(load_scenario(example), tmp_path / "run")
    told = [e for e in report["events"] if e["type"] == "bluetooth"]
    remote = [(e["t"], e["button"], e["address"]) for e in told if e["what"] == "remote"]
    assert remote == [(12.0, "play", CANS), (16.0, "pause", CANS), (18.0, "play", CANS),
                      (25.0, "next", CANS), (38.0, "stop", CANS)]
    volume = [(e["value"], e["source"]) for e in told if e["what"] == "volume"]
    assert volume == [(0.504, "headphones"), (0.567, "player")]  # 64/127, then one VOL+ step
    at = {e["t"]: e["state"] for e in report["events"] if e["type"] == "transport"}
    assert (at[12.0], at[16.0], at[18.0], at[25.0], at[38.0]) == (
        "playing", "paused", "playing", "fast_forward", "stopped")
    assert report["final"]["transport"] == "stopped"


def test_a_button_of_headphones_gone_away_is_not_sent_and_says_why(tmp_path: Path) -> None:
    s, _ = connected(tmp_path)
    try:
        s.bluetooth.drop_link(CANS)
        s.run_for(1.0)
        s.bluetooth.remote_button("play")
        s.bluetooth.headphone_volume(0.3, CANS)
        s.run_for(0.5)
        notices = [e for e in s.events if e.get("what") == "headphones_not_connected"]
        assert [n["message"] for n in notices] == [
            "step headphones_button = 'play' ignored: no headphones are connected",
            f"step headphones_volume = 0.3 ignored: the headphones {CANS} are not connected"]
        assert not events(s, "remote") and not events(s, "volume")
        assert s.player.deck.state.value == "stopped"
    finally:
        s.close()
