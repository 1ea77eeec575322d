"""Music searches on the simulated deck keep the tape counter true (regression).

Long FF and REW searches switch the mechanism between wind and play many times;
the counter once counted the edges of reels still coasting one way as turns the
other way, the simulated motor reversed at once, and the fit took a C46 for a C60.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from capstan.harness.session import SimSession

MIXTAPE = Path(__file__).resolve().parents[2] / "examples" / "media" / "demo-mixtape.wav"
STILL = 0.05  # of full speed: the simulated motor may turn this fast when something moves


def test_long_ff_and_rew_searches_keep_the_counter_and_the_length(session: SimSession) -> None:
    session.make_cassette("C46", "II", side_a=MIXTAPE, speed_error=0.004)
    motion, errors, unsafe = session.deck.motion, [], []
    last = {"reverse": motion.reverse, "head": motion.head, "idler": motion.idler}

    def watch(t: float) -> None:  # the mechanism never switches under a turning motor
        for name, was in last.items():
            now = getattr(motion, name)
            if now != was and (name == "reverse" or now) and abs(motion.motor) > STILL:
                unsafe.append((round(t, 3), name, round(motion.motor, 3)))
            last[name] = now

    session.deck.on_tick.append(watch)

    def check() -> None:
        c = session.player.tape_counter
        if c.position is not None:
            errors.append((round(session.now, 2), session.player.counter - session.deck.position))

    session.run_until(1.0)
    session.press("play")
    session.run_until(20.0)
    for at, button in ((20.0, "ff"), (45.0, "rew"), (60.0, "ff"), (80.0, "ff"), (100.0, "rew"),
                       (115.0, "rew")):
        session.run_until(at)
        check()
        session.press(button, hold=1.2)  # a long press: a music search
        for _ in range(30):
            session.run_for(0.5)
            check()
    session.press("stop")
    session.run_for(2.0)
    check()

    searches = [e for e in session.events if e["type"] == "track" and e["what"] == "search"]
    assert {e["direction"] for e in searches} == {"next", "previous"}
    assert len(errors) > 100
    worst = max(errors, key=lambda e: abs(e[1]))
    assert abs(worst[1]) <= 5.0, worst
    assert abs(session.player.counter - session.deck.position) <= 5.0
    lengths = [e["length"] for e in session.events if e["type"] == "cassette_length"]
    assert lengths == ["C46"]
    assert session.player.tape_counter.length == "C46"
    assert not unsafe, unsafe[:5]
    # no bounce: the transport never changes again within 50 ms of its last change
    changes = [e["t"] for e in session.events if e["type"] == "transport"]
    assert all(b - a >= 0.05 for a, b in pairwise(changes)), changes
