"""Gestures from debounced buttons, and no press lost or doubled under bounce."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstan.devices.buttons import (
    BUTTON_DEBOUNCE,
    FORGET_HOLD,
    LONG_PRESS,
    PAIR_HOLD,
    STUCK_AFTER,
)

# No bounce, or a burst at least 0.5 ms wide (a burst narrower than the clock's resolution
# would put toggles at the same instant, in no defined order).
BOUNCE = st.one_of(st.just(0.0), st.floats(0.0005, 0.010))
# make_panel is a factory: every example builds its own panel.
FACTORY_FIXTURE = [HealthCheck.function_scoped_fixture]


def bounce(panel, role: str, down: bool, t: float, width: float, rng: random.Random) -> None:
    """Contact bounce: an even number of extra toggles within `width`, ending at `down`."""
    panel.at(t, role, down)
    n = rng.randint(1, 4) * 2 if width > 0 else 0
    times = sorted(rng.uniform(0, width) for _ in range(n))
    for i, dt in enumerate(times):
        panel.at(t + dt, role, down if i % 2 else not down)
    panel.at(t + width, role, down)


def test_a_tap_is_press_tap_release(panel) -> None:
    panel.at(1.0, "play", True)
    panel.at(1.2, "play", False)
    panel.run_until(2.0)
    assert panel.actions("play") == ["press", "tap", "release"]
    assert panel.gestures[0].t == 1.0 + BUTTON_DEBOUNCE  # the settled level's time


def test_a_long_press_and_no_tap(panel) -> None:
    panel.at(1.0, "stop", True)
    panel.at(1.0 + LONG_PRESS + 0.5, "stop", False)
    panel.run_until(5.0)
    assert panel.actions("stop") == ["press", "long", "release"]


def test_volume_repeats_while_held(panel) -> None:
    panel.at(1.0, "vol_up", True)
    panel.at(2.0, "vol_up", False)
    panel.run_until(3.0)
    acts = panel.actions("vol_up")
    assert acts[0] == "press" and acts[-1] == "release"
    assert acts.count("repeat") == 4  # at 0.5, 0.65, 0.8, 0.95 s of holding


def test_rec_then_play_is_a_chord(panel) -> None:
    panel.at(1.0, "rec", True)
    panel.at(1.1, "play", True)
    panel.at(2.5, "play", False)
    panel.at(2.6, "rec", False)
    panel.run_until(3.0)
    assert panel.actions("rec+play") == ["chord"]
    assert "long" not in panel.actions("rec") and "long" not in panel.actions("play")
    assert panel.actions("play") == []  # the chord instead of its own press
    assert panel.actions("rec") == ["press", "release"]


def test_pair_then_stop_held_is_the_forget_chord_and_never_an_eject(panel) -> None:
    panel.at(1.0, "pair", True)
    panel.at(1.2, "stop", True)
    panel.at(7.0, "stop", False)
    panel.at(7.1, "pair", False)
    panel.run_until(8.0)
    assert panel.actions("pair+stop") == ["chord", "hold"]
    hold = [g for g in panel.gestures if g.action == "hold"]
    assert len(hold) == 1 and abs(hold[0].t - (1.2 + BUTTON_DEBOUNCE + FORGET_HOLD)) < 1e-9
    assert panel.actions("stop") == []  # no press, no long press (which would eject)
    assert "hold" not in panel.actions("pair")  # PAIR went into the chord: no pairing


def test_pair_held_2_s_by_one_press_is_its_hold(panel) -> None:
    panel.at(1.0, "pair", True)
    panel.at(1.0 + PAIR_HOLD - 0.1, "pair", False)  # let go too early: nothing
    panel.at(4.0, "pair", True)
    panel.at(4.0 + PAIR_HOLD + 0.3, "pair", False)
    panel.run_until(8.0)
    acts = panel.actions("pair")
    assert acts == ["press", "long", "release", "press", "long", "hold", "release"]
    hold = next(g for g in panel.gestures if g.action == "hold")
    assert abs(hold.t - (4.0 + BUTTON_DEBOUNCE + PAIR_HOLD)) < 1e-9  # from the second press


def test_the_forget_chord_let_go_early_forgets_nothing(panel) -> None:
    panel.at(1.0, "pair", True)
    panel.at(1.2, "stop", True)
    panel.at(1.2 + FORGET_HOLD - 0.5, "stop", False)
    panel.at(7.5, "pair", False)
    panel.run_until(9.0)
    assert panel.actions("pair+stop") == ["chord"]
    assert "hold" not in panel.actions("pair")


def test_play_pressed_while_pair_is_held_is_the_nr_chord(panel) -> None:
    panel.at(1.0, "pair", True)
    panel.at(1.3, "play", True)
    panel.at(1.4, "play", False)
    panel.at(1.5, "pair", False)
    panel.run_until(2.0)
    assert panel.actions("pair+play") == ["chord"]
    assert panel.actions("play") == []


def test_pair_pressed_while_play_is_still_down_is_pairs_own_press(panel) -> None:
    panel.at(1.0, "play", True)  # a tap of PLAY, its release late
    panel.at(1.05, "pair", True)  # then a pairing hold
    panel.at(1.1, "play", False)
    panel.at(4.0, "pair", False)
    panel.run_until(5.0)
    assert panel.actions("pair+play") == []
    assert panel.actions("play") == ["press", "tap", "release"]
    assert panel.actions("pair")[:2] == ["press", "long"]


def test_a_stuck_button_is_ignored_until_released(panel) -> None:
    panel.at(1.0, "ff", True)
    panel.run_until(1.0 + STUCK_AFTER + 1)
    assert panel.actions("ff") == ["press", "long", "stuck"]
    panel.set("play", True)
    panel.run_until(40.0)
    panel.set("play", False)
    panel.at(41.0, "ff", False)
    panel.run_until(42.0)
    assert panel.actions("ff") == ["press", "long", "stuck", "release"]
    assert panel.actions("play")[0] == "press"  # the others still work


def test_a_button_held_at_start_up_does_nothing_until_released(make_panel) -> None:
    p = make_panel(held_at_start=("play",))
    p.run_until(1.0)
    assert p.actions("play") == ["stuck"]
    p.set("play", False)
    p.run_until(2.0)
    assert p.actions("play") == ["stuck"]
    p.set("play", True)
    p.run_until(2.5)
    assert p.actions("play") == ["stuck", "press"]


def test_chatter_shorter_than_the_debounce_is_not_a_press(panel) -> None:
    for k in range(20):
        panel.at(1.0 + k * 0.1, "rew", True)
        panel.at(1.0 + k * 0.1 + BUTTON_DEBOUNCE / 3, "rew", False)
    panel.run_until(4.0)
    assert panel.actions("rew") == []


def _presses(panel, rng: random.Random, n: int, max_bounce: float,
             buttons: tuple[str, ...]) -> dict[str, int]:
    t, pressed = 1.0, {b: 0 for b in buttons}
    for _ in range(n):
        b = rng.choice(buttons)
        width = rng.uniform(0.0005, max_bounce)
        hold = rng.uniform(width + BUTTON_DEBOUNCE + 0.005, 0.3)
        bounce(panel, b, True, t, width, rng)
        bounce(panel, b, False, t + hold, rng.uniform(0.0005, max_bounce), rng)
        pressed[b] += 1
        t += hold + max_bounce + BUTTON_DEBOUNCE + rng.uniform(0.005, 0.2)
    panel.run_until(t + 1.0)
    return pressed


@settings(max_examples=2, deadline=None, suppress_health_check=FACTORY_FIXTURE)
@given(seed=st.integers(0, 2**32 - 1), max_bounce=st.floats(0.0005, 0.010))
def test_ten_thousand_bounced_presses_are_neither_lost_nor_doubled(make_panel, seed,
                                                                   max_bounce) -> None:
    p = make_panel()
    buttons = ("play", "stop", "ff", "rew", "pair")
    pressed = _presses(p, random.Random(seed), 10_000, max_bounce, buttons)
    for b in buttons:
        acts = p.actions(b)
        assert acts.count("press") == pressed[b]
        assert acts.count("release") == pressed[b]


@settings(max_examples=25, deadline=None, suppress_health_check=FACTORY_FIXTURE)
@given(widths=st.lists(st.tuples(BOUNCE, BOUNCE,
                                 st.floats(0.03, 0.5), st.integers(0, 3)),
                       min_size=1, max_size=30))
def test_any_bounced_sequence_gives_one_press_per_press(make_panel, widths) -> None:
    p = make_panel()
    rng = random.Random(0)
    t = 1.0
    names = ("play", "stop", "ff", "rew")
    for down_w, up_w, hold, which in widths:
        b = names[which]
        hold = max(hold, down_w + BUTTON_DEBOUNCE + 0.005)
        bounce(p, b, True, t, down_w, rng)
        bounce(p, b, False, t + hold, up_w, rng)
        t += hold + up_w + BUTTON_DEBOUNCE + 0.01
    p.run_until(t + 1.0)
    presses = [g for g in p.gestures if g.action == "press"]
    assert [g.button for g in presses] == [names[w[3]] for w in widths]
