"""One contract for the pins, over every gpiozero pin factory that loads here.

Here the contract runs over gpiozero's own MockFactory and the simulator's
SimFactory; tests/vm/test_board_contract.py runs it over gpiozero's lgpio factory
and RPi.GPIO's API (rpi-lgpio) on the virtual Pi's gpio-sim lines (tools/vm-test).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from capstan.board.gpio import GpioInput, GpioOutput, GpioPwm
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.pins import SimFactory


class _PlainMock(MockFactory):
    pwm_pin_class = MockPWMPin


@pytest.fixture(params=["MockFactory", "SimFactory"])
def rig(request: pytest.FixtureRequest) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    loop = SimulatedTimeLoop()
    factory = _PlainMock() if request.param == "MockFactory" else SimFactory(loop.time)
    yield factory, loop
    factory.reset()
    loop.close()


def test_an_output_starts_low_and_follows_writes(rig) -> None:
    factory, _ = rig
    out = GpioOutput(factory, 23)
    assert factory.pin(23).state == 0 and out.value is False
    out.write(True)
    assert factory.pin(23).state == 1 and out.value is True
    out.close()
    assert factory.pin(23).state == 0


def test_pwm_starts_at_zero_clamps_and_ends_at_zero(rig) -> None:
    factory, _ = rig
    pwm = GpioPwm(factory, 12, 10000)
    assert pwm.value == 0.0
    pwm.write(0.25)
    pin = factory.pin(12, pin_class=factory.pwm_pin_class)
    assert pin.state == pytest.approx(0.25) and pin.frequency == 10000
    pwm.write(1.7)
    assert pwm.value == 1.0
    pwm.close()
    assert pin.state == 0


def test_input_edges_arrive_in_the_loop_with_their_levels(rig) -> None:
    factory, loop = rig
    inp = GpioInput(factory, 5, loop, pull="up")
    assert inp.read() is True  # the pull-up holds a released button high
    seen: list[bool] = []
    inp.watch(lambda level, t: seen.append(level))
    factory.pin(5).drive_low()
    factory.pin(5).drive_high()
    assert seen == []  # delivered through the loop, not from the caller's stack
    loop.run_until_complete(asyncio.sleep(0))
    assert seen == [False, True]
    inp.watch(None)
    factory.pin(5).drive_low()
    loop.run_until_complete(asyncio.sleep(0))
    assert seen == [False, True]
    inp.close()


def test_external_pulls_switch_the_pis_own_off(board) -> None:
    import dataclasses

    from capstan.board import open_gpio

    loop = SimulatedTimeLoop()
    factory = _PlainMock()
    try:
        for pulls, want in (("internal", "up"), ("external", "floating")):
            pins = open_gpio(factory, dataclasses.replace(board, pulls=pulls), loop)
            assert factory.pin(board.buttons["play"].pin).pull == want
            assert factory.pin(board.tachometers["take_up"].pin).pull == want
            for group in pins.values():
                for pin in group.values():
                    pin.close()
    finally:
        factory.reset()
        loop.close()
