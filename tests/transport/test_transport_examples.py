"""The examples/transport-*.toml scenarios run and show what they claim."""

from __future__ import annotations

from pathlib import Path

from capstan.harness.runner import run_scenario
from capstan.harness.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str, tmp_path: Path) -> dict:
    return run_scenario(load_scenario(EXAMPLES / name), tmp_path / "out")


def of(report: dict, type_: str, **match) -> list[dict]:
    return [e for e in report["events"] if e["type"] == type_
            and all(e.get(k) == v for k, v in match.items())]


def motor_off_after(report: dict, t: float) -> float:
    return min(e["t"] for e in of(report, "pin", role="motor", value=0.0) if e["t"] >= t)


def test_end_of_tape(tmp_path: Path) -> None:
    r = run("transport-end-of-tape.toml", tmp_path)
    end = of(r, "tape", what="end")[0]["t"]
    assert motor_off_after(r, end) - end <= 1.0
    assert r["final"]["transport"] == "stopped"
    assert abs(r["final"]["counter"] - r["final"]["position"]) < 30


def test_stall(tmp_path: Path) -> None:
    r = run("transport-stall.toml", tmp_path)
    assert motor_off_after(r, 20.0) - 20.0 <= 0.5
    assert of(r, "safety", what="tape_eaten")


def test_eject_while_playing(tmp_path: Path) -> None:
    r = run("transport-eject-while-playing.toml", tmp_path)
    assert motor_off_after(r, 5.0) - 5.0 <= 0.011
    assert r["final"]["transport"] == "no_cassette"


def test_protected_side(tmp_path: Path) -> None:
    r = run("transport-protected-side.toml", tmp_path)
    assert "write-protected" in of(r, "refused", action="record")[0]["reason"]
    assert not of(r, "pin", role="record_relay", value=1.0)
    assert [e["state"] for e in of(r, "transport")] == ["stopped"]
