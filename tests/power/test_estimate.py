from __future__ import annotations

import pytest

from capstan.power.config import PowerConfig
from capstan.power.estimate import DischargeEstimator
from capstan.power.policy import BatteryPolicy, PowerReading

TYPICAL = {"wired": 0.25, "bluetooth": 0.5, "recording": 1.0}


def test_until_measured_the_rate_comes_from_the_typical_current() -> None:
    est = DischargeEstimator(2500, TYPICAL)
    # 0.25 A from 2500 mAh: 10 %/h
    assert est.rate("wired") == pytest.approx(10 / 3600)
    assert est.remaining(55.0, "wired", reserve=5.0) == pytest.approx(5 * 3600)
    assert not est.measured("wired")
    with pytest.raises(ValueError, match="unknown power mode"):
        est.rate("radio")


def test_each_mode_learns_its_own_rate_and_remembers_it() -> None:
    est = DischargeEstimator(2500, TYPICAL, window=600, min_span=120)
    percent, t = 80.0, 0.0
    for _ in range(200):                               # bluetooth: 36 %/h
        est.add(t, percent, "bluetooth", discharging=True)
        t, percent = t + 2, percent - 0.02
    for _ in range(200):                               # recording: 72 %/h
        est.add(t, percent, "recording", discharging=True)
        t, percent = t + 2, percent - 0.04
    assert est.rate("bluetooth") == pytest.approx(0.01)
    assert est.rate("recording") == pytest.approx(0.02)
    assert est.rate("wired") == pytest.approx(10 / 3600)


def test_charging_does_not_teach_a_discharge_rate() -> None:
    est = DischargeEstimator(2500, TYPICAL)
    for i in range(200):
        est.add(i * 2.0, 50 + i * 0.01, "wired", discharging=False)
    assert not est.measured("wired")


def test_can_finish_a_side() -> None:
    p = BatteryPolicy(PowerConfig(typical_current=TYPICAL, capacity_mah=2500))
    on_battery = {"on_input": False, "charge_state": "not_charging", "faults": ()}
    for i in range(3):
        p.update(i * 2.0, PowerReading(15.0, 3.65, **on_battery))  # type: ignore[arg-type]
    # 10 % above critical; recording at 1 A = 40 %/h: 900 s
    assert p.remaining("recording") == pytest.approx(900, rel=0.01)
    assert p.can_finish(600, "recording")
    assert not p.can_finish(30 * 60, "recording")
    assert p.can_finish(30 * 60, "wired")            # 3600 s at 0.25 A
    plugged = {"on_input": True, "charge_state": "fast_charge", "faults": ()}
    for i in range(2):
        p.update(10 + i * 2.0, PowerReading(15.0, 3.8, **plugged))  # type: ignore[arg-type]
    assert p.can_finish(10 * 3600, "recording")
