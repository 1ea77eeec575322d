"""The cassette window's drawing: packs to scale, hubs turning with the reels."""

from __future__ import annotations

import pytest

from capstan.hardware.description import BoardDescription
from capstan.panel.window import Reel, ReelSpin, draw_window
from capstan.sim.cassette import Cassette


def dots(text: str) -> int:
    return sum(bin(ord(ch) - 0x2800).count("1") for ch in text if "\u2800" <= ch <= "\u28ff")


def halves(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    mid = len(lines[0]) // 2
    return "".join(line[:mid] for line in lines), "".join(line[mid:] for line in lines)


def test_a_reel_turns_by_its_rpm_and_direction() -> None:
    spin = ReelSpin()
    spin.advance(60.0, 0.25)  # a quarter turn at 60 rpm
    assert spin.angle == pytest.approx(90.0)
    spin.advance(-60.0, 0.5)  # rewinding: half a turn back
    assert spin.angle == pytest.approx(270.0)
    assert spin.turns == pytest.approx(0.75)
    assert spin.rpm == -60.0


def test_the_full_pack_is_drawn_bigger_than_the_empty_one(tmp_path, board: BoardDescription
                                                          ) -> None:
    c = Cassette.create(tmp_path / "c", board.mechanism, "C60")
    hub = board.mechanism.hub_radius
    full, empty = c.pack_radius(c.duration), c.pack_radius(0.0)
    start = draw_window(Reel(hub, full, 0), Reel(hub, empty, 0)).plain
    left, right = halves(start)
    assert dots(left) > 3 * dots(right)
    end = draw_window(Reel(hub, empty, 0), Reel(hub, full, 0)).plain
    left, right = halves(end)
    assert dots(right) > 3 * dots(left)


def test_the_hub_drawing_turns_with_the_angle(board: BoardDescription) -> None:
    hub = board.mechanism.hub_radius
    a = draw_window(Reel(hub, hub, 0), Reel(hub, hub, 0)).plain
    b = draw_window(Reel(hub, hub, 40), Reel(hub, hub, 0)).plain
    assert halves(a)[0] != halves(b)[0]
    assert halves(a)[1] == halves(b)[1]
