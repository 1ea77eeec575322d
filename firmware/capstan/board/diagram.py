"""The wiring diagram hardware/wiring.svg, drawn from the board description.

The Pi's 40-pin header in the middle, odd pins on the left, even pins on the right; one
wire per used GPIO, straight out to the part it goes to, in the colour `[wiring]` of
hardware/board.toml gives its kind of signal and labelled with the GPIO, the role and
the colour. The output is deterministic text, so a test can tell whether the committed
file is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from capstan.board.wiring import HEADER_PIN
from capstan.errors import BoardError
from capstan.hardware.description import WIRE_KINDS, BoardDescription

HEX = {"black": "#000000", "brown": "#8d5524", "red": "#d32f2f", "orange": "#f57c00",
       "yellow": "#fbc02d", "green": "#388e3c", "blue": "#1976d2", "violet": "#7b1fa2",
       "grey": "#9e9e9e", "white": "#ffffff", "pink": "#f06292"}
POWER = {1: "3V3", 17: "3V3", 2: "5V", 4: "5V", 6: "GND", 9: "GND", 14: "GND", 20: "GND",
         25: "GND", 30: "GND", 34: "GND", 39: "GND"}
# Where the bus pins go: the converters on I2S (the PCM1808 drives both clocks).
I2S_ENDS = {18: ("i2s_bclk", "I2S BCLK", "PCM1808 BCK (drives it) + PCM5102A BCK"),
            19: ("i2s_lrclk", "I2S LRCLK", "PCM1808 LRCK (drives it) + PCM5102A LRCK"),
            20: ("i2s_din", "I2S DIN", "PCM1808 DOUT (capture data)"),
            21: ("i2s_dout", "I2S DOUT", "PCM5102A DIN (playback data)")}

WIDTH, TOP, ROW = 1400, 96, 34
LEFT_PIN, RIGHT_PIN = WIDTH // 2 - 28, WIDTH // 2 + 28
BOX_W, BOX_H = 370, 24
LEFT_BOX, RIGHT_BOX = 20, WIDTH - 20 - BOX_W


@dataclass(frozen=True)
class Wire:
    bcm: int
    kind: str        # a key of [wiring]
    role: str        # what the firmware calls it
    part: str        # what the other end is


def wires(d: BoardDescription) -> list[Wire]:
    """Every used GPIO of the header, with where it goes."""
    out = [Wire(p.pin, "buttons", f"button {role}", f"{p.label} button (other side to GND)")
           for role, p in d.buttons.items()]
    out += [Wire(p.pin, "switches", f"switch {role}", f"{p.label} (other side to GND)")
            for role, p in d.switches.items()]
    out += [Wire(t.pin, "tachometers", f"tachometer {role}", t.label)
            for role, t in d.tachometers.items()]
    out += [Wire(o.pin, "outputs", f"output {role}", f"{o.label} (10 kΩ to GND)")
            for role, o in d.outputs.items()]
    chips = ", ".join(f"{dev.chip.upper()} 0x{dev.address:02X}" for dev in d.i2c.values())
    out += [Wire(2, "i2c_sda", f"I2C-{d.i2c_bus} SDA", f"SDA of {chips}"),
            Wire(3, "i2c_scl", f"I2C-{d.i2c_bus} SCL", f"SCL of {chips}")]
    out += [Wire(bcm, kind, role, part) for bcm, (kind, role, part) in I2S_ENDS.items()]
    return sorted(out, key=lambda w: HEADER_PIN[w.bcm])


def _text(x: float, y: float, s: str, size: int = 10, anchor: str = "start",
          weight: str = "normal") -> str:
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(s)}</text>')


def wiring_svg(d: BoardDescription) -> str:
    missing = [k for k in WIRE_KINDS if k not in d.wiring]
    if missing:
        raise BoardError(f"{d.source}: the wiring diagram needs [wiring] {', '.join(missing)}")
    by_pin = {HEADER_PIN[w.bcm]: w for w in wires(d)}
    bcm_of = {phys: bcm for bcm, phys in HEADER_PIN.items()}
    height = TOP + 20 * ROW + 90
    top_of_header = TOP - ROW // 2 - 6
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif">',
           f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           _text(WIDTH / 2, 28, f"{d.name}: wiring", 16, "middle", "bold"),
           _text(WIDTH / 2, 48, "Generated from hardware/board.toml by tools/wiring-table. "
                 "Each wire: GPIO (BCM) · role · wire colour.", 11, "middle"),
           _text(WIDTH / 2, 64, f"{d.computer}, 40-pin header seen from above, pin 1 at "
                 "the top left.", 11, "middle"),
           f'<rect x="{LEFT_PIN - 28}" y="{top_of_header}" width="{RIGHT_PIN - LEFT_PIN + 56}" '
           f'height="{20 * ROW + 12}" rx="6" fill="#263238"/>']
    for phys in range(1, 41):
        left = phys % 2 == 1
        y = TOP + ((phys - 1) // 2) * ROW
        x = LEFT_PIN if left else RIGHT_PIN
        power = POWER.get(phys)
        fill = {"3V3": "#ef9a9a", "5V": "#d32f2f", "GND": "#000000"}.get(power or "", "#ffd54f")
        out.append(f'<circle cx="{x}" cy="{y}" r="7" fill="{fill}" stroke="#eceff1"/>')
        number = _text(x + (11 if left else -11), y + 3, str(phys), 8, "start" if left else "end")
        out.append(f'<g fill="#eceff1">{number}</g>')
        wire = by_pin.get(phys)
        if wire is None:
            name = power or f"GPIO {bcm_of[phys]} (free)"
            side = _text(x - 40 if left else x + 40, y + 4, name, 10, "end" if left else "start")
            out.append(f'<g fill="#546e7a">{side}</g>')
            continue
        colour = d.wiring[wire.kind]
        box_x = LEFT_BOX if left else RIGHT_BOX
        edge = box_x + BOX_W if left else box_x
        out.append(f'<line x1="{x}" y1="{y}" x2="{edge}" y2="{y}" stroke="#37474f" '
                   f'stroke-width="6"/>')
        out.append(f'<line x1="{x}" y1="{y}" x2="{edge}" y2="{y}" stroke="{HEX[colour]}" '
                   f'stroke-width="4"/>')
        header_edge = LEFT_PIN - 28 if left else RIGHT_PIN + 28
        out.append(_text((header_edge + edge) / 2, y - 6,
                         f"GPIO {wire.bcm} · {wire.role} · {colour}", 9, "middle"))
        out.append(f'<rect x="{box_x}" y="{y - BOX_H / 2:g}" width="{BOX_W}" height="{BOX_H}" '
                   f'rx="4" fill="#eceff1" stroke="#607d8b"/>')
        out.append(_text(box_x + 8, y + 3, wire.part, 9))
    foot = TOP + 20 * ROW + 16
    notes = ["Outputs are on GPIO 9..27 (low at reset), each with a 10 kΩ pull-down; "
             "buttons and switches close to GND with the Pi's pull-ups.",
             "The PCM1808 drives BCLK and LRCLK from its 12.288 MHz oscillator; the Pi and "
             "the PCM5102A follow (hardware/BRINGUP.md, The audio clocks).",
             f"LEDs on the {d.i2c[d.led_driver].chip.upper()}: "
             + ", ".join(f"{led.label} on channel {led.channel}" for led in d.leds.values())
             + "."]
    for i, note in enumerate(notes):
        out.append(_text(WIDTH / 2, foot + 18 * i, note, 11, "middle"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def update_svg(path: Path, d: BoardDescription, check: bool = False) -> bool:
    """Write the diagram; with check, only say whether the file is current."""
    new = wiring_svg(d)
    old = path.read_text() if path.exists() else None
    if check:
        return new == old
    if new != old:
        path.write_text(new)
    return True
