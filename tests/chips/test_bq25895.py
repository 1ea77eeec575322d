from __future__ import annotations

import pytest

from capstan.chips.bq25895 import BQ25895, ChargerFaults, ChargerStatus
from capstan.chips.register import ChipNotFound, ChipRangeError
from capstan.sim.chips import SimBattery
from capstan.sim.chips.bq25895 import BQ25895Model
from capstan.sim.i2c import SimI2CBus


@pytest.fixture
def charger(bus: SimI2CBus, charger_model: BQ25895Model) -> BQ25895:
    return BQ25895(bus)


def test_defaults_read_in_si_units(charger: BQ25895) -> None:
    assert charger.input_current_limit == pytest.approx(0.5)
    assert charger.charge_current_limit == pytest.approx(2.048)
    assert charger.charge_voltage_limit == pytest.approx(4.208)
    assert charger.termination_current == pytest.approx(0.256)
    assert charger.minimum_system_voltage == pytest.approx(3.5)
    assert charger.watchdog_timeout == 40.0
    assert charger.charging_enabled and not charger.high_impedance


@pytest.mark.parametrize(("name", "good", "bad", "hint"), [
    ("input_current_limit", 1.5, 3.3, "0.1 to 3.25 A in steps of 50 mA"),
    ("input_current_limit", 0.1, 0.05, "0.1 to 3.25 A"),
    ("charge_current_limit", 1.024, 5.1, "0 to 5.056 A in steps of 64 mA"),
    ("charge_voltage_limit", 4.192, 4.7, "3.84 to 4.608 V"),
    ("termination_current", 0.128, 0.0, "0.064 to 1.024 A"),
    ("minimum_system_voltage", 3.3, 2.9, "3 to 3.7 V"),
])
def test_setters_round_trip_and_check_their_range(charger, name, good, bad, hint) -> None:
    setattr(charger, name, good)
    assert getattr(charger, name) == pytest.approx(good, abs=1e-6)
    with pytest.raises(ChipRangeError, match=hint):
        setattr(charger, name, bad)
    assert getattr(charger, name) == pytest.approx(good, abs=1e-6)


def test_watchdog_timeouts(charger) -> None:
    for seconds in (0.0, 80.0, 160.0, 40.0):
        charger.watchdog_timeout = seconds
        assert charger.watchdog_timeout == seconds
    with pytest.raises(ChipRangeError, match="0 \\(disabled\\), 40, 80 or 160 s"):
        charger.watchdog_timeout = 30


def test_flags(charger) -> None:
    charger.charging_enabled = False
    assert not charger.charging_enabled
    charger.high_impedance = True
    assert charger.high_impedance
    charger.adc_continuous = True
    assert charger.adc_continuous


def test_no_input_no_charge(run, bus, charger, battery: SimBattery) -> None:
    battery.load_current = 0.3
    charger.start_adc()
    assert charger.adc_busy
    run(bus, 1.1)
    assert not charger.adc_busy
    assert not charger.input_present and not charger.power_good
    assert charger.input_source == "none"
    assert charger.charge_state == "not_charging"
    assert charger.battery_voltage == pytest.approx(battery.voltage, abs=0.02)
    assert charger.system_voltage == pytest.approx(battery.voltage, abs=0.02)
    assert charger.charge_current == 0.0
    assert battery.current == pytest.approx(-0.3)


def test_charging_from_the_input(run, bus, charger, charger_model, battery) -> None:
    charger.input_current_limit = 2.0
    charger.charge_current_limit = 1.024
    charger.adc_continuous = True
    charger_model.plugged = True
    battery.load_current = 0.3
    run(bus, 2.0)
    assert charger.input_present and charger.power_good
    assert charger.input_source == "adapter"
    assert charger.read_status() == ChargerStatus("adapter", "fast_charge", True)
    assert charger.vbus_voltage == pytest.approx(5.0, abs=0.1)
    assert charger.charge_current == pytest.approx(1.024, abs=0.05)
    assert battery.current == pytest.approx(1.024, abs=1e-3)   # the input feeds the load


