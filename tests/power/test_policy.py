"""BatteryPolicy is pure: readings and `now` in, events out."""

from __future__ import annotations

import pytest

from capstan.errors import ConfigError
from capstan.power.config import PowerConfig
from capstan.power.policy import BatteryPolicy, PowerReading

ON_BATTERY = {"on_input": False, "charge_state": "not_charging", "faults": ()}


def feed(policy: BatteryPolicy, start: float, readings: list[PowerReading],
         period: float = 2.0) -> list[str]:
    whats = []
    for i, r in enumerate(readings):
        whats += [e.what for e in policy.update(start + i * period, r)]
    return whats


def cell(soc: float | None, volts: float | None = 3.8, **kw: object) -> PowerReading:
    return PowerReading(soc=soc, voltage=volts, **{**ON_BATTERY, **kw})  # type: ignore[arg-type]


def test_a_plausible_reading_is_believed() -> None:
    p = BatteryPolicy()
    assert p.percent is None and not p.gauge_known
    assert feed(p, 0, [cell(60.0), cell(60.0)]) == []
    assert p.percent == pytest.approx(60.0) and p.gauge_known and p.supply == "battery"


@pytest.mark.parametrize("garbage", [
    cell(255.99, 3.8),        # 0xFFFF in SOC
    cell(2.0, 3.8),           # a jump no battery makes in 2 s
    cell(60.0, 5.1199),       # 0xFFFF in VCELL
    cell(60.0, 3.1),          # a voltage jump
    cell(None, None),         # a read that failed after its retries
])
def test_single_bad_readings_change_nothing(garbage: PowerReading) -> None:
    p = BatteryPolicy()
    whats = feed(p, 0, [cell(60.0)] * 5 + [garbage] + [cell(60.0)] * 5)
    assert whats == []
    assert p.percent == pytest.approx(60.0) and p.level == "ok"


def test_repeated_garbage_at_a_low_charge_never_shuts_down() -> None:
    p = BatteryPolicy()
    readings = []
    for _ in range(50):
        readings += [cell(7.0, 3.55), cell(1.0, 2.9), cell(255.99, 5.1)]
    assert "critical" not in feed(p, 0, readings)


def test_critical_at_5_percent_confirmed_by_three_readings() -> None:
    p = BatteryPolicy(PowerConfig(soc_time_constant=0.001))
    assert feed(p, 0, [cell(5.3, 3.5), cell(5.1, 3.5)]) == []
    assert feed(p, 4, [cell(4.9, 3.5), cell(4.9, 3.5)]) == ["warning"]
    events = p.update(8, cell(4.8, 3.5))
    assert [e.what for e in events] == ["critical"]
    assert events[0].reason == "soc" and p.shutdown_reason == "soc"
    assert p.update(10, cell(4.7, 3.5)) == []          # once


def test_a_sustained_low_voltage_is_critical() -> None:
    p = BatteryPolicy()
    assert feed(p, 0, [cell(20.0, 3.45), cell(20.0, 3.38), cell(20.0, 3.38)]) == []
    assert feed(p, 6, [cell(20.0, 3.37)]) == ["critical"]
    assert p.shutdown_reason == "voltage"


def test_a_voltage_dip_that_recovers_is_not_critical() -> None:
    p = BatteryPolicy()
    readings = [cell(20.0, 3.38), cell(20.0, 3.38), cell(20.0, 3.5)] * 10
    assert feed(p, 0, readings) == []


def test_unreadable_polls_neither_confirm_nor_clear_a_low_voltage() -> None:
    p = BatteryPolicy()
    readings = [cell(20.0, 3.38), cell(None, None), cell(20.0, 3.38), cell(None, None),
                cell(20.0, 3.37)]
    assert feed(p, 0, readings) == ["critical"]


def test_warning_at_15_percent_once_until_recharged() -> None:
    p = BatteryPolicy(PowerConfig(soc_time_constant=0.001))
    assert feed(p, 0, [cell(15.5)] * 3 + [cell(15.0)] * 3) == ["warning"]
    assert feed(p, 12, [cell(14.0)] * 10) == []
    assert p.level == "warning"
    feed(p, 40, [cell(20.0)] * 4)           # re-anchored after a real jump (a fresh cell)
    assert p.level == "ok"


def test_no_shutdown_while_charging_from_empty() -> None:
    p = BatteryPolicy()
    charging = {"on_input": True, "charge_state": "fast_charge", "faults": ()}
    readings = [PowerReading(soc=1.0, voltage=3.3, **charging)] * 20  # type: ignore[arg-type]
    assert feed(p, 0, readings) == ["charging"]


