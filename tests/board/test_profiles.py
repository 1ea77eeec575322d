"""Mechanism profiles in the board description: chosen, checked, refused in one line."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from capstan.errors import BoardFileError
from capstan.hardware.description import DEFAULT_PATH, parse_board

RAW = tomllib.loads(DEFAULT_PATH.read_text())


def board(edit: Any = None, profile: str | None = None) -> Any:
    raw = copy.deepcopy(RAW)
    if profile:
        raw["mechanism"]["profile"] = profile
    if edit:
        edit(raw)
    return parse_board(raw)


@pytest.mark.parametrize("profile,auto_reverse,by_hand", [
    ("reference", False, False), ("direct-drive", False, False), ("crp42602y", True, False),
    ("mechanical", False, True)])
def test_each_profile_loads_with_its_capabilities(profile: str, auto_reverse: bool,
                                                  by_hand: bool) -> None:
    m = board(profile=profile).mechanism
    assert m.capabilities.auto_reverse is auto_reverse
    assert m.capabilities.by_hand is by_hand
    if m.profile == "reference":
        assert m.table is None
    else:
        assert m.table is not None and m.table.profile == profile


def test_crp_constants_and_pins_are_read() -> None:
    t = board(profile="crp42602y").mechanism.table
    assert t.signals["solenoid"].output and not t.signals["solenoid"].active_low
    assert t.signals["gear_status_sw"].active_low
    assert (t.unhook, t.reel_end, t.return_turn, t.retries) == (0.02, 0.4, 0.36, 1)


def _set(path: tuple[str, ...], value: Any) -> Any:
    def apply(raw: dict[str, Any]) -> None:
        table = raw
        for name in path[:-1]:
            table = table[name]
        if value is None:
            del table[path[-1]]
        else:
            table[path[-1]] = value
    return apply


BAD = [
    (("mechanism", "profile"), "tanashin", 'mechanism.profile = "tanashin": must be one of'),
    (("mechanism", "crp42602y", "unhook"), float("nan"), "mechanism.crp42602y.unhook = nan"),
    (("mechanism", "crp42602y", "retries"), 1.5, "mechanism.crp42602y.retries = 1.5"),
    (("mechanism", "crp42602y", "reel_end"), 0.25, "mechanism.crp42602y.reel_end = 0.25"),
    (("mechanism", "crp42602y", "solenoid"), {"pin": 2}, "mechanism.crp42602y.solenoid.pin 2 "
     "is taken by I2C-1 SDA"),
    (("mechanism", "crp42602y", "solenoid"), {"pin": 5},
     "mechanism.crp42602y.solenoid.pin 5 is already used by buttons.play"),
    (("mechanism", "crp42602y", "rec_b_sw"), {"pin": 14, "active": "low"},
     "mechanism.crp42602y.rec_b_sw.pin 14 is already used by mechanism.crp42602y.rec_a_sw"),
    (("mechanism", "crp42602y", "gear_status_sw"), {"pin": 22},
     "mechanism.crp42602y.gear_status_sw.active is missing"),
    (("mechanism", "crp42602y", "gear_status_sw"), None,
     "mechanism.crp42602y.gear_status_sw is missing"),
    (("mechanism", "crp42602y", "coil"), {"pin": 9}, "unknown key mechanism.crp42602y.coil"),
    (("mechanism", "mechanical", "stop_window"), 2.0, "mechanism.mechanical.stop_window = 2"),
    (("mechanism", "mechanical", "key_play"), {"pin": 6, "active": "sideways"},
     'mechanism.mechanical.key_play.active = "sideways"'),
]


@pytest.mark.parametrize("path,value,message", BAD)
def test_a_bad_profile_value_is_refused_in_one_line_naming_the_key(path: tuple[str, ...],
                                                                   value: Any,
                                                                   message: str) -> None:
    with pytest.raises(BoardFileError) as err:
        board(_set(path, value))
    text = str(err.value)
    assert message in text and "\n" not in text
    assert text.startswith(str(DEFAULT_PATH))


def test_a_chosen_profile_needs_its_table() -> None:
    def drop(raw: dict[str, Any]) -> None:
        del raw["mechanism"]["crp42602y"]
    with pytest.raises(BoardFileError, match=r"missing \[mechanism.crp42602y\]"):
        board(drop, profile="crp42602y")
    assert board(drop).mechanism.profile == "reference"  # not chosen: not needed


@pytest.mark.parametrize("profile", ["crp42602y", "mechanical"])
def test_the_pins_of_a_profile_are_its_own_and_the_freed_parts_are_not_opened(
        profile: str) -> None:
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from capstan.board import open_gpio
    from capstan.hardware.profiles import FREES
    from capstan.sim.clock import SimulatedTimeLoop

    class Factory(MockFactory):
        pwm_pin_class = MockPWMPin

    d = board(profile=profile)
    loop, factory = SimulatedTimeLoop(), Factory()
    try:
        pins = open_gpio(factory, d, loop)
        t = d.mechanism.table
        assert set(pins["signals"]) == set(t.signals)
        for sig in t.signals.values():
            assert factory.pin(sig.pin).function == ("output" if sig.output else "input")
            if not sig.output:
                assert factory.pin(sig.pin).pull == ("up" if sig.active_low else "down")
        if profile == "crp42602y":
            assert factory.pin(t.signals["solenoid"].pin).state == 0  # off until pulled
        opened = {f"{group}.{role}" for group in ("buttons", "switches", "tachometers",
                                                  "outputs") for role in pins[group]}
        assert not opened & set(FREES[profile])
        assert {"outputs.motor", "outputs.record_relay", "switches.notch_type2",
                "buttons.pair"} <= opened
        if profile == "mechanical":  # the keys' switches on the transport buttons' pins
            assert "buttons.play" not in opened and "switches.cassette_in" in opened
            assert t.signals["key_play"].pin == d.buttons["play"].pin
        else:
            assert "buttons.play" in opened
        for group in pins.values():
            for pin in group.values():
                pin.close()
    finally:
        factory.reset()
        loop.close()