def test_a_full_cell_terminates_then_recharges(run, bus, charger, charger_model, battery) -> None:
    battery.percent = 95
    charger.watchdog_timeout = 0
    charger_model.plugged = True
    run(bus, 1800, dt=0.5)
    assert charger.charge_state == "done"
    assert battery.percent > 97.5     # terminated at ITERM, a little short of 100 %
    battery.load_current = 2.0
    charger_model.plugged = False
    run(bus, 360, dt=0.5)
    battery.load_current = 0.0
    charger_model.plugged = True
    run(bus, 1.0)
    assert charger.charge_state == "fast_charge"


def test_unplugged_while_charging(run, bus, charger, charger_model, battery) -> None:
    charger_model.plugged = True
    battery.load_current = 0.3
    run(bus, 1.0)
    assert charger.charge_state == "fast_charge"
    charger_model.plugged = False
    run(bus, 0.1)
    assert not charger.input_present
    assert charger.charge_state == "not_charging"
    assert battery.current == pytest.approx(-0.3)


def test_faults_latch_and_clear_on_read(charger, charger_model) -> None:
    assert charger.read_faults() == ChargerFaults()
    charger_model.inject_fault("thermal")
    charger_model.inject_fault("hot")
    faults = charger.read_faults()
    assert faults.charge == "thermal" and faults.ntc == "hot"
    assert faults.names == ("charge_thermal", "temperature_hot")
    charger_model.clear_faults()
    assert charger.read_faults() == ChargerFaults()


def test_a_charge_fault_stops_charging(run, bus, charger, charger_model) -> None:
    charger_model.plugged = True
    charger_model.inject_fault("safety_timer")
    run(bus, 0.5)
    assert charger.charge_state == "not_charging"


def test_the_watchdog_restores_defaults_unless_kicked(run, bus, charger, charger_model) -> None:
    charger.charge_current_limit = 0.512
    for _ in range(5):
        run(bus, 30)
        charger.kick_watchdog()
    assert charger.charge_current_limit == pytest.approx(0.512)
    assert charger_model.watchdog_expiries == 0
    run(bus, 41)
    assert charger_model.watchdog_expiries == 1
    assert charger.charge_current_limit == pytest.approx(2.048)
    assert charger.read_faults().watchdog
    assert not charger.read_faults().watchdog          # latched: cleared by the read


def test_ship_mode_cuts_the_cell_after_the_delay(run, bus, charger, charger_model, battery):
    charger.watchdog_timeout = 0
    battery.load_current = 0.2
    charger.ship_mode(delay=True)
    run(bus, 5)
    assert battery.connected and charger_model.system_powered
    run(bus, 10)
    assert not battery.connected and not charger_model.system_powered
    charger_model.plugged = True
    run(bus, 0.1)
    assert battery.connected


def test_reset_restores_defaults(charger) -> None:
    charger.charge_current_limit = 0.5
    charger.reset()
    assert charger.charge_current_limit == pytest.approx(2.048)


def test_garbage_status_reads_are_recognisable() -> None:
    assert not ChargerStatus.from_raw(0b011_00_000).plausible      # VBUS_STAT 011 is unused
    assert not ChargerStatus.from_raw(0b000_10_000).plausible      # charging without power
    assert not ChargerFaults.from_raw(0x07).plausible              # NTC 111 is unused
    assert ChargerStatus.from_raw(0b010_10_100).plausible


def test_chip_id_check_says_check_your_wiring(bus: SimI2CBus, battery: SimBattery) -> None:
    with pytest.raises(ChipNotFound, match="check your wiring"):
        BQ25895(bus)
    model = bus.attach(0x6A, BQ25895Model(battery))
    model.registers[0x14] = 0x11                                # a BQ25890's part number
    with pytest.raises(ChipNotFound, match="part number 111"):
        BQ25895(bus)
