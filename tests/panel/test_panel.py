"""The front panel driven through Textual's Pilot, in real time: assert on state, not timing."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from panel_pilot import SIZE, run, until

from capstan.hardware.description import BoardDescription
from capstan.panel import run_live
from capstan.panel.app import HELP, KEYS, PanelApp
from capstan.panel.widgets import CassetteWindow, Headphones, Meters, Power, Transport
from capstan.sim.cassette import Cassette


def panel(tmp_path: Path, cassette: Path | None = None) -> PanelApp:
    return PanelApp(data_dir=tmp_path / "data", cassette=cassette, sound_device=None,
                    demo_wav=tmp_path / "no-demo.wav")


def test_keys_drive_the_transport_and_the_counter_moves(
        tmp_path: Path, make_cassette: Callable[..., Path]) -> None:
    app = panel(tmp_path, make_cassette("C60"))

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            states: list[str] = []
            bench.player.bus.subscribe(lambda t, e: states.append(e.state), "transport")
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.press("p")
            await until(pilot, lambda: bench.player.counter >= 0.5, "the counter moves")
            assert states[-1] == "playing"
            assert bench.deck.position > 0.2
            assert "PLAYING" in str(app.query_one(Transport).render())
            assert "A ▶ forward" in str(app.query_one(Transport).render())
            await pilot.press("s")
            await until(pilot, lambda: states[-1] == "stopped", "stop")
            counter = bench.player.counter
            await pilot.press("f")
            await until(pilot, lambda: "fast_forward" in states, "fast wind")
            await pilot.press("r")  # back to the start: the tape stops there by itself
            await until(pilot, lambda: "rewind" in states and states[-1] == "stopped",
                        "rewound to the start")
            assert bench.deck.position < 0.5
            assert states == ["playing", "stopped", "fast_forward", "rewind", "stopped"]
            assert bench.player.counter <= counter  # it counted play, not the winding

    run(script())
    assert app.bench is None  # stopped on unmount


def test_the_cassette_keeps_its_place_after_the_panel_closes(
        tmp_path: Path, make_cassette: Callable[..., Path], board: BoardDescription) -> None:
    app = panel(tmp_path, make_cassette("C60"))

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.press("p")
            await until(pilot, lambda: bench.deck.position > 0.3, "the tape moves")

    run(script())
    assert app.bench is None  # stopped on unmount, in finally
    left = Cassette.open(tmp_path / "cassettes" / "test", board.mechanism)
    assert left.position > 0.3


@pytest.mark.parametrize("where", ["start", "end"])
def test_the_reels_turn_at_different_speeds_at_the_start_and_the_end_of_a_side(
        where: str, tmp_path: Path, make_cassette: Callable[..., Path],
        board: BoardDescription) -> None:
    c60 = Cassette.create(tmp_path / "probe", board.mechanism, "C60")
    position = 0.0 if where == "start" else c60.duration - 60.0
    app = panel(tmp_path, make_cassette("C60", position=position))

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.click("#press-play")  # the panel's button, clicked
            window = app.query_one(CassetteWindow)
            seen: dict[str, float] = {}

            def at_speed() -> bool:
                """A moment in play at nominal speed, as the panel last drew it."""
                c = bench.cassette
                if (c is None or bench.player.deck.state.value != "playing"
                        or abs(bench.deck.motion.speed - 1.0) > 0.01
                        or window.take_up.turns < 0.1 or min(window.take_up.rpm,
                                                              window.supply.rpm) <= 0):
                    return False
                seen.update(take=window.take_up.rpm, supply=window.supply.rpm,
                            r_take=c.pack_radius(c.position),
                            r_supply=c.pack_radius(c.duration - c.position),
                            supply_turns=window.supply.turns)
                return True

            await until(pilot, at_speed, "playing at speed with both reels turning",
                        log=lambda: list(bench.lines))
            # the same tape speed on both: each reel turns inversely to its pack's radius
            assert seen["take"] / seen["supply"] == pytest.approx(
                seen["r_supply"] / seen["r_take"], rel=0.03)
            if where == "start":
                assert seen["take"] > 2 * seen["supply"]  # the empty take-up hub spins fast
            else:
                assert seen["supply"] > 2 * seen["take"]
            assert seen["supply_turns"] > 0.05

    run(script())


def test_shelf_eject_flip_and_fault_from_the_keyboard(tmp_path: Path) -> None:
    app = panel(tmp_path)

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            assert bench.player.deck.state.value == "no_cassette"
            await pilot.press("i")
            await pilot.press("enter")  # the demo is missing here: the first to pick, a blank C46
            await until(pilot, lambda: bench.cassette is not None, "a cassette inserted")
            assert bench.cassette is not None and bench.cassette.length == "C46"
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.press("t")
            await until(pilot, lambda: bench.cassette is not None and bench.cassette.side == "B",
                        "flipped")
            await pilot.press("x")
            await pilot.press("enter")  # the first fault: stall the take-up reel
            await until(pilot, lambda: "take_up" in bench.deck.motion.stalled, "stall")
            await pilot.press("h")
            await until(pilot, lambda: any("pairing_mode" in line for line in bench.lines),
                        "the simulated headphones go into pairing mode")
            pressed: list[str] = []
            bench.player.bus.subscribe(
                lambda t, e: pressed.append(e.button) if e.action == "press" else None, "button")
            for key in ("plus", "minus", "B"):  # VOL+, VOL-, PAIR held: through the contacts
                await pilot.press(key)
            await until(pilot, lambda: {"vol_up", "vol_down", "pair"} <= set(pressed),
                        "volume and pair buttons reach the firmware", log=lambda: pressed)
            await pilot.press("e")
            await until(pilot, lambda: bench.player.deck.state.value == "no_cassette", "ejected")
            # honest until the services are wired into the Player: no made-up readings
            if not any(hasattr(bench.player, n) for n in ("headphones", "bluetooth")):
                assert "not available yet" in str(app.query_one(Headphones).render())
            if not hasattr(bench.player, "power"):
                assert str(app.query_one(Power).render()).count("—") == 2
            assert "jack" in str(app.query_one(Meters).render())

    run(script())


def test_the_help_line_names_every_key() -> None:
    for key, what, _action in KEYS:
        shown = {"plus": "+", "minus": "-"}.get(key, key)
        assert f"[b]{shown}[/b] {what}" in HELP
    assert {b.key for b in PanelApp.BINDINGS} == {k for k, _, _ in KEYS}


def test_without_a_terminal_it_says_to_use_a_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_live(argparse.Namespace(cassette=None, seed=0)) == 2
    out = capsys.readouterr().out
    assert "--scenario" in out and len(out.strip().splitlines()) == 1


def test_tools_sim_starts_with_the_demo_mixtape_in_the_well(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "media" / "demo-mixtape.wav"
    app = PanelApp(data_dir=tmp_path / "data", sound_device=None, demo_wav=demo,
                   insert_demo=True)

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None and bench.cassette is not None
            assert bench.cassette.name == "Demo mixtape" and bench.cassette.tape_type == "II"
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.press("p")
            await until(pilot, lambda: bench.player.deck.state.value == "playing", "playing")

    run(script())


def test_the_nr_key_switches_the_b_type_decoder_and_the_readout_says_so(tmp_path: Path) -> None:
    app = panel(tmp_path)

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None
            await until(pilot, lambda: bench.started, "the bench started")
            assert bench.player.audio.nr_on is False
            await pilot.press("n")
            await until(pilot, lambda: bench.player.audio.nr_on, "NR on")
            await until(pilot, lambda: "B on" in str(app.query_one(Transport).render()),
                        "the readout shows NR on")
            await pilot.press("n")
            await until(pilot, lambda: not bench.player.audio.nr_on, "NR off")

    run(script())


def test_on_a_mechanism_moved_by_hand_the_keys_latch_and_show(
        tmp_path: Path, make_cassette: Callable[..., Path], monkeypatch) -> None:
    import copy
    import tomllib

    import tomli_w
    from textual.widgets import Button

    from capstan.hardware.description import DEFAULT_PATH

    raw = copy.deepcopy(tomllib.loads(DEFAULT_PATH.read_text()))
    raw["mechanism"]["profile"] = "mechanical"
    path = tmp_path / "mechanical.toml"
    path.write_bytes(tomli_w.dumps(raw).encode())
    monkeypatch.setenv("CAPSTAN_BOARD", str(path))
    app = panel(tmp_path, make_cassette("C60", position=300.0))

    async def script() -> None:
        async with app.run_test(size=SIZE) as pilot:
            bench = app.bench
            assert bench is not None and bench.deck.hand
            assert str(app.query_one("#press-play", Button).label).endswith("key")
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stopped")
            await pilot.press("p")  # the PLAY key goes down and stays down
            await until(pilot, lambda: bench.player.deck.state.value == "playing", "playing")
            await until(pilot, lambda: "keys       PLAY" in str(
                app.query_one(Transport).render()), "the keys shown")
            assert bench.deck.keys == {"play"} and bench.deck.outputs["motor"] == 1.0
            await pilot.press("s")  # STOP releases it: the firmware cuts the motor
            await until(pilot, lambda: bench.player.deck.state.value == "stopped", "stop")
            assert bench.deck.keys == set() and bench.deck.outputs["motor"] == 0.0

    run(script())
