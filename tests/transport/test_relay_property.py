"""Property: whatever the buttons do, with whatever bounce, the record relay is never on
unless the transport records, the side's tab is present and the tape moves."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from capstan.harness.session import SimSession

BUTTONS = ("play", "stop", "ff", "rew", "rec")
press = st.tuples(st.sampled_from([*BUTTONS, "rec+play"]),
                  st.one_of(st.just(0.0), st.floats(0.0005, 0.010)),  # bounce
                  st.floats(0.05, 1.2),  # hold
                  st.floats(0.1, 2.5))  # gap after


@settings(max_examples=15, deadline=None)
@given(presses=st.lists(press, min_size=1, max_size=10), protected=st.booleans())
def test_the_relay_is_never_on_unless_recording_with_the_tab_and_a_moving_tape(
        presses, protected) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = SimSession(Path(tmp), period=4096)
        try:
            s.make_cassette("C90", position=600.0, protected=["A"] if protected else [])
            violations: list[float] = []

            def check(t: float) -> None:
                if s.deck.outputs["record_relay"]:
                    c = s.deck.cassette
                    ok = (s.player.deck.state.value == "recording" and c is not None
                          and c.tab_present() and s.deck.motion.speed > 0)
                    if not ok:
                        violations.append(t)

            s.deck.on_tick.append(check)
            s.run_until(0.5)
            for button, bounce, hold, gap in presses:
                if button == "rec+play":
                    s.press("rec", bounce=bounce, hold=hold + 0.3)
                    s.run_for(0.15)
                    s.press("play", bounce=bounce, hold=hold)
                else:
                    s.press(button, bounce=bounce, hold=hold)
                s.run_for(hold + gap)
            s.run_for(2.0)
            assert violations == []
            if protected:
                assert not any(e["type"] == "pin" and e["role"] == "record_relay"
                               and e["value"] for e in s.events)
        finally:
            s.close()
