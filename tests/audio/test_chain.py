"""The chain on a hand-driven capture in simulated time: gating, ramps, meters, tap, outputs."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from capstan.audio.chain import SETTLE, AudioChain
from capstan.events import EventBus
from capstan.sim.clock import SimulatedTimeLoop

from .fakes import RATE, HandCapture, KeptOutput, largest_step, tone

BLOCK = 512
NATURAL = 10 ** (-12 / 20) * 2 * math.pi * 1000 / RATE  # largest step of the −12 dBFS tone


class Rig:
    def __init__(self, gated: bool = True, volume: float = 1.0) -> None:
        self.loop = SimulatedTimeLoop()
        self.bus = EventBus(self.loop.time)
        self.events: list[dict] = []
        self.bus.subscribe(lambda t, e: self.events.append(e.to_dict()))
        self.order: list[str] = []
        self.dac: list[bool] = []
        self.capture, self.jack = HandCapture(), KeptOutput(self.order, "jack")
        self.chain = AudioChain(self.capture, self.jack, self.loop, self.bus, volume,
                                dac=self._dac, gated=gated)
        self.signal = tone(10.0)
        self.pos = 0
        self.chain.start()

    def _dac(self, on: bool) -> None:
        self.dac.append(on)
        self.order.append(f"dac {on}")

    def play(self, seconds: float) -> None:
        """Feed the tone block by block, the loop's time moving with it."""
        for _ in range(round(seconds * RATE / BLOCK)):
            block = self.signal[self.pos:self.pos + BLOCK]
            self.pos += BLOCK
            self.loop.run_until_complete(asyncio.sleep(BLOCK / RATE))
            self.capture.feed(block)
        self.loop.run_until_complete(asyncio.sleep(0))  # deliver to the tap

    def transport(self, state: str) -> None:
        from capstan.app import TransportChanged

        self.bus.publish(TransportChanged(state))

    def close(self) -> None:
        self.chain.stop()
        self.loop.close()


@pytest.fixture
def rig() -> Rig:
    r = Rig()
    yield r
    r.close()


