"""The real capture and playback code over real alsa-lib (pyalsaaudio, `file`/`null` PCMs)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from capstan.audio.chain import AudioChain
from capstan.board.alsa import AlsaCapture, AlsaPlayback, decode, encode
from capstan.events import EventBus
from capstan.sim.clock import SimulatedTimeLoop

from .alsa_rig import FifoWriter, write_asoundrc

RATE, PERIOD = 48000, 1024
TIMEOUT = 10.0  # s: a safety net only; the tests finish when the data has arrived


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    return write_asoundrc(tmp_path, monkeypatch)


def _collect(capture: AlsaCapture, loop: asyncio.AbstractEventLoop, frames: int) -> np.ndarray:
    """Run `capture` in `loop` until `frames` frames arrived; returns them."""
    blocks: list[np.ndarray] = []
    done = loop.create_future()

    def on_block(block: np.ndarray) -> None:
        blocks.append(block)
        if sum(len(b) for b in blocks) >= frames and not done.done():
            done.set_result(None)

    capture.start(on_block)
    try:
        loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
    finally:
        capture.stop()
    return np.concatenate(blocks)[:frames]


@pytest.mark.parametrize("fmt", ["S16_LE", "S32_LE", "S24_LE"])
def test_capture_from_a_file_is_exact(rig: dict[str, Path], fmt: str) -> None:
    rng = np.random.default_rng(1)
    bits = 16 if fmt == "S16_LE" else 24  # an I2S ADC delivers 24 bits in a 32-bit slot
    ints = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), (4 * PERIOD, 2))
    if fmt == "S16_LE":
        raw, expected = ints.astype("<i2").tobytes(), ints / 2.0**15
    elif fmt == "S32_LE":
        raw, expected = (ints << 8).astype("<i4").tobytes(), ints / 2.0**23
    else:
        raw, expected = ints.astype("<i4").tobytes(), ints / 2.0**23
    # through the FIFO, paced as an ADC delivers: a regular file would be read as fast as
    # the CPU allows, and the capture keeps only the newest quarter second for a late loop
    writer = FifoWriter(rig["fifo"], raw, len(raw) // 4, PERIOD / RATE)
    writer.start()
    loop = asyncio.new_event_loop()
    try:
        capture = AlsaCapture("cap_fifo", loop, RATE, 2, fmt, PERIOD)
        got = _collect(capture, loop, 4 * PERIOD)
    finally:
        writer.stop()
        loop.close()
    assert capture.late_drops == 0
    assert np.array_equal(got, expected.astype(np.float32))
    assert encode(got, fmt) == raw  # and back, bit for bit


@pytest.mark.parametrize(("fmt", "dtype", "bits"), [
    ("S16_LE", "<i2", 16), ("S32_LE", "<i4", 32), ("S24_LE", "<i4", 24)])
def test_full_scale_and_beyond_clip_to_the_largest_code(fmt: str, dtype: str,
                                                         bits: int) -> None:
    top = 2 ** (bits - 1) - 1
    block = np.array([[1.0, 1.5], [-1.0, -3.0], [0.5, -0.25]], np.float32)
    codes = np.frombuffer(encode(block, fmt), dtype).reshape(-1, 2)
    assert codes[0].tolist() == [top, top]  # never wrapped round to the negative end
    assert codes[1].tolist() == [-top - 1, -top - 1]
    assert codes[2].tolist() == [2 ** (bits - 2), -(2 ** (bits - 3))]


def test_playback_to_a_file_is_byte_exact(rig: dict[str, Path]) -> None:
    rng = np.random.default_rng(2)
    ints = rng.integers(-32768, 32768, (5 * PERIOD + 100, 2)).astype("<i2")
    block = decode(ints.tobytes(), "S16_LE", 2)
    out = AlsaPlayback("play_file", RATE, 2, "S16_LE", PERIOD)
    for i in range(0, len(block), PERIOD):
        out.write(block[i:i + PERIOD])
    out.close()
    assert rig["out"].read_bytes() == ints.tobytes()
    assert out.underruns == 0 and out.dropped == 0


def _tone(seconds: float, dbfs: float = -6.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * 1000 * t)
    return np.stack([x, -x], axis=1)


def _reference(blocks: list[int], signal: np.ndarray) -> np.ndarray:
    """The same chain fed the same blocks in simulated time, offline: what the file must hold."""

    class Fake:
        rate, channels, period, overruns = RATE, 2, PERIOD, 0

        def start(self, cb: object) -> None:
            self.cb = cb

        def stop(self) -> None: ...

    class Sink:
        rate, channels, period, underruns = RATE, 2, PERIOD, 0

        def __init__(self) -> None:
            self.blocks: list[np.ndarray] = []

        def write(self, b: np.ndarray) -> None:
            self.blocks.append(b)

        def close(self) -> None: ...

    loop = SimulatedTimeLoop()
    cap, sink = Fake(), Sink()
    chain = AudioChain(cap, sink, loop, volume=1.0, gated=False)
    chain.start()
    pos = 0
    for n in blocks:
        cap.cb(signal[pos:pos + n])
        pos += n
    loop.close()
    return np.concatenate(sink.blocks)


def test_fifo_through_the_chain_to_a_file(rig: dict[str, Path]) -> None:
    """1 s of a 1 kHz tone written into the FIFO in real time comes out processed, ±1 LSB."""
    signal = _tone(1.0).astype(np.float32)
    data = encode(signal, "S32_LE")
    writer = FifoWriter(rig["fifo"], data, PERIOD * 8, PERIOD / RATE)
    writer.start()
    loop = asyncio.new_event_loop()
    sizes: list[int] = []
    done = loop.create_future()
    try:
        capture = AlsaCapture("cap_fifo", loop, RATE, 2, "S32_LE", PERIOD)
        playback = AlsaPlayback("play_file", RATE, 2, "S16_LE", PERIOD)
        chain = AudioChain(capture, playback, loop, volume=1.0, gated=False)

        def seen(block: np.ndarray, t: float) -> None:
            sizes.append(len(block))
            if sum(sizes) >= len(signal) and not done.done():
                done.set_result(None)

        chain.tap.subscribe(seen)
        chain.start()
        loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
        chain.stop()
        playback.close()
    finally:
        writer.stop()
        loop.close()
    captured = decode(data, "S32_LE", 2)  # what alsa-lib handed over, block by block
    padded = np.concatenate([captured, np.zeros((sum(sizes), 2), np.float32)])
    expected = _reference(sizes, padded)
    got = np.frombuffer(rig["out"].read_bytes(), "<i2").reshape(-1, 2)
    want = np.frombuffer(encode(expected[:len(got)], "S16_LE"), "<i2").reshape(-1, 2)
    assert len(got) >= len(signal) - PERIOD
    assert np.abs(got.astype(int) - want).max() <= 1  # stated tolerance: 1 LSB of 16 bits
    # and the steady part is the tone itself, one period late, within 0.05 dB
    steady = got[RATE // 4: RATE * 3 // 4, 0] / 32768
    level = 20 * np.log10(np.sqrt(np.mean(steady**2)) * np.sqrt(2))
    assert abs(level - -6.0) < 0.05


def test_a_stalled_fifo_is_an_overrun_recovered_and_reported(rig: dict[str, Path]) -> None:
    signal = _tone(0.6).astype(np.float32)
    data = encode(signal, "S16_LE")
    period_bytes = PERIOD * 4
    half = (len(data) // 2) // period_bytes * period_bytes
    writer = FifoWriter(rig["fifo"], data, period_bytes, PERIOD / RATE, stall=(half, 0.3))
    writer.start()
    loop = asyncio.new_event_loop()
    bus = EventBus(loop.time)
    xruns: list[dict] = []
    bus.subscribe(lambda t, e: xruns.append(e.to_dict()), "xrun")
    try:
        capture = AlsaCapture("cap_fifo", loop, RATE, 2, "S16_LE", PERIOD)
        playback = AlsaPlayback("play_file", RATE, 2, "S16_LE", PERIOD)
        chain = AudioChain(capture, playback, loop, bus, volume=1.0, gated=False)
        done = loop.create_future()
        chain.tap.subscribe(lambda b, t: None if capture.blocks * PERIOD < len(signal)
                            or done.done() else done.set_result(None))
        chain.start()
        loop.run_until_complete(asyncio.wait_for(done, TIMEOUT))
        loop.run_until_complete(asyncio.sleep(0.01))  # the tap ran; let the last block finish
        chain.stop()
        playback.close()
    finally:
        writer.stop()
        loop.close()
    assert capture.overruns >= 1
    assert xruns and xruns[0]["stream"] == "capture" and xruns[0]["count"] >= 1
    assert capture.blocks * PERIOD >= len(signal)  # reading went on after the stall


class _FastPcm:
    """A capture PCM that hands over `reads` periods at once (the loop is not running yet),
    then blocks until closed: the reader thread outruns a loop that is stuck."""

    def __init__(self, reads: int) -> None:
        self.left = reads
        self.emptied = threading.Event()
        self.closed = threading.Event()
        self.n = 0

    def read(self) -> tuple[int, bytes]:
        if self.left == 0:
            self.emptied.set()
            self.closed.wait()
            return 0, b""
        self.left -= 1
        self.n += 1
        return PERIOD, np.full((PERIOD, 2), self.n, "<i2").tobytes()

    def close(self) -> None:
        self.closed.set()


def test_a_loop_that_falls_behind_gets_the_newest_blocks_and_runs_its_timers_between_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pcm = _FastPcm(100)
    monkeypatch.setattr("capstan.board.alsa._open", lambda *a: pcm)
    loop = asyncio.new_event_loop()
    got: list[tuple[int, float]] = []
    seen_by_timer: list[int] = []
    try:
        capture = AlsaCapture("fast", loop, RATE, 2, "S16_LE", PERIOD)
        keep = capture.backlog_blocks
        assert 2 <= keep < 100
        capture.start(lambda b: got.append((int(b[0, 0] * 32768), capture.block_start)))
        assert pcm.emptied.wait(TIMEOUT)  # 100 periods read while the loop did not run
        loop.call_soon(lambda: seen_by_timer.append(len(got)))  # a timer due now

        async def settle() -> None:
            while len(got) < keep:
                await asyncio.sleep(0)

        loop.run_until_complete(asyncio.wait_for(settle(), TIMEOUT))
        capture.stop()
    finally:
        loop.close()
    # only the newest blocks are left, in order, each on its own place of the sample clock
    assert [n for n, _ in got] == list(range(100 - keep + 1, 101))
    starts = [t for _, t in got]
    assert np.allclose(np.diff(starts), PERIOD / RATE)
    assert capture.late_drops == 100 - keep and capture.overruns == 100 - keep
    # the loop's other work ran after the first block, not after the whole backlog
    assert seen_by_timer == [1]
