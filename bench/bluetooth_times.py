#!/usr/bin/env python3
"""Simulated time from PAIR to audio on the headphones, and from a known headphone appearing.

The firmware's own pairing and reconnect policies run on a fake clock against a
small model of the radio: when a headphone in pairing mode answers an inquiry,
how long pairing, the A2DP connection and BlueALSA's transport take (typical
figures for BR/EDR headphones, below). Printed, never asserted.
"""

from __future__ import annotations

import random
import statistics

from capstan.bluetooth import pairing as p
from capstan.bluetooth import reconnect as r

HOLD = 2.0  # s, PAIR must be held this long
INQUIRY_ANSWER = (0.3, 2.5)  # s after discovery starts, uniform: a headphone in pairing mode
PAIRING = 1.8  # s, SSP Just Works incl. SDP
CONNECT = 1.2  # s, ACL + AVDTP discover/configure/open
TRANSPORT = 0.3  # s, BlueALSA acquires the transport and adds its PCM
PAGE_TIMEOUT = 5.12  # s, a page to a headphone that is off fails after this


def pair_to_audio(rnd: random.Random, headphones: int = 3) -> float:
    now = HOLD
    state, actions = p.step(p.PairingState(), p.OpenWindow(), now)
    answers = sorted((now + rnd.uniform(*INQUIRY_ANSWER), f"H{i}", rnd.randint(-80, -40))
                     for i in range(headphones))
    while True:
        deadline = p.next_deadline(state)
        if answers and (deadline is None or answers[0][0] < deadline):
            now, address, rssi = answers.pop(0)
            state, actions = p.step(state, p.Sighted(address, rssi, True), now)
        else:
            now = deadline
            state, actions = p.step(state, p.Tick(), now)
        chosen = [a for a in actions if isinstance(a, p.Pair)]
        if chosen:
            now += PAIRING
            state, actions = p.step(state, p.PairResult(chosen[0].address, True), now)
            return now + CONNECT + TRANSPORT


def appear_to_audio(rnd: random.Random, seen: bool) -> float:
    """A remembered headphone is switched on at a random moment while the player retries.

    seen: the player notices it (it calls back / answers), else only the backoff finds it.
    """
    state, now = r.LinkState(known=("H",)), 0.0
    state, _ = r.step(state, r.Start(), now)
    switched_on = rnd.uniform(0.0, 600.0)
    while True:
        if now >= switched_on or (seen and now + PAGE_TIMEOUT >= switched_on):
            start = max(now, switched_on)
            if seen:
                state, _ = r.step(state, r.Appeared("H"), start)
            return start + CONNECT + TRANSPORT - switched_on
        now += PAGE_TIMEOUT
        state, _ = r.step(state, r.ConnectFailed("H"), now)
        wake = state.retry_at
        if seen and wake > switched_on:
            state, _ = r.step(state, r.Appeared("H"), switched_on)
            return switched_on + CONNECT + TRANSPORT - switched_on
        now = wake
        state, _ = r.step(state, r.Tick(), now)


def summary(name: str, values: list[float]) -> None:
    values = sorted(values)
    print(f"{name:<52} median {statistics.median(values):6.2f} s   "
          f"p95 {values[int(0.95 * len(values))]:6.2f} s   max {values[-1]:6.2f} s")


def main() -> None:
    rnd = random.Random(1)
    runs = 2000
    print(f"simulated seconds over {runs} runs (model: inquiry answer {INQUIRY_ANSWER} s, "
          f"pairing {PAIRING} s, connect {CONNECT} s, transport {TRANSPORT} s)")
    summary("PAIR hold -> audio on the headphones", [pair_to_audio(rnd) for _ in range(runs)])
    summary("known headphone appears (noticed) -> audio", [appear_to_audio(rnd, True)
                                                           for _ in range(runs)])
    summary("known headphone appears (backoff only) -> audio", [appear_to_audio(rnd, False)
                                                                for _ in range(runs)])


def through_the_daemons(seeds: int = 5) -> list[float]:
    """PAIR held → headphones selected, in simulated time, through the whole player, the
    real dbus-daemon, the BlueZ mock and BlueALSA (capstan sim's path)."""
    import tempfile
    from pathlib import Path

    from capstan.harness.session import SimSession
    from capstan.harness.world import unavailable

    if (why := unavailable()) is not None:
        print(f"through the daemons: skipped: {why}")
        return []
    times = []
    for seed in range(seeds):
        with tempfile.TemporaryDirectory() as out:
            session = SimSession(Path(out), seed=seed, record_pins=False)
            try:
                session.add_headphones([{"name": "Cans", "address": "00:1B:66:0A:0B:0C",
                                         "pairing_at": 0.5}])
                session.at(1.0, lambda s=session: s.press("pair", hold=2.5))
                session.run_until(15.0)
                heard = [e["t"] for e in session.events
                         if e["type"] == "audio_output" and e["output"] == "bluetooth"]
            finally:
                session.close()
        if heard:
            times.append(heard[0] - 1.0)
    summary("PAIR hold -> audio, real daemons and the mock", times)
    return times


if __name__ == "__main__":
    main()
    through_the_daemons()
