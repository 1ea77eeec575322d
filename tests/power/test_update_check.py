"""The updater's power check: one reading of the chips, charger or battery ≥ 30 %."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstan.hardware.description import load_board
from capstan.power import update_check
from capstan.power.update_check import board_power_check, power_check_for, power_ok_on
from capstan.sim.chips import attach_power_models
from capstan.sim.i2c import SimI2CBus

BOARD = load_board()
GAUGE, CHARGER = BOARD.i2c["fuel_gauge"].address, BOARD.i2c["charger"].address


def bus_with(percent: float, charger: bool) -> SimI2CBus:
    bus = SimI2CBus(seed=3)
    models = attach_power_models(bus, BOARD, percent=percent, charger=charger)
    models.gauge.sample()
    bus.step(1.0)  # the charger's status and ADC are up to date
    return bus


def check(bus: SimI2CBus) -> bool:
    return power_ok_on(bus, GAUGE, CHARGER, sleep=lambda s: None)


@pytest.mark.parametrize(("percent", "charger", "ok"), [
    (80.0, False, True), (30.5, False, True), (29.0, False, False), (5.0, False, False),
    (5.0, True, True), (29.0, True, True)])
def test_charger_present_or_battery_at_30_percent(percent: float, charger: bool,
                                                  ok: bool) -> None:
    assert check(bus_with(percent, charger)) is ok


def test_nothing_readable_allows_the_install() -> None:
    assert check(SimI2CBus())  # no chips answer: a bench supply
    bus = bus_with(10.0, False)
    bus.inject_nack(10**6, GAUGE)
    assert check(bus)  # the charger says no input, the gauge is unknown: not a reason to block


def test_a_nack_burst_is_retried_and_one_garbage_read_decides_nothing() -> None:
    bus = bus_with(10.0, False)
    bus.inject_nack(3)
    assert not check(bus)
    for nth in range(1, 7):  # the garbage lands on each of the gauge's reads in turn
        for percent, ok in ((10.0, False), (80.0, True)):
            bus = bus_with(percent, False)
            reads = 0
            read = bus.read_i2c_block_data

            def garbage_once(addr: int, register: int, length: int,
                             read=read, nth=nth, bus=bus) -> list[int]:
                nonlocal reads
                reads += addr == GAUGE
                if addr == GAUGE and reads == nth:
                    bus.inject_garbage(1, GAUGE)
                return read(addr, register, length)

            bus.read_i2c_block_data = garbage_once  # type: ignore[method-assign]
            assert check(bus) is ok


def test_the_check_handed_to_the_installer_reads_the_board_when_called() -> None:
    reads: list[str] = []

    def low() -> SimI2CBus:
        reads.append("low")
        return bus_with(10.0, False)

    power_ok = board_power_check(low)
    assert reads == []  # nothing is read before the installer asks
    assert power_ok() is False and reads == ["low"]
    assert board_power_check(lambda: bus_with(10.0, True))() is True
    assert update_check.power_ok() is True  # the default check reads nothing


def test_an_install_into_another_root_reads_no_chip(tmp_path: Path) -> None:
    assert power_check_for(tmp_path) is update_check.power_ok
    on_player = power_check_for(Path("/"))
    assert on_player is not update_check.power_ok and callable(on_player)


def test_no_i2c_bus_allows_the_install() -> None:
    def no_bus() -> SimI2CBus:
        raise FileNotFoundError("/dev/i2c-1")

    assert board_power_check(no_bus)() is True
