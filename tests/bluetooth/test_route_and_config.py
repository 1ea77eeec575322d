"""The route seam's own rules, and the BlueZ configuration the image installs."""

from __future__ import annotations

import configparser
from pathlib import Path

from capstan.bluetooth import defs
from capstan.bluetooth.route import HeadphoneRoute

from .harness import AudioLayer

A = "00:1B:66:0A:0B:0C"
MAIN_CONF = Path(__file__).parents[2] / "system" / "rootfs" / "etc" / "bluetooth" / "main.conf"


def test_loss_pauses_by_default_and_not_when_configured_off() -> None:
    for pause in (True, False):
        route, audio = HeadphoneRoute(pause_on_loss=pause), AudioLayer()
        route.subscribe(audio)
        route.transport_up(A)
        route.transport_up(A)  # reported twice (PCMAdded and a resync): moved once
        route.link_lost(A)
        route.link_lost(A)  # Device1 and BlueALSA both report the loss: told once
        assert audio.calls == [("ready", A, defs.bluealsa_pcm_name(A)), ("lost", A, pause)]


def test_a_failing_audio_layer_does_not_break_the_seam() -> None:
    class Broken:
        def headphones_ready(self, address: str, pcm: str) -> None:
            raise RuntimeError("boom")

        def headphones_lost(self, address: str, pause: bool) -> None:
            raise RuntimeError("boom")

    route, audio = HeadphoneRoute(), AudioLayer()
    route.subscribe(Broken())
    route.subscribe(audio)
    route.transport_up(A)
    route.link_lost(A)
    assert [c[0] for c in audio.calls] == ["ready", "lost"]


def test_audio_sinks_are_told_apart_from_phones() -> None:
    assert defs.is_audio_sink({"UUIDs": [defs.A2DP_SINK_UUID.upper()]})
    assert defs.is_audio_sink({"Class": 0x240404})  # Audio/Video, wearable headset
    assert not defs.is_audio_sink({"Class": 0x5A020C, "UUIDs": [defs.A2DP_SOURCE_UUID]})


def test_main_conf_keeps_the_player_closed() -> None:
    conf = configparser.ConfigParser()
    conf.read(MAIN_CONF)
    general = conf["General"]
    assert general["AlwaysPairable"] == "false"
    assert 0 < int(general["PairableTimeout"]) <= 60
    assert 0 < int(general["DiscoverableTimeout"])  # 0 would mean discoverable for ever
    assert general["JustWorksRepairing"] == "never"
    assert conf["Policy"]["ReconnectAttempts"] == "0"  # the firmware's backoff decides
