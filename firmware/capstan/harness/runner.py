"""Run a scenario on the simulated deck and write its report (the contract in docs/scenarios.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from capstan.hardware.description import BoardDescription
from capstan.harness.scenario import Scenario, Step
from capstan.harness.session import SimSession

REPORT_VERSION = 1


def run_scenario(scenario: Scenario, out_dir: Path, seed: int = 0,
                 board: BoardDescription | None = None) -> dict[str, Any]:
    profile = scenario.mechanism or (board.mechanism.profile if board else "reference")
    if profile != "reference":
        from capstan.hardware.description import load_board
        from capstan.harness.profile_runner import run_profile_scenario
        return run_profile_scenario(scenario, board or load_board(), profile, seed)
    session = SimSession(out_dir, seed=seed, board=board)
    outputs = {"jack": str(out_dir / "jack.wav")}
    try:
        if scenario.headphones and (wav := session.add_headphones(scenario.headphones)):
            outputs["bluetooth"] = str(wav)
        if scenario.cassette:
            spec = dict(scenario.cassette)
            spec["tape_type"] = spec.pop("type")
            session.make_cassette(**spec)
        session.deck.set_battery(scenario.battery["percent"], scenario.battery["charger"])
        if scenario.line_in:
            session.set_line_in(scenario.line_in["file"], scenario.line_in["at"])
        for step in scenario.steps:
            session.at(step.at, lambda s=step: _perform(session, s))
        session.run_until(scenario.until)
        final = session.final()
        ran = len(session.events)  # powered off: what the stopping daemon does is not seen
    finally:
        session.close()
    report = {
        "version": REPORT_VERSION,
        "scenario": str(scenario.path),
        "seed": seed,
        "until": scenario.until,
        "events": session.events if session.powered_off is None else session.events[:ran],
        "final": final,
        "outputs": outputs,
        "cassette": str(session.cassette.directory) if session.cassette else None,
    }
    return report


def _perform(session: SimSession, step: Step) -> None:
    deck = session.deck
    if step.action == "press":
        session.press(step.value, bounce=step.bounce)
    elif step.action == "hold":
        session.press(step.value, bounce=step.bounce, hold=step.duration)
    elif step.action == "insert":
        if deck.cassette is None and session.cassette is not None:
            deck.insert(session.cassette)
    elif step.action == "eject":
        deck.eject()
    elif step.action == "flip":
        deck.flip()
    elif step.action == "fault":
        deck.fault(step.value)
    elif step.action == "headphones":
        world = session.bluetooth
        if world is None:
            session.log({"type": "notice", "what": "no_bluetooth",
                         "message": f"step headphones = {step.value!r} ignored: no Bluetooth"})
        elif step.value == "drop":
            world.drop_link(step.address)
        elif step.value == "back":
            world.come_back(step.address)
        else:
            world.stranger(step.address)
    elif step.action in ("headphones_button", "headphones_volume"):
        world = session.bluetooth
        if world is None:
            session.log({"type": "notice", "what": "no_bluetooth",
                         "message": f"step {step.action} = {step.value!r} ignored: no Bluetooth"})
        elif step.action == "headphones_button":
            world.remote_button(step.value, step.address or None)
        else:
            world.headphone_volume(step.value, step.address or None)


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(path)
