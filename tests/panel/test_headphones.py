"""The panel's Bluetooth: `h` puts the simulated headphones into pairing mode, holding PAIR
pairs and connects them, the sound follows them. Real daemons (private dbus-daemon, the
BlueZ mock, bluealsa). Pairing waits on the daemons' own signals, which a simulated clock
would outrun, so that script runs in real time (only state is asserted); the rest runs in
simulated time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from panel_pilot import SIZE, run, run_real_time, until

from capstan.panel.app import PanelApp
from capstan.panel.bench import HEADPHONES
from capstan.panel.widgets import Headphones, Meters

CANS = HEADPHONES["address"]


def panel(tmp_path: Path, cassette: Path | None = None) -> PanelApp:
    return PanelApp(data_dir=tmp_path / "data", cassette=cassette, sound_device=None,
                    demo_wav=tmp_path / "no-demo.wav")


def test_h_then_hold_pair_connects_the_headphones_and_the_sound_follows(
        tmp_path: Path, make_cassette: Callable[..., Path]) -> None:
    app = panel(tmp_path, make_cassette("C60"))

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None and bench.bluetooth is not None, \
                bench and bench.player.headphones.unavailable
            hp = bench.player.headphones
            area = lambda: str(app.query_one(Headphones).render())  # noqa: E731
            log = lambda: list(bench.lines)  # noqa: E731
            await until(pilot, lambda: "no headphones connected" in area(), "the empty area")
            await pilot.press("h")
            await until(pilot, lambda: "Sim Cans in pairing mode" in area(), "pairing mode")
            await pilot.press("p")
            await until(pilot, lambda: bench.player.deck.state.value == "playing", "playing")
            await pilot.press("B")  # hold PAIR: the window opens, the player finds them
            await until(pilot, lambda: hp.status()["connected"] == CANS,
                        "paired and connected", limit=60.0, log=log)
            await until(pilot, lambda: hp.status()["active_output"] == "bluetooth",
                        "the sound follows the headphones", limit=30.0, log=log)
            await until(pilot, lambda: bench.headphones_meter.blocks > 10,
                        "blocks reach the headphones", limit=30.0)
            assert hp.status()["known"] == [CANS]
            await until(pilot, lambda: "battery 80 %" in area(), "the battery shown", log=log)
            text = area()
            assert "connected Sim Cans" in text and "paired     Sim Cans" in text
            assert "output  bluetooth" in text and "pairing mode" not in text
            assert "bt" in str(app.query_one(Meters).render())
            assert bench.deck.outputs.get("led_bt", 0.0) > 0.5  # steady while connected

    run_real_time(script())


def test_without_the_daemons_the_area_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("capstan.harness.world.unavailable",
                        lambda: "dbus-daemon is not installed")
    app = panel(tmp_path)

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None and bench.bluetooth is None
            area = lambda: str(app.query_one(Headphones).render())  # noqa: E731
            await until(pilot, lambda: "unavailable: dbus-daemon is not installed" in area(),
                        "the area says why")
            await pilot.press("h")
            await until(pilot, lambda: any("dbus-daemon is not installed" in line
                                           for line in bench.lines), "h says why")
            assert "bt" not in str(app.query_one(Meters).render()).split()

    run(script())
