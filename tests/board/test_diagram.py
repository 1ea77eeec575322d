"""hardware/wiring.svg is drawn from hardware/board.toml and is current."""

from __future__ import annotations

import copy
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from capstan.board.diagram import HEX, update_svg, wiring_svg
from capstan.board.wiring import HEADER_PIN
from capstan.errors import BoardError
from capstan.hardware.description import DEFAULT_PATH, WIRE_KINDS, load_board, parse_board

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "hardware" / "wiring.svg"
RAW = tomllib.loads(DEFAULT_PATH.read_text())
NS = "{http://www.w3.org/2000/svg}"


def test_the_wiring_diagram_is_current_and_shown() -> None:
    assert update_svg(SVG, load_board(), check=True), "run tools/wiring-table"
    assert "](wiring.svg)" in (ROOT / "hardware" / "README.md").read_text()


def test_every_used_gpio_has_a_labelled_wire_in_its_colour() -> None:
    d = load_board()
    root = ET.fromstring(wiring_svg(d))
    labels = [t.text or "" for t in root.iter(f"{NS}text")]
    strokes = [line.get("stroke") for line in root.iter(f"{NS}line")]
    expected = ({p.pin: ("buttons", f"button {r}") for r, p in d.buttons.items()}
                | {p.pin: ("switches", f"switch {r}") for r, p in d.switches.items()}
                | {t.pin: ("tachometers", f"tachometer {r}") for r, t in d.tachometers.items()}
                | {o.pin: ("outputs", f"output {r}") for r, o in d.outputs.items()}
                | {2: ("i2c_sda", "I2C-1 SDA"), 3: ("i2c_scl", "I2C-1 SCL"),
                   18: ("i2s_bclk", "I2S BCLK"), 19: ("i2s_lrclk", "I2S LRCLK"),
                   20: ("i2s_din", "I2S DIN"), 21: ("i2s_dout", "I2S DOUT")})
    assert len(expected) == 28  # every GPIO of the header is used
    for bcm, (kind, role) in expected.items():
        colour = d.wiring[kind]
        assert f"GPIO {bcm} · {role} · {colour}" in labels, (bcm, role)
        assert HEX[colour] in strokes
    wire_labels = [s for s in labels if re.match(r"GPIO \d+ · ", s)]
    assert len(wire_labels) == 28
    # each part is named at the end of its wire, the header's pins are numbered 1..40
    for p in d.buttons.values():
        assert f"{p.label} button (other side to GND)" in labels
    for o in d.outputs.values():
        assert any(s.startswith(o.label) for s in labels), o.label
    assert {str(n) for n in range(1, 41)} <= set(labels)
    assert sorted(HEADER_PIN.values()) == sorted(set(HEADER_PIN.values()))


def test_a_colour_change_in_board_toml_changes_the_diagram() -> None:
    raw = copy.deepcopy(RAW)
    raw["wiring"]["tachometers"] = "blue"
    d = parse_board(raw)
    assert "GPIO 10 · tachometer take_up · blue" in wiring_svg(d)
    assert wiring_svg(d) != SVG.read_text()


def test_wiring_mistakes_are_named() -> None:
    raw = copy.deepcopy(RAW)
    raw["wiring"]["outputs"] = "tartan"
    with pytest.raises(BoardError, match=r"wiring\.outputs must be one of"):
        parse_board(raw)
    raw = copy.deepcopy(RAW)
    raw["wiring"]["leds"] = "red"
    with pytest.raises(BoardError, match=r"unknown role wiring\.leds"):
        parse_board(raw)
    raw = copy.deepcopy(RAW)
    del raw["wiring"]
    d = parse_board(raw)  # the player runs without colours; only the diagram needs them
    with pytest.raises(BoardError, match=f"needs \\[wiring\\] {', '.join(WIRE_KINDS)}"):
        wiring_svg(d)
