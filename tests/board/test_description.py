"""hardware/board.toml loads, and every kind of mistake in it is named."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from capstan.board.wiring import update_readme
from capstan.errors import BoardError
from capstan.hardware.description import DEFAULT_PATH, load_board, parse_board

RAW = tomllib.loads(DEFAULT_PATH.read_text())


def test_the_reference_build_loads() -> None:
    d = load_board()
    assert set(d.buttons) == {"play", "stop", "ff", "rew", "rec", "pair", "vol_up", "vol_down"}
    assert d.outputs["motor"].pwm and not d.outputs["record_relay"].pwm
    assert d.i2c["fuel_gauge"].address == 0x36 and d.i2c["charger"].address == 0x6A
    assert d.mechanism.nominal_speed == pytest.approx(0.047625)
    assert d.mechanism.cassettes["C90"].minutes == 45
    pins = [p.pin for group in (d.buttons, d.switches, d.tachometers, d.outputs)
            for p in group.values()]
    assert len(pins) == len(set(pins))
    assert all(9 <= o.pin <= 27 for o in d.outputs.values())


def mutate(edit) -> str:
    raw = copy.deepcopy(RAW)
    edit(raw)
    with pytest.raises(BoardError) as exc:
        parse_board(raw, Path("board.toml"))
    return str(exc.value)


def test_a_pin_used_twice_names_both_keys() -> None:
    msg = mutate(lambda r: r["buttons"]["ff"].update(pin=5))
    assert "buttons.ff.pin 5" in msg and "buttons.play" in msg


def test_an_unknown_role_is_named() -> None:
    msg = mutate(lambda r: r["buttons"].update(shuffle={"pin": 2, "active": "low"}))
    assert "buttons.shuffle" in msg


def test_a_missing_role_is_named() -> None:
    msg = mutate(lambda r: r["outputs"].pop("record_relay"))
    assert "outputs.record_relay" in msg


def test_an_i2c_address_out_of_range_is_named() -> None:
    msg = mutate(lambda r: r["i2c"]["charger"].update(address=0x90))
    assert "i2c.charger.address" in msg and "0x90" in msg


def test_an_output_on_a_pin_pulled_high_at_reset_is_refused() -> None:
    msg = mutate(lambda r: (r["buttons"]["pair"].update(pin=22),
                            r["outputs"]["wind_idler"].update(pin=4)))
    assert "outputs.wind_idler.pin 4" in msg and "pulled low at reset" in msg


def test_a_bus_pin_is_refused() -> None:
    msg = mutate(lambda r: r["switches"]["tab_a"].update(pin=18))
    assert "switches.tab_a.pin 18" in msg and "I2S" in msg


def test_a_pwm_faster_than_the_gpio_libraries_is_refused() -> None:
    msg = mutate(lambda r: r["outputs"]["motor"].update(frequency=20000))
    assert "outputs.motor.frequency" in msg and "10 to 10000 Hz" in msg and "20000" in msg
    msg = mutate(lambda r: r["outputs"]["motor"].update(frequency=True))
    assert "outputs.motor.frequency" in msg


def test_a_typo_in_a_key_is_named() -> None:
    msg = mutate(lambda r: r["mechanism"].update(hub_radious=0.011))
    assert "mechanism.hub_radious" in msg


def test_wrong_types_are_named() -> None:
    assert "alsa.rate" in mutate(lambda r: r["alsa"].update(rate="48k"))
    assert "mechanism.play_duty" in mutate(lambda r: r["mechanism"].update(play_duty=1.5))


def test_not_toml_at_all(tmp_path: Path) -> None:
    bad = tmp_path / "board.toml"
    bad.write_text("[buttons\nplay = 5")
    with pytest.raises(BoardError, match="not valid TOML"):
        load_board(bad)


def test_the_wiring_table_in_hardware_readme_is_current() -> None:
    readme = DEFAULT_PATH.parent / "README.md"
    assert update_readme(readme, load_board(), check=True), "run tools/wiring-table"


def test_the_nr_section_gives_the_b_type_reference_level() -> None:
    nr = load_board().nr
    assert nr is not None and nr.reference_dbfs == pytest.approx(-12.04, abs=0.01)
    raw = copy.deepcopy(RAW)
    raw.pop("nr")
    assert parse_board(raw, Path("board.toml")).nr is None  # optional: the default then


def test_a_bad_nr_value_is_named() -> None:
    assert "nr.preamp_gain_db" in mutate(lambda r: r["nr"].update(preamp_gain_db=120))
    assert "nr.head_mv" in mutate(lambda r: r["nr"].update(head_mv=1.0))
    assert "nr.adc_full_scale_vrms" in mutate(lambda r: r["nr"].update(adc_full_scale_vrms="1"))
    # each value in range, but together they put the reference level out of reach
    msg = mutate(lambda r: r["nr"].update(preamp_gain_db=85.0, head_output_mv=5.0))
    assert "[nr]" in msg and "dBFS" in msg


def test_the_virtual_pi_description_loads_with_external_pulls() -> None:
    vpi = load_board(DEFAULT_PATH.with_name("virtual-pi.toml"))
    ref = load_board()
    assert vpi.pulls == "external" and ref.pulls == "internal"
    assert vpi.gpio_library == "lgpio" and ref.gpio_library == "auto"
    assert vpi.i2c_bus == 0 and vpi.alsa.capture.startswith("hw:CARD=Loopback")
    for group in ("buttons", "switches", "tachometers", "outputs"):
        assert ({r: p.pin for r, p in getattr(vpi, group).items()}
                == {r: p.pin for r, p in getattr(ref, group).items()})


def test_an_unknown_kind_of_pulls_is_named() -> None:
    msg = mutate(lambda r: r.update(gpio={"pulls": "strong"}))
    assert "gpio.pulls" in msg and "internal, external" in msg
    msg = mutate(lambda r: r.update(gpio={"library": "wiringpi"}))
    assert "gpio.library" in msg and "auto, lgpio, rpigpio" in msg
    msg = mutate(lambda r: r.update(gpio={"pull": "external"}))
    assert "unknown key gpio.pull" in msg
