from __future__ import annotations

import pytest

from capstan.chips.pca9685 import PCA9685, LedChannel, LedDriver
from capstan.chips.register import ChipNotFound, ChipRangeError
from capstan.hardware.protocols import PwmOut
from capstan.sim.chips.pca9685 import PCA9685Model
from capstan.sim.i2c import SimI2CBus


@pytest.fixture
def driver(bus: SimI2CBus, led_model: PCA9685Model) -> PCA9685:
    return PCA9685(bus, 0x40, frequency=1000)


def test_start_up_wakes_the_chip_with_every_channel_off(driver, led_model) -> None:
    assert not led_model.registers[0x00] & 0x10
    assert [led_model.duty(ch) for ch in range(16)] == [0.0] * 16
    assert driver.frequency == pytest.approx(1000, rel=0.03)
    assert led_model.frequency == pytest.approx(driver.frequency)


@pytest.mark.parametrize("duty", [0.0, 0.001, 0.25, 0.5, 0.999, 1.0])
def test_duty_round_trip(driver, led_model, duty) -> None:
    driver.set_duty(5, duty)
    assert led_model.duty(5) == pytest.approx(duty, abs=1 / 4096)
    assert driver.duty(5) == pytest.approx(duty, abs=1 / 4096)


def test_range_checks(driver) -> None:
    with pytest.raises(ChipRangeError, match="choose 0 to 1"):
        driver.set_duty(0, 1.5)
    with pytest.raises(ChipRangeError, match="24 to 1526 Hz"):
        driver.frequency = 2000
    with pytest.raises(ValueError, match=r"channels are 0\.\.15"):
        driver.channel(16)


def test_frequency_is_written_while_asleep(driver, led_model) -> None:
    driver.frequency = 200
    assert led_model.frequency == pytest.approx(200, rel=0.02)
    assert not led_model.registers[0x00] & 0x10


def test_a_channel_is_a_pwm_out(driver, led_model) -> None:
    changes = []
    led_model.on_change = lambda ch, d: changes.append((ch, d))
    led: PwmOut = driver.channel(3)
    assert isinstance(led, LedChannel)
    led.write(0.5)
    assert led.value == 0.5 and led_model.duty(3) == 0.5
    led.close()
    assert led_model.duty(3) == 0.0
    assert changes == [(3, 0.5), (3, 0.0)]


def test_a_refused_led_write_does_not_raise(bus, driver, led_model) -> None:
    led = driver.channel(1)
    bus.inject_nack(3, 0x40)
    led.write(1.0)                 # logged, not raised: an LED must not stop the player
    assert led.value == 1.0
    led.write(1.0)
    assert led_model.duty(1) == 1.0


def test_without_auto_increment_a_block_write_lands_on_one_register(bus, led_model) -> None:
    bus.write_byte_data(0x40, 0x00, 0x00)            # AI off
    bus.write_i2c_block_data(0x40, 0x06, [1, 2, 3, 4])
    assert led_model.registers[0x06] == 4 and led_model.registers.get(0x07, 0) == 0


def test_no_chip_says_check_your_wiring(bus: SimI2CBus) -> None:
    with pytest.raises(ChipNotFound, match="check your wiring"):
        LedDriver(bus, 0x40)