def test_gated_chain_is_silent_until_the_tape_plays_and_settles(rig: Rig) -> None:
    rig.transport("stopped")
    rig.play(0.5)
    assert np.abs(rig.jack.signal).max() == 0 and rig.dac == [False, False]
    rig.transport("playing")
    rig.play(SETTLE - 0.05)
    assert np.abs(rig.jack.signal).max() == 0 and True not in rig.dac
    rig.play(0.5)
    assert rig.dac[-1] is True
    out = rig.jack.signal
    assert np.abs(out[-RATE // 4:]).max() == pytest.approx(10 ** (-12 / 20), rel=0.01)
    assert largest_step(out) < NATURAL * 1.05


def test_every_transport_change_fades_out_before_the_dac_mutes(rig: Rig) -> None:
    rig.transport("playing")
    rig.play(1.0)
    for state in ("paused", "playing", "fast_forward", "stopped", "playing", "rewind"):
        rig.transport(state)
        rig.play(0.2 if state == "playing" else 0.6)
    out = rig.jack.signal
    assert largest_step(out) < NATURAL * 1.05
    assert np.abs(out[-RATE // 10:]).max() == 0
    # the DAC went quiet only after the faded block had been written
    last_on = max(i for i, e in enumerate(rig.order) if e == "dac True")
    first_off_after = next(i for i, e in enumerate(rig.order) if i > last_on and e == "dac False")
    assert rig.order[first_off_after - 1] == "write jack"


def test_volume_changes_ramp() -> None:
    rig = Rig(gated=False)
    rig.play(0.5)
    rig.chain.set_volume(0.1)
    rig.play(0.2)
    rig.chain.set_volume(1.0)
    rig.play(0.2)
    assert rig.chain.step_volume(-1) == pytest.approx(10 ** (-2 / 20))
    rig.play(0.2)
    out = rig.jack.signal
    assert largest_step(out) < NATURAL * 1.05
    assert np.abs(out[-BLOCK:]).max() == pytest.approx(10 ** (-14 / 20), rel=0.01)
    rig.close()


def test_meters_read_peak_and_rms_in_dbfs() -> None:
    rig = Rig(gated=False)
    rig.play(1.5)
    levels = rig.chain.meters.levels()
    assert levels["peak_dbfs"] == pytest.approx([-12.0, -12.0], abs=0.05)
    assert levels["rms_dbfs"] == pytest.approx([-15.01, -15.01], abs=0.05)
    rig.close()


def test_tap_listeners_run_after_the_block_went_out(rig: Rig) -> None:
    seen: list[tuple[np.ndarray, float]] = []

    def listener(block: np.ndarray, t: float) -> None:
        rig.order.append("tap")
        seen.append((block, t))

    rig.chain.tap.subscribe(listener)
    queue = rig.chain.tap.queue(max_blocks=4)
    rig.play(0.1)
    assert len(seen) == round(0.1 * RATE / BLOCK)
    first = rig.order.index("tap")
    assert rig.order[first - 1] == "write jack"
    block, t = seen[0]
    assert not block.flags.writeable and block.shape == (BLOCK, 2)
    assert t == pytest.approx(0.0, abs=1e-9)
    assert queue.dropped == len(seen) - 4 and queue.get_nowait() is not None


def test_overruns_become_events(rig: Rig) -> None:
    rig.play(0.05)
    rig.capture.overruns += 1
    rig.play(0.05)
    assert {"type": "xrun", "stream": "capture", "count": 1} in rig.events


def test_switching_outputs_fades_each_one(rig: Rig) -> None:
    bt = KeptOutput(name="bt")
    rig.transport("playing")
    rig.play(1.0)
    rig.chain.outputs.add("bluetooth", bt)
    rig.chain.select_output("bluetooth", "headphones connected")
    rig.play(0.5)
    rig.chain.select_output("jack")
    rig.play(0.5)
    rig.chain.select_output("bluetooth")
    rig.play(0.3)
    rig.chain.outputs.remove("bluetooth")  # the link dropped: the jack takes over
    rig.play(0.3)
    jack, cans = rig.jack.signal, bt.signal
    assert largest_step(jack) < NATURAL * 1.05 and largest_step(cans) < NATURAL * 1.05
    assert np.abs(cans[-BLOCK:]).max() > 0.2 and np.abs(jack[-BLOCK:]).max() > 0.2
    switched = [e for e in rig.events if e["type"] == "audio_output"]
    assert [e["output"] for e in switched] == ["bluetooth", "jack", "bluetooth", "jack"]
    assert switched[-1]["reason"] == "bluetooth lost"


def test_noise_reduction_switches_with_a_crossfade_and_tells() -> None:
    """A quiet 5 kHz tone (−40 dB re reference): decoding cuts it by the B-type's ~9.7 dB;
    switching on and off while it plays never steps more than the tone itself does."""
    rig = Rig(gated=False)
    rig.signal = tone(10.0, 5000.0, -52.0)
    natural = 10 ** (-52 / 20) * 2 * math.pi * 5000 / RATE
    rig.play(0.5)
    rig.chain.set_nr(True, "test")
    rig.play(0.5)
    on = rig.jack.signal[-RATE // 10:]
    rig.chain.set_nr(False, "test")
    rig.play(0.3)
    off = rig.jack.signal[-RATE // 10:]
    out = rig.jack.signal
    assert largest_step(out[RATE // 10:]) < natural * 1.3
    cut = 20 * math.log10(np.abs(off).max() / np.abs(on).max())
    assert 9.0 < cut < 10.5
    kinds = [e for e in rig.events if e["type"] == "noise_reduction"]
    assert [e["on"] for e in kinds] == [True, False]
    assert kinds[0]["reference_dbfs"] == -12.0 and kinds[0]["reason"] == "test"
    assert rig.chain.status()["nr"] == "off"
    rig.close()


def test_noise_reduction_rests_while_the_adc_hears_line_in(rig: Rig) -> None:
    rig.chain.set_nr(True)
    rig.transport("recording")
    rig.play(0.5)
    assert rig.chain._nr_mix.target == 0.0 and rig.chain.status()["nr"] == "on"
    rig.transport("playing")
    assert rig.chain._nr_mix.target == 1.0
