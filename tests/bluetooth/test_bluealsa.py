"""The real BlueALSA daemon on the private bus, with a fake A2DP transport from the mock.

The mock plays bluetoothd: it configures BlueALSA's SBC endpoint and, when
BlueALSA acquires the transport, hands it one end of a socket pair. The test
holds the other end, as the headphones would, and decodes the SBC it receives.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import numpy as np
import pytest

from capstan.bluetooth.playback import BlueAlsaPlayback
from capstan.harness.bluez.mock import a2dp_stream

from .harness import rig, until
from .sbc import decode_sbc, sbc_payload

pytestmark = pytest.mark.integration

CANS = "00:1B:66:0A:0B:0C"
RATE = 48000
TONE = 1000.0  # Hz


class Headphones:
    """The far end of the A2DP socket: collects RTP packets on a thread of its own."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.sock.settimeout(2.0)
        self.packets: list[bytes] = []
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            while packet := self.sock.recv(4096):
                self.packets.append(packet)
        except OSError:  # quiet for 2 s, or the stream was torn down
            pass

    def heard(self) -> np.ndarray:
        self.thread.join()
        self.sock.close()
        return decode_sbc(sbc_payload(self.packets))


async def paired_headphones(r) -> None:
    await r.mock.add_device(CANS, "Cans")
    await r.mock.mock("PairDevice", "ss", ["hci0", CANS])


def test_audio_follows_the_a2dp_transport_and_falls_back_with_pause(bluez_mock, bluealsa) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await paired_headphones(r)
        async with rig(known=[CANS]) as r:
            await until(lambda: r.service.link.connected == CANS, "connected")
            fd = await a2dp_stream(r.mock, CANS)
            await until(lambda: r.audio.calls, "route told")
            assert r.audio.calls == [("ready", CANS, f"bluealsa:DEV={CANS},PROFILE=a2dp")]
            assert r.service.status()["output"] == f"bluealsa:DEV={CANS},PROFILE=a2dp"
            socket.socket(fileno=fd).close()
            await r.mock.mock("RemoveA2DPTransport", "ss", ["hci0", CANS])
            await r.mock.mock("DisconnectDevice", "ss", ["hci0", CANS])
            await until(lambda: len(r.audio.calls) == 2, "route told of the loss")
            assert r.audio.calls[1] == ("lost", CANS, True)  # back to the jack, tape paused
            assert r.service.status()["output"] is None

    asyncio.run(scenario())


def test_headphone_volume_is_bluealsas_pcm_volume(bluez_mock, bluealsa) -> None:
    async def scenario() -> None:
        async with rig() as r:
            await paired_headphones(r)
        async with rig(known=[CANS]) as r:
            fd = await a2dp_stream(r.mock, CANS)
            await until(lambda: r.service.route.active == CANS, "transport up")
            await r.service.set_volume(40)
            assert r.service.volume() == 40
            # Read back from the daemon, not from our cache.
            from capstan.bluetooth import defs
            from capstan.bluetooth.bluez import call

            (word,) = await call(r.service._bus, defs.BLUEALSA, r.service.bluealsa.pcms[CANS],
                                 defs.PROPERTIES, "Get", "ss", [defs.BLUEALSA_PCM, "Volume"])
            assert word.value == 40 << 8 | 40
            socket.socket(fileno=fd).close()

    asyncio.run(scenario())


def test_playback_through_the_bluealsa_pcm_reaches_the_headphones_as_sbc(
        bluez_mock, bluealsa) -> None:
    async def scenario() -> Headphones:
        async with rig() as r:
            await paired_headphones(r)
        async with rig(known=[CANS]) as r:
            far_end = Headphones(await a2dp_stream(r.mock, CANS))
            await until(lambda: r.service.route.active == CANS, "transport up")
            pcm = r.service.route.pcm
            # The writer opens the PCM on its own thread, away from the loop's D-Bus connection.
            stream = await asyncio.to_thread(BlueAlsaPlayback, CANS, RATE, 2, 1024, 64)
            assert stream.device == pcm
            t = np.arange(RATE // 2) / RATE
            tone = (0.25 * np.sin(2 * np.pi * TONE * t)).astype(np.float32)
            block = np.repeat(tone[:, None], 2, axis=1)
            for start in range(0, len(block), 1024):
                stream.write(block[start:start + 1024])
            await asyncio.to_thread(stream.close)
            assert stream.dropped == 0
            return far_end

    heard = asyncio.run(scenario()).heard()
    assert len(heard) >= RATE // 4, f"only {len(heard)} frames arrived"
    left = heard[:, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(left * np.hanning(len(left))))
    peak = np.argmax(spectrum[1:]) + 1
    assert abs(peak * RATE / len(left) - TONE) < 5.0
    loud = left[np.abs(left) > 0]
    assert np.sqrt(np.mean(loud**2)) == pytest.approx(0.25 * 32767 / np.sqrt(2), rel=0.15)
    np.testing.assert_allclose(heard[:, 0], heard[:, 1], atol=400)  # the same on both sides
