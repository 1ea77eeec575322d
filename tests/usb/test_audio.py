"""The tap into the gadget's sound card: every block, S16 stereo, dropped when no room."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from capstan.audio.tap import AnalysisTap
from capstan.usb.audio import UsbAudio

GUARD = 10.0  # s: only a guard against a hang


class FakePcm:
    def __init__(self, room: list[int]) -> None:
        self.room = room  # frames each write may take; 0 = the card is full
        self.data: list[bytes] = []
        self.closed = False
        self.written = threading.Event()

    def write(self, data: bytes) -> int:
        n = self.room.pop(0) if self.room else len(data) // 4
        if n:
            self.data.append(data)
        if not self.room:
            self.written.set()
        return n

    def close(self) -> None:
        self.closed = True


def test_blocks_go_to_the_card_once_it_is_there() -> None:
    loop = asyncio.new_event_loop()
    tap = AnalysisTap(loop, 48000)
    pcm = FakePcm([256, 0, 256])
    tries: list[str] = []
    waited: list[float] = []

    def opener(device: str, rate: int, channels: int, period: int) -> FakePcm:
        tries.append(device)
        if len(tries) < 3:
            raise OSError("No such device")
        return pcm

    def wait(ev: threading.Event, s: float) -> bool:
        waited.append(s)
        return ev.is_set()

    usb = UsbAudio(tap, 48000, 2, 256, device="hw:CARD=UAC2Gadget,DEV=0", opener=opener,
                   wait=wait)
    usb.start()
    try:
        assert tap.active
        tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(256) / 48000)
        block = np.stack([tone, -tone], axis=1).astype(np.float32)
        for _ in range(3):
            tap.offer(block.copy(), 0.0)
            loop.run_until_complete(asyncio.sleep(0))
        assert pcm.written.wait(GUARD)
    finally:
        usb.stop()
        loop.close()
    assert tries == ["hw:CARD=UAC2Gadget,DEV=0"] * 3 and waited == [5.0, 5.0]
    assert usb.frames_written == 512 and usb.dropped == 1  # the full card's block
    got = np.frombuffer(pcm.data[0], "<i2").reshape(-1, 2)
    assert np.array_equal(got[:, 0], (block[:, 0] * 32768).astype("<i2"))
    assert np.array_equal(got[:, 1], -got[:, 0])
    assert pcm.closed and not tap.active
    assert usb.status()["open"] is True
