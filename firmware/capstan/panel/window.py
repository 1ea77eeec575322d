"""The cassette window: both reels drawn to scale in braille dots, turning at their true speeds.

Pure drawing, no Textual: `ReelSpin` integrates a reel's angle from its rpm,
`draw_window()` renders the two packs and hubs as Rich text. Geometry follows
a compact cassette: the spindles are 42.5 mm apart, the supply reel is on the
left and the take-up reel on the right whichever side faces up, and in play
both reels turn clockwise as seen through the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

SPINDLES_APART = 42.5e-3  # m, between the two hubs of a compact cassette
HUB_TEETH = 3  # drawn spokes; a real hub has six teeth, three read better in dots
PACK_STYLE = "rgb(150,90,45)"
HUB_STYLE = "bright_white"
EMPTY_STYLE = "grey35"

# braille dot bits by (column, row) inside a cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


@dataclass
class ReelSpin:
    """A reel's angle on screen, integrated from its rpm (positive: clockwise)."""

    angle: float = 0.0  # degrees
    rpm: float = 0.0
    turns: float = 0.0  # absolute turns seen so far

    def advance(self, rpm: float, dt: float) -> None:
        self.rpm = rpm
        step = rpm / 60.0 * dt
        self.turns += abs(step)
        self.angle = (self.angle + 360.0 * step) % 360.0


@dataclass(frozen=True)
class Reel:
    """What to draw of one reel: radii in metres and the angle of its hub."""

    hub_radius: float
    pack_radius: float
    angle: float


class Dots:
    """A grid of braille cells, addressed in dots (2 across, 4 down per cell)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.width, self.height = cols * 2, rows * 4
        self.cells = bytearray(cols * rows)
        self.styles: list[str] = [EMPTY_STYLE] * (cols * rows)

    def set(self, x: int, y: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.cells[(y // 4) * self.cols + x // 2] |= _DOTS[x % 2][y % 4]

    def style(self, col: int, row: int, style: str) -> None:
        if 0 <= col < self.cols and 0 <= row < self.rows:
            self.styles[row * self.cols + col] = style

    def text(self) -> Text:
        out = Text(no_wrap=True)
        for row in range(self.rows):
            for col in range(self.cols):
                i = row * self.cols + col
                out.append(chr(0x2800 + self.cells[i]), self.styles[i])
            if row < self.rows - 1:
                out.append("\n")
        return out


def draw_window(supply: Reel, take_up: Reel, cols: int = 48, rows: int = 12) -> Text:
    """The two reels side by side at one dot per `scale` metres (dots are square on a terminal)."""
    dots = Dots(cols, rows)
    scale = (SPINDLES_APART * 2.4) / dots.width  # metres per dot: the window spans ~102 mm
    cy = dots.height / 2
    for reel, cx in ((supply, dots.width / 2 - SPINDLES_APART / 2 / scale),
                     (take_up, dots.width / 2 + SPINDLES_APART / 2 / scale)):
        _draw_reel(dots, reel, cx, cy, scale)
    return dots.text()


def _draw_reel(dots: Dots, reel: Reel, cx: float, cy: float, scale: float) -> None:
    hub = reel.hub_radius / scale
    pack = max(reel.pack_radius / scale, hub)
    r_max = math.ceil(pack) + 1
    # the pack: every dot between the hub and the outside of the tape
    for y in range(int(cy) - r_max, int(cy) + r_max + 1):
        for x in range(int(cx) - r_max, int(cx) + r_max + 1):
            d = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
            if hub + 0.5 <= d <= pack:
                dots.set(x, y)
            elif hub - 0.5 <= d < hub + 0.5:  # the hub's rim
                dots.set(x, y)
    # the hub's teeth, turning with the reel
    for k in range(HUB_TEETH):
        a = math.radians(reel.angle + k * 360.0 / HUB_TEETH)
        for i in range(int(hub * 0.35 * 4), int(hub * 4)):
            r = i / 4
            dots.set(int(cx + r * math.cos(a)), int(cy + r * math.sin(a)))
    # colours by cell: tape brown where the cell's centre is on the pack, white on the hub
    for row in range(dots.rows):
        for col in range(dots.cols):
            d = math.hypot(col * 2 + 1 - cx, row * 4 + 2 - cy)
            if d < hub + 0.5:
                dots.style(col, row, HUB_STYLE)
            elif d <= pack + 0.5:
                dots.style(col, row, PACK_STYLE)
