"""The examples/power-*.toml scenarios run and show what they claim, in their reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str, tmp_path: Path) -> dict[str, Any]:
    return run_scenario(load_scenario(EXAMPLES / name), tmp_path / "out")


def power(report: dict[str, Any]) -> list[str]:
    return [e["what"] for e in report["events"] if e["type"] == "power"]


def test_critical_while_recording_ends_the_run_with_the_shutdown(tmp_path: Path) -> None:
    r = run("power-critical-recording.toml", tmp_path)
    assert power(r) == ["critical", "shutdown"]  # a sagging cell, not an empty one
    last = r["events"][-1]
    assert last["type"] == "power" and last["what"] == "shutdown"
    critical = next(e for e in r["events"] if e.get("what") == "critical")
    assert last["t"] - critical["t"] <= 2.0
    assert r["final"]["powered_off"] == last["t"] < r["until"]
    assert r["final"]["transport"] == "stopped"
    kinds = [(e["type"], e.get("what")) for e in r["events"] if e["t"] >= critical["t"]]
    assert ("record", "closed") in kinds and ("track_mark", "end") in kinds
    assert 60.0 < critical["t"] < 75.0  # the fault at 60 s, confirmed by three readings


def test_a_dead_gauge_is_unknown_and_the_tape_plays_on(tmp_path: Path) -> None:
    r = run("power-gauge-dead.toml", tmp_path)
    assert power(r) == ["gauge_unknown"]
    assert r["final"]["transport"] == "playing" and r["final"]["powered_off"] is None


def test_a_noisy_bus_never_shuts_down(tmp_path: Path) -> None:
    r = run("power-bad-bus.toml", tmp_path)
    assert [e["name"] for e in r["events"] if e["type"] == "fault"] == \
        ["i2c_nack", "i2c_garbage"] * 3 + ["i2c_nack"]
    assert not {"critical", "shutdown", "gauge_unknown"} & set(power(r))
    assert r["final"]["transport"] == "playing" and r["final"]["powered_off"] is None


def test_charging_is_reported_and_lights_the_charge_led(tmp_path: Path) -> None:
    r = run("power-charging.toml", tmp_path)
    assert power(r) == ["charging"]
    charging = next(e for e in r["events"] if e.get("what") == "charging")
    led = [e for e in r["events"] if e["type"] == "pin" and e["role"] == "led_charge"
           and e["t"] < r["until"]]  # at `until` the daemon stops: every LED off
    assert led and led[-1]["value"] == 1.0 and led[0]["t"] >= charging["t"]