def test_charging_charged_and_unplugged() -> None:
    p = BatteryPolicy()
    plugged = {"on_input": True, "faults": ()}
    readings = [PowerReading(50.0, 3.9, charge_state="fast_charge", **plugged)] * 3
    readings += [PowerReading(50.0, 3.9, charge_state="done", **plugged)]      # a glitch
    readings += [PowerReading(50.0, 3.9, charge_state="fast_charge", **plugged)] * 2
    readings += [PowerReading(50.0, 3.9, charge_state="done", **plugged)] * 2
    readings += [cell(50.0, 3.9)] * 2
    assert feed(p, 0, readings) == ["charging", "charged", "discharging"]  # type: ignore[arg-type]


def test_charger_faults_are_reported_when_two_polls_agree() -> None:
    p = BatteryPolicy()
    fault = cell(50.0, faults=("charge_thermal",))
    events = []
    for i, r in enumerate([cell(50.0), fault, cell(50.0), fault, fault, fault, cell(50.0),
                           cell(50.0)]):
        events += p.update(i * 2.0, r)
    assert [e.what for e in events] == ["charger_fault", "charger_ok"]
    assert events[0].faults == ("charge_thermal",)


def test_a_gauge_that_cannot_be_read_is_unknown_never_full_never_empty() -> None:
    p = BatteryPolicy()
    feed(p, 0, [cell(40.0)] * 3)
    whats = feed(p, 6, [cell(None, None)] * 20)
    assert whats == ["gauge_unknown"]
    assert p.percent is None and not p.gauge_known and p.level == "ok"
    assert p.remaining("wired") is None and p.can_finish(3600, "wired")
    assert feed(p, 100, [cell(39.0)]) == ["gauge_ok"]
    assert p.percent == pytest.approx(39.0)


def test_a_gauge_dead_from_start_up_is_reported_and_nothing_else() -> None:
    p = BatteryPolicy()
    dead = PowerReading(None, None, charger_voltage=3.8, **ON_BATTERY)  # type: ignore[arg-type]
    assert feed(p, 0, [dead] * 100) == ["gauge_unknown"]
    assert p.percent is None and p.level == "ok"


def test_with_the_gauge_dead_the_charger_voltage_guards_the_cell() -> None:
    p = BatteryPolicy()
    dying = PowerReading(None, None, charger_voltage=3.36, **ON_BATTERY)  # type: ignore[arg-type]
    assert feed(p, 0, [dying] * 4) == ["gauge_unknown", "critical"]
    assert p.shutdown_reason == "voltage"


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"power\.kick_interval"):
        PowerConfig(kick_interval=30)
    with pytest.raises(ConfigError, match=r"power\.watchdog_timeout"):
        PowerConfig(watchdog_timeout=30)
    with pytest.raises(ConfigError, match=r"unknown key power\.colour"):
        PowerConfig.from_dict({"colour": "red"})
    assert PowerConfig.from_dict({"poll_interval": 1.0}).poll_interval == 1.0


def test_charge_led() -> None:
    p = BatteryPolicy()
    assert p.charge_led(0.0) == (0.0, None)
    plugged = PowerReading(50.0, 3.9, on_input=True, charge_state="fast_charge", faults=())
    feed(p, 0, [plugged] * 2)
    assert p.charge_led(5.0) == (1.0, None)
    done = PowerReading(50.0, 3.9, on_input=True, charge_state="done", faults=())
    feed(p, 4, [done] * 2)
    assert p.charge_led(9.0) == (0.2, None)
    fault = PowerReading(50.0, 3.9, on_input=True, charge_state="not_charging",
                         faults=("charge_input",))
    feed(p, 8, [fault] * 2)
    assert p.charge_led(12.0) == (1.0, 12.5)
    assert p.charge_led(12.6) == (0.0, 13.0)


def test_a_genuine_jump_re_anchors_the_filter_instead_of_drifting_to_it() -> None:
    p = BatteryPolicy()  # the default 20 s filter
    feed(p, 0, [cell(80.0)] * 3)
    assert feed(p, 6, [cell(9.0)] * 2) == []            # two readings: not yet believed
    assert p.percent == pytest.approx(80.0)
    feed(p, 10, [cell(9.0)])                            # the third agrees: a new estimate
    assert p.percent == pytest.approx(9.0)              # not 80 % drifting down for a minute
    assert feed(p, 12, [cell(9.0)] * 2) == ["warning"]  # three accepted low readings
    assert not p.estimator.measured("wired")            # the jump is no discharge rate
