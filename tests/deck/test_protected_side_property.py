"""Property: whatever happens, a side without its record tab is never recorded on,
on every profile (the transport's own guard, before the relay's interlock)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from capstan.deck import transport as tp
from capstan.hardware.capabilities import REVERSE_MODES
from capstan.hardware.profiles import CAPABILITIES

BUTTON = st.builds(tp.Press, st.sampled_from(tp.TRANSPORT_BUTTONS),
                   st.sampled_from(("press", "long")))
KEYS = st.builds(tp.Keys, st.frozensets(st.sampled_from(("play", "ff", "rew", "rec"))))
OTHER = st.sampled_from([tp.Chord(), tp.TapeStopped("end"), tp.TapeStopped("start"),
                         tp.Fault("tape_eaten"), tp.Tick(), tp.CassetteOut()])
TAB = st.tuples(st.sampled_from(("A", "B")), st.booleans())
# the moves that turn the side and begin a recording come often: they are what can go wrong
EVENT = st.one_of(BUTTON, KEYS, OTHER, TAB, st.just(tp.Press("play", "long")),
                  st.just(tp.Chord()), st.just(tp.TapeStopped("end")))


@settings(max_examples=300)
@given(profile=st.sampled_from(sorted(CAPABILITIES)), reverse=st.sampled_from(REVERSE_MODES),
       tab_a=st.booleans(), tab_b=st.booleans(), events=st.lists(EVENT, max_size=40))
def test_a_protected_side_never_records(profile: str, reverse: str, tab_a: bool, tab_b: bool,
                                        events: list) -> None:
    tabs = {"A": tab_a, "B": tab_b}
    deck = tp.Deck(caps=CAPABILITIES[profile], reverse=reverse)
    deck, _ = tp.step(deck, tp.CassetteIn(tab=tab_a, tab_other=tab_b), 0.0)
    inside = True
    for i, e in enumerate(events, 1):
        if isinstance(e, tuple):  # a tab switch changes
            side, present = e
            tabs[side] = present
            e = tp.TabChanged(present, side=side)
        if isinstance(e, tp.CassetteOut):
            inside = False
        deck, _ = tp.step(deck, e, float(i))
        if not inside and deck.state == tp.State.NO_CASSETTE:
            deck, _ = tp.step(deck, tp.CassetteIn(tab=tabs["A"], tab_other=tabs["B"]), float(i))
            inside = True
        if deck.state == tp.State.RECORDING:
            assert tabs[deck.side], (deck, tabs)
        if profile == "reference":
            assert deck.side == "A"
