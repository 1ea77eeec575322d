from __future__ import annotations

import pytest

from capstan.chips.max17048 import MAX17048
from capstan.chips.register import ChipNotFound, ChipRangeError
from capstan.sim.chips import SimBattery
from capstan.sim.chips.max17048 import VERSION, MAX17048Model
from capstan.sim.i2c import SimI2CBus


@pytest.fixture
def gauge(bus: SimI2CBus, gauge_model: MAX17048Model) -> MAX17048:
    return MAX17048(bus)


def test_measurements_in_si_units(gauge: MAX17048, battery: SimBattery) -> None:
    assert gauge.cell_voltage == pytest.approx(battery.voltage, abs=78.125e-6)
    assert gauge.state_of_charge == pytest.approx(50.0, abs=1 / 256)
    assert gauge.charge_rate == 0.0
    assert gauge.version & 0xFFF0 == 0x0010


def test_charge_rate_and_voltage_follow_the_load(run, bus, gauge, battery) -> None:
    battery.load_current = 1.0                  # 1 A from 2000 mAh: -50 %/h
    run(bus, 0.3)
    assert gauge.charge_rate == pytest.approx(-50.0, abs=0.208)
    assert gauge.cell_voltage == pytest.approx(battery.open_circuit_voltage - 0.12, abs=1e-3)


def test_readings_change_only_when_the_gauge_samples(run, bus, gauge, gauge_model, battery) -> None:
    gauge.hibernate()
    run(bus, 0.5)
    assert gauge.hibernating
    before = gauge.state_of_charge
    battery.percent = 40
    run(bus, 10)
    assert gauge.state_of_charge == before    # hibernating: one sample per 45 s
    run(bus, 40)
    assert gauge.state_of_charge == pytest.approx(40, abs=0.01)
    gauge.wake()
    run(bus, 0.1)
    assert not gauge.hibernating


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("hibernation_threshold", 10.4, 53.1),
    ("activity_threshold", 0.05, 0.32),
    ("voltage_alert_min", 3.4, 5.2),
    ("voltage_alert_max", 4.3, -0.1),
    ("empty_alert_threshold", 10, 33),
])
def test_setters_round_trip_and_check_their_range(gauge, name, good, bad) -> None:
    setattr(gauge, name, good)
    assert getattr(gauge, name) == pytest.approx(good, abs=0.011)
    with pytest.raises(ChipRangeError, match="out of range: choose"):
        setattr(gauge, name, bad)
    assert getattr(gauge, name) == pytest.approx(good, abs=0.011)


def test_empty_alert_threshold_zero_is_refused(gauge) -> None:
    with pytest.raises(ChipRangeError, match="1 to 32 %"):
        gauge.empty_alert_threshold = 0


def test_low_voltage_and_low_charge_alerts(run, bus, gauge, battery) -> None:
    gauge.clear_alert()
    assert not gauge.alert and gauge.alert_reasons == set()
    gauge.voltage_alert_min = 3.5
    gauge.empty_alert_threshold = 10
    battery.percent = 4
    run(bus, 0.3)
    assert gauge.alert
    assert gauge.alert_reasons == {"voltage_low", "soc_low"}
    gauge.clear_alert()
    assert not gauge.alert


def test_soc_change_alert(run, bus, gauge, battery) -> None:
    gauge.clear_alert()
    gauge.soc_change_alert = True
    assert gauge.soc_change_alert
    run(bus, 0.3)
    battery.percent = 48.5
    run(bus, 0.3)
    assert "soc_change" in gauge.alert_reasons


def test_quick_start_samples_at_once(run, bus, gauge, battery) -> None:
    gauge.hibernate()
    run(bus, 0.5)
    battery.percent = 30
    gauge.quick_start()
    assert gauge.state_of_charge == pytest.approx(30, abs=0.01)


def test_read_only_registers_ignore_writes(run, bus, gauge, gauge_model) -> None:
    bus.write_i2c_block_data(0x36, VERSION, [0, 0])
    assert gauge.version == 0x0012


def test_chip_id_check_says_check_your_wiring(bus: SimI2CBus, battery: SimBattery) -> None:
    with pytest.raises(ChipNotFound, match="check your wiring"):
        MAX17048(bus)                              # nothing at 0x36
    model = bus.attach(0x36, MAX17048Model(battery))
    model.words[VERSION] = 0x0042                  # something else answers
    with pytest.raises(ChipNotFound, match="VERSION reads 0x0042"):
        MAX17048(bus)

