"""The power service inside the player, on the simulated deck in simulated time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from capstan.harness.session import SimSession
from capstan.state import StateStore

MIXTAPE = Path(__file__).resolve().parents[2] / "examples" / "media" / "demo-mixtape.wav"


def of(events: list[dict[str, Any]], type_: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == type_
            and all(e.get(k) == v for k, v in match.items())]


def power_whats(session: SimSession) -> list[str]:
    return [e["what"] for e in of(session.events, "power")]


def record(session: SimSession) -> None:
    """The REC+PLAY chord."""
    session.press("rec", hold=1.5)
    session.run_for(0.2)
    session.press("play", hold=0.5)


def index(events: list[dict[str, Any]], event: dict[str, Any]) -> int:
    return next(i for i, e in enumerate(events) if e is event)


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[SimSession]:
    """A session whose player keeps its state on a card (tmp_path/state)."""
    s = SimSession(tmp_path / "session", state_dir=tmp_path / "state")
    yield s
    s.close()


def test_critical_during_a_recording_makes_everything_safe_before_the_shutdown(
        stored: SimSession, tmp_path: Path) -> None:
    session = stored
    store = session.store
    assert store is not None
    session.make_cassette("C60", position=100.0)
    session.set_line_in(MIXTAPE, at=0.0)
    session.deck.set_battery(30.0, charger=False)
    session.run_until(0.5)
    record(session)
    session.run_until(5.0)
    assert session.player.deck.state.value == "recording"
    assert session.deck.outputs["record_relay"] == 1.0
    assert session.player.power.mode == "recording"
    store.save_soon("settings", {"volume": 0.4}, within=3600)  # pending, not yet written
    session.run_until(30.0)
    session.deck.fault("cell_sag")  # a worn cell sags under the record load: critical
    session.run_until(600.0)

    events = session.events
    critical, = of(events, "power", what="critical")
    shutdown, = of(events, "power", what="shutdown")
    assert session.powered_off == pytest.approx(shutdown["t"], abs=1e-3)  # the run ended
    assert session.now == session.powered_off                                # there
    assert events[-1] is shutdown
    assert shutdown["t"] - critical["t"] <= 2.0
    between = events[index(events, critical):index(events, shutdown)]
    assert of(between, "record", what="closed")
    end, = of(between, "track_mark", what="end")
    relay_off = index(events, of(between, "pin", role="record_relay", value=0.0)[0])
    motor_off = index(events, of(between, "pin", role="motor", value=0.0)[-1])
    assert of(between, "transport", state="stopped")
    assert relay_off < motor_off  # bias and erase off while the tape still moves: no gap
    assert all(session.deck.outputs[r] == 0.0 for r in ("record_relay", "motor",
                                                        "head_solenoid", "wind_idler"))
    assert session.final()["powered_off"] == round(session.powered_off, 4)
    reread = StateStore(tmp_path / "state")  # what the card holds after the power-off
    assert reread.load("settings", {}) == {"volume": 0.4}
    toc = reread.load("cassette-current", {})["toc"]["A"]
    assert toc["end"] == pytest.approx(end["position"], abs=0.01)
    assert len(toc["marks"]) == len(of(events, "track_mark", what="mark")) >= 1


def test_a_gauge_dead_from_start_up_keeps_the_player_playing(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.deck.fault("gauge_dead")
    session.run_until(0.5)
    session.press("play")
    session.run_until(120.0)
    st = session.player.power.status()
    assert st["percent"] is None and st["gauge_known"] is False and st["remaining"] is None
    assert st["voltage"] == pytest.approx(session.deck.power.battery.voltage, abs=0.05)
    assert session.player.can_finish(3600)
    assert power_whats(session) == ["gauge_unknown"]
    assert session.player.deck.state.value == "playing" and session.powered_off is None


def test_nack_bursts_and_garbage_never_shut_the_player_down(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.deck.set_battery(9.0, charger=False)
    session.run_until(0.5)
    session.press("play")
    for i in range(40):
        session.run_for(2.3)
        session.deck.fault("i2c_garbage" if i % 2 else "i2c_nack")
    assert session.deck.power.battery.percent > 5.0
    assert not {"critical", "shutdown", "gauge_unknown"} & set(power_whats(session))
    assert session.player.deck.state.value == "playing" and session.powered_off is None
    assert session.player.power.service.retries > 0
    assert session.player.power.status()["gauge_known"]


def test_charger_plugged_and_unplugged_are_reported_and_shown(session: SimSession) -> None:
    session.deck.set_battery(40.0, charger=True)
    session.run_until(20.0)
    assert session.player.power.status()["supply"] == "charging"
    assert session.deck.outputs["led_charge"] == 1.0
    session.deck.power.charger.plugged = False
    session.run_until(40.0)
    assert session.player.power.status()["supply"] == "battery"
    assert session.deck.outputs["led_charge"] == 0.0
    session.deck.power.charger.plugged = True
    session.run_until(60.0)
    assert power_whats(session) == ["charging", "discharging", "charging"]
    assert session.deck.outputs["led_charge"] == 1.0


def test_the_running_player_kicks_the_chargers_watchdog(session: SimSession) -> None:
    session.deck.set_battery(60.0, charger=True)
    session.run_until(125.0)
    charger = session.deck.power.charger
    interval = session.player.power.service.config.kick_interval
    assert len(charger.kicks) == int(125.0 // interval)
    assert charger.watchdog_expiries == 0


def test_the_power_mode_follows_the_player(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.run_until(0.5)
    power = session.player.power
    assert power.mode == "wired"
    record(session)
    session.run_until(4.0)
    assert power.mode == "recording"
    session.press("stop")
    session.run_until(5.0)
    assert power.mode == "wired"
    assert power.status()["mode"] == "wired"


def test_can_finish_answers_from_the_charge(session: SimSession) -> None:
    session.deck.set_battery(80.0, charger=False)
    session.run_until(10.0)
    player = session.player
    assert player.can_finish(23 * 60)        # a C46 side at 80 %
    assert not player.can_finish(24 * 3600)  # a day of recording is not in one cell
    st = player.power.status()
    assert {"percent", "voltage", "supply", "remaining"} <= set(st)  # the front panel's keys
    assert st["supply"] == "battery" and st["percent"] == pytest.approx(80.0, abs=1.0)


def test_the_pi_powers_off_through_systemd_and_the_simulator_through_its_session(
        session: SimSession) -> None:
    from capstan.power.player import default_power_off
    from capstan.power.poweroff import systemctl_poweroff

    assert default_power_off("pi") is systemctl_poweroff
    assert default_power_off("sim") is None
    assert session.player.power.power_off == session._power_off


def test_a_side_the_battery_cannot_finish_is_not_started(session: SimSession) -> None:
    session.make_cassette("C60", position=100.0)
    session.set_line_in(MIXTAPE, at=0.0)
    session.deck.set_battery(5.6, charger=False)
    session.run_until(0.5)
    record(session)
    session.run_until(5.0)
    refused = of(session.events, "refused", action="record")
    assert refused and "plug in the charger" in refused[0]["reason"]
    assert session.player.deck.state.value != "recording"
    assert not of(session.events, "pin", role="record_relay", value=1.0)
