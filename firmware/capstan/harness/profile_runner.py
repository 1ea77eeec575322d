"""Run a scenario on a mechanism profile other than the reference (docs/scenarios.md).

The CRP42602Y and the mechanical profile run on the profile deck (harness/profile_deck.py):
the transport, the profile's device and the rotation auto-stop over the simulated
part's signals, without audio. The report has the same shape as the reference's; its
events are the transport's (each with the side and the direction), the safety stops
and the refusals; `final.side` is the side facing the head.
"""

from __future__ import annotations

from typing import Any

from capstan.hardware.description import BoardDescription
from capstan.harness.profile_deck import ProfileDeck, Walkman
from capstan.harness.scenario import Scenario, Step
from capstan.sim.crp42602y import Crp42602y

LONG_PRESS = 0.8  # s: a hold at least this long is a long press too (devices/buttons.py)


def run_profile_scenario(scenario: Scenario, board: BoardDescription, profile: str,
                         seed: int = 0) -> dict[str, Any]:
    mech = board.mechanism
    table = mech.tables[profile]
    reverse = scenario.reverse or getattr(table, "reverse", "one_way")
    cas = scenario.cassette
    model_cls = Crp42602y if profile == "crp42602y" else Walkman
    if cas:
        spec = mech.cassettes[cas["length"]]
        duration = spec.minutes * 60.0 + 2 * mech.leader
        up, down = cas["side"], "B" if cas["side"] == "A" else "A"
        model = model_cls(duration=duration, pulses_per_turn=table.pulses_per_turn,
                          tab_a=up not in cas["protected"], tab_b=down not in cas["protected"],
                          position=cas["position"], cassette=False)
    else:
        model = model_cls(pulses_per_turn=table.pulses_per_turn, cassette=False)
    deck = ProfileDeck(profile, table, model, reverse)
    try:
        if cas:
            deck.insert()
        for step in scenario.steps:
            deck.loop.call_at(step.at, _perform, deck, step, cas is not None)
        deck.run_until(scenario.until)
        d = deck.deck
        final = {"transport": d.state.value, "side": d.side if model.cassette else None,
                 "direction": d.direction, "position": round(model.position, 3),
                 "mechanism": profile, "reverse": reverse}
    finally:
        deck.close()
    events = [{"t": round(e.pop("at"), 4), **e} for e in deck.events]
    return {"version": 1, "scenario": str(scenario.path), "seed": seed,
            "until": scenario.until, "events": events, "final": final, "outputs": {},
            "cassette": None}


def _perform(deck: ProfileDeck, step: Step, have_cassette: bool) -> None:
    if step.action == "press":
        deck.press(step.value)
    elif step.action == "hold":
        deck.press(step.value)
        if step.duration >= LONG_PRESS:
            deck.loop.call_later(LONG_PRESS, deck.press, step.value, "long")
    elif step.action == "key":
        held = getattr(deck.model, "keys", frozenset())
        if step.value == "stop":
            deck.press_keys()
        elif step.value == "rec":  # REC goes down with PLAY, as on a walkman
            deck.press_keys("play", "rec")
        else:  # a key latches; PLAY, FF and REW release one another
            deck.press_keys(*({step.value} | (held - {"play", "ff", "rew", "rec"})))
    elif step.action == "insert":
        if not deck.model.cassette and have_cassette:
            deck.insert()
    elif step.action == "eject":
        deck.eject()
    elif step.action == "fault":
        if step.value == "stall_take_up":
            deck.model.stalled = True
        elif step.value == "release_reels":
            deck.model.stalled = False
        elif step.value == "gear_jam":
            deck.model.jammed = True
