"""The board contract on the kernel's drivers: both GPIO libraries on gpio-sim, smbus2 on
i2c-stub, ALSA on snd-aloop, through the production classes of capstan.board."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from tests.vm.rig import Header

from capstan.board.gpio import GpioInput, GpioOutput, GpioPwm

EDGE_TIMEOUT = 10.0  # s: a failure guard for an edge that never comes


def lgpio_factory(header: Header) -> Any:
    from gpiozero.pins.lgpio import LGPIOFactory

    return LGPIOFactory(chip=header.chip)


def rpigpio_factory(header: Header) -> Any:
    import RPi.GPIO  # rpi-lgpio: RPi.GPIO's API on lgpio
    from gpiozero.pins.rpigpio import RPiGPIOFactory

    assert RPi.GPIO._get_gpiochip_num() == header.chip
    return RPiGPIOFactory()


FACTORIES = {"lgpio": lgpio_factory, "rpigpio": rpigpio_factory}


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest, header: Header, workdir: Any) -> Any:
    f = FACTORIES[request.param](header)
    yield f
    f.close()


def test_an_output_drives_its_line(factory: Any, header: Header) -> None:
    out = GpioOutput(factory, 23)
    assert header.level(23) == 0
    out.write(True)
    assert header.wait_level(23, 1)
    out.write(False)
    assert header.wait_level(23, 0)
    out.write(True)
    out.close()
    assert header.wait_level(23, 0), "closing an output leaves it driven high"


def test_the_motor_pwm_runs_at_the_boards_frequency(factory: Any, header: Header,
                                                     vpi: Any) -> None:
    motor = vpi.outputs["motor"]
    pwm = GpioPwm(factory, motor.pin, motor.frequency)
    assert header.level(motor.pin) == 0
    pwm.write(1.0)
    assert header.wait_level(motor.pin, 1)
    pwm.write(0.0)
    assert header.wait_level(motor.pin, 0)
    pwm.close()


def test_lgpio_refuses_a_pwm_faster_than_10_khz(header: Header, workdir: Any) -> None:
    import lgpio

    h = lgpio.gpiochip_open(header.chip)
    try:
        lgpio.gpio_claim_output(h, 12, 0)
        with pytest.raises(lgpio.error):
            lgpio.tx_pwm(h, 12, 20000, 50)
        assert lgpio.tx_pwm(h, 12, 10000, 50) >= 0
        lgpio.tx_pwm(h, 12, 0, 0)
    finally:
        lgpio.gpiochip_close(h)


def test_the_pis_pull_up_holds_an_open_button_high(factory: Any, header: Header,
                                                    loop: asyncio.AbstractEventLoop) -> None:
    header.drive(5, False)
    pin = GpioInput(factory, 5, loop, pull="up")  # the bias is the line's pull in gpio-sim
    try:
        assert header.level(5) == 1 and pin.read() is True
    finally:
        pin.close()


def test_an_edge_enters_the_loop_with_the_time_it_happened(
        factory: Any, header: Header, loop: asyncio.AbstractEventLoop) -> None:
    pin = GpioInput(factory, 6, loop, pull="floating")
    header.drive(6, True)
    edges: list[tuple[bool, float]] = []
    got = asyncio.Event()

    def on_edge(level: bool, t: float) -> None:
        edges.append((level, t))
        if len(edges) >= 2:
            got.set()

    async def press_and_release() -> tuple[float, float]:
        pin.watch(on_edge)
        await asyncio.sleep(0.05)  # the library's edge thread is listening
        before = time.monotonic()
        header.drive(6, False)
        await asyncio.sleep(0.05)
        header.drive(6, True)
        await asyncio.wait_for(got.wait(), EDGE_TIMEOUT)
        return before, time.monotonic()

    try:
        before, after = loop.run_until_complete(press_and_release())
    finally:
        pin.close()
    assert [level for level, _ in edges] == [False, True]
    for _, t in edges:  # the loop's clock (CLOCK_MONOTONIC), not the moment of delivery
        assert before <= t <= after
    assert edges[0][1] < edges[1][1]


def test_lgpio_gives_the_kernels_timestamp_of_an_edge(header: Header, workdir: Any,
                                                      loop: asyncio.AbstractEventLoop) -> None:
    """The kernel stamps the edge when gpio-sim raises it: before the callback runs."""
    factory = lgpio_factory(header)
    pin = GpioInput(factory, 13, loop, pull="floating")
    header.drive(13, True)
    stamped: list[float] = []
    delivered: list[float] = []
    got = asyncio.Event()

    def on_edge(level: bool, t: float) -> None:
        stamped.append(t)
        delivered.append(time.monotonic())
        got.set()

    async def press() -> float:
        pin.watch(on_edge)
        await asyncio.sleep(0.05)
        before = time.monotonic()
        header.drive(13, False)
        await asyncio.wait_for(got.wait(), EDGE_TIMEOUT)
        return before

    try:
        before = loop.run_until_complete(press())
    finally:
        pin.close()
        factory.close()
    assert before <= stamped[0] <= delivered[0]


def test_the_gauge_reads_what_its_register_model_holds(chips: dict[int, Any],
                                                       i2c_bus: int) -> None:
    from smbus2 import SMBus

    from capstan.chips.max17048 import MAX17048
    from capstan.sim.chips.max17048 import SOC, VCELL

    model = chips[0x36]
    with SMBus(i2c_bus) as bus:
        gauge = MAX17048(bus)
        assert gauge.version == model.words[0x08] == 0x0012
        assert gauge.cell_voltage == pytest.approx(model.words[VCELL] * 78.125e-6)
        assert gauge.state_of_charge == pytest.approx(model.words[SOC] / 256)
        # the same word through SMBus's little-endian word read: the chip's bytes swapped
        raw = bus.read_word_data(0x36, VCELL)
        assert (raw & 0xFF) << 8 | raw >> 8 == model.words[VCELL]
        assert bus.read_byte_data(0x36, VCELL) == model.words[VCELL] >> 8


def test_the_charger_is_recognised(chips: dict[int, Any], i2c_bus: int) -> None:
    from smbus2 import SMBus

    from capstan.chips.bq25895 import BQ25895

    with SMBus(i2c_bus) as bus:
        charger = BQ25895(bus)
        assert charger.read_register(0x14) == chips[0x6A].read_register(0x14)


def test_an_absent_chip_does_not_answer(i2c_bus: int) -> None:
    from smbus2 import SMBus

    with SMBus(i2c_bus) as bus, pytest.raises(OSError):
        bus.read_byte_data(0x50, 0)


def test_a_1_khz_tone_makes_the_round_trip_through_the_loopback(
        loop: asyncio.AbstractEventLoop) -> None:
    from capstan.board.alsa import AlsaCapture, AlsaPlayback

    rate, period = 48000, 480
    capture = AlsaCapture("hw:CARD=Loopback,DEV=1,SUBDEV=2", loop, rate, 2, "S32_LE", period)
    playback = AlsaPlayback("hw:CARD=Loopback,DEV=0,SUBDEV=2", rate, 2, "S32_LE", period)
    t = np.arange(rate // 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    chunks = [np.stack([tone[i:i + period]] * 2, axis=1) for i in range(0, len(tone), period)]
    blocks: list[np.ndarray] = []
    got = asyncio.Event()

    def on_block(block: np.ndarray) -> None:
        blocks.append(block)
        if chunks:  # one period out for each period in: the pace of the sample clock
            playback.write(chunks.pop(0))
        if sum(len(b) for b in blocks) >= 2 * rate:  # the tone, its latency and more
            got.set()

    async def round_trip() -> None:
        capture.start(on_block)  # capture first, or the loopback drops the first periods
        for _ in range(3):
            playback.write(chunks.pop(0))
        await asyncio.wait_for(got.wait(), 20.0)

    try:
        loop.run_until_complete(round_trip())
    finally:
        capture.stop()
        playback.close()
    audio = np.concatenate(blocks)[:, 0]
    loud = audio[np.abs(audio) > 0.1]
    assert len(loud) > rate // 4, "the tone did not come back"
    start = int(np.argmax(np.abs(audio) > 0.1))
    seg = audio[start:start + rate // 4]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    peak = np.fft.rfftfreq(len(seg), 1 / rate)[int(np.argmax(spectrum))]
    assert peak == pytest.approx(1000, abs=8)
    assert np.max(np.abs(seg)) == pytest.approx(0.5, abs=0.01)
