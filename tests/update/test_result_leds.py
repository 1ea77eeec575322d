"""The last update's outcome flashes on the LEDs once, at the first start after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from capstan.harness.session import SimSession
from capstan.state import StateStore
from capstan.update.disk import Disk
from capstan.update.ledger import read_result, write_result
from capstan.update.leds import PATTERNS, SHOW_FOR, show_update_result
from capstan.update.slots import Layout


def show(session: SimSession, text: str | None, store: StateStore) -> str | None:
    return show_update_result(session.player.led_players, session.player.bus, text, store)


def led_values(session: SimSession, role: str) -> list[float]:
    return [e["value"] for e in session.events if e["type"] == "pin" and e["role"] == role]


@pytest.mark.parametrize("outcome", sorted(PATTERNS))
def test_each_outcome_has_its_led_and_is_shown_once(session: SimSession, tmp_path: Path,
                                                     outcome: str) -> None:
    root = tmp_path / "root"
    layout = Layout(root)
    layout.boot.mkdir(parents=True)
    write_result(layout, Disk(), outcome, "capstan-0.2.0.capstan", "details", "nothing")
    store = StateStore(tmp_path / "state")
    session.run_until(1.0)
    led = PATTERNS[outcome][0]
    before = len(led_values(session, f"led_{led}"))
    assert show(session, read_result(layout), store) == outcome
    session.run_for(SHOW_FOR / 2)
    blinking = led_values(session, f"led_{led}")[before:]
    assert blinking.count(0.0) >= 2 and blinking.count(1.0) >= 2
    assert any(e["type"] == "update" and e["what"] == outcome for e in session.events)
    # the next start: the same result is not shown again
    assert show(session, read_result(layout), StateStore(tmp_path / "state")) is None


def test_no_result_no_flash(session: SimSession, tmp_path: Path) -> None:
    assert read_result(Layout(tmp_path)) is None
    assert show(session, read_result(Layout(tmp_path)), StateStore(tmp_path / "s")) is None


def test_a_result_read_elsewhere_is_shown_from_its_text(session: SimSession,
                                                        tmp_path: Path) -> None:
    """The daemon reads the file off its loop (the USB drive's updates) and hands the text."""
    root = tmp_path / "root"
    Layout(root).boot.mkdir(parents=True)  # no UPDATE-RESULT.txt there at all
    text = "Capstan update result\r\n\r\nResult: REFUSED\r\nBundle: x.capstan\r\n"
    store = StateStore(tmp_path / "state")
    session.run_until(1.0)
    assert show(session, text, store) == "REFUSED"
    assert show(session, text, store) is None  # once
    assert show(session, "no result here", store) is None
