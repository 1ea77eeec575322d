from __future__ import annotations

from capstan.power.plausible import Plausible


def test_out_of_range_and_jumps_are_discarded() -> None:
    f = Plausible(0, 102, jump=1.0, rate=0.1)
    assert f.check(0, 50.0)
    assert not f.check(2, 255.99)
    assert not f.check(4, 30.0)
    assert f.check(6, 50.4)
    assert f.discarded == 2


def test_a_real_change_is_accepted_when_readings_agree() -> None:
    f = Plausible(0, 102, jump=1.0, rate=0.1, agree=3)
    f.check(0, 50.0)
    assert not f.check(2, 40.0)
    assert not f.check(4, 40.1)
    assert f.check(6, 40.0)
    assert f.value == 40.0


def test_the_allowance_grows_with_the_time_between_readings() -> None:
    f = Plausible(0, 102, jump=1.0, rate=0.1)
    f.check(0, 50.0)
    assert f.check(600, 10.0)
