"""The panel's buttons: gestures on top of the kernel-style debounced levels.

Each button reports, from its debounced level (devices/debounce.py):

    press    the moment it went down (the transport acts here: it feels instant)
    long     still held after LONG_PRESS
    repeat   every REPEAT_EVERY after REPEAT_DELAY while held (volume buttons)
    tap      released before LONG_PRESS
    release  released (always paired with exactly one press)
    chord    went down while its chord partner was held (REC+PLAY): reported instead
             of its own press (and release); the pair's long/tap/repeat are suppressed
    hold     a button or chord of HOLDS still held (the same press) its time after it
             went down: PAIR 2 s opens the pairing window, PAIR+STOP 5 s forgets every
             headphone (a PAIR that became part of a chord makes no hold of its own)
    stuck    held for more than STUCK_AFTER: ignored until released, and logged

A button found held at start-up (levels are re-read then) is treated as stuck:
it was not pressed now, so it does nothing until it has been released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from capstan.devices.debounce import DebouncedInput

log = logging.getLogger(__name__)

LONG_PRESS = 0.8  # s
REPEAT_DELAY = 0.5  # s before the first repeat
REPEAT_EVERY = 0.15  # s between repeats
STUCK_AFTER = 30.0  # s
BUTTON_DEBOUNCE = 0.012  # s: longer than the longest gap inside 10 ms of contact bounce
# Chords replace their buttons' own presses: REC+PLAY records, PAIR+STOP (held 5 s)
# forgets the headphones without STOP's long press ejecting the cassette, PAIR+PLAY
# (PAIR held, PLAY pressed) switches the B-type noise reduction (audio/nr_switch.py).
CHORDS = {frozenset(("rec", "play")): "rec+play", frozenset(("pair", "stop")): "pair+stop",
          frozenset(("pair", "play")): "pair+play"}
# Chords whose first button must be the one already held: PLAY pressed while PAIR is held
# switches the noise reduction; PAIR pressed while PLAY is still down (a tap just before a
# pairing hold) is PAIR's own press, since PLAY has already done its own.
CHORD_FIRST = {"pair+play": "pair"}
REPEATING = ("vol_up", "vol_down")
PAIR_HOLD = 2.0  # s PAIR is held to open the pairing window
FORGET_HOLD = 5.0  # s PAIR and STOP are held together to forget every headphone
HOLDS = {"pair": PAIR_HOLD, "pair+stop": FORGET_HOLD}


@dataclass(frozen=True)
class Gesture:
    button: str  # the button, or the chord's name ("rec+play")
    action: str  # press | long | repeat | tap | release | chord | hold | stuck
    t: float  # when the debounced level changed (or the timer fired)


GestureCallback = Callable[[Gesture], None]


class _Held:
    def __init__(self, t: float) -> None:
        self.since = t
        self.in_chord = False
        self.stuck = False
        self.pressed = False  # a press was reported (a release will be)
        self.long_sent = False
        self.timers: list[asyncio.TimerHandle] = []

    def cancel(self) -> None:
        for h in self.timers:
            h.cancel()
        self.timers.clear()


class Buttons:
    def __init__(self, inputs: dict[str, DebouncedInput], loop: asyncio.AbstractEventLoop,
                 on_gesture: GestureCallback, long_press: float = LONG_PRESS,
                 stuck_after: float = STUCK_AFTER) -> None:
        self.inputs, self.loop, self.on_gesture = inputs, loop, on_gesture
        self.long_press, self.stuck_after = long_press, stuck_after
        self.held: dict[str, _Held] = {}

    def start(self) -> None:
        """Re-read every level; a button already down is ignored until released."""
        now = self.loop.time()
        for name, inp in self.inputs.items():
            inp.resync()
            inp.on_change = lambda active, t, name=name: self.contact(name, active, t)
            if inp.is_active:
                h = self.held[name] = _Held(now)
                h.stuck = True
                log.warning("button %s is held at start-up: ignored until released", name)
                self._emit(name, "stuck", now)

    def close(self) -> None:
        for h in self.held.values():
            h.cancel()
        self.held.clear()
        for inp in self.inputs.values():
            inp.on_change = None

    def is_held(self, name: str) -> bool:
        h = self.held.get(name)
        return h is not None and not h.stuck

    def _emit(self, button: str, action: str, t: float) -> None:
        self.on_gesture(Gesture(button, action, t))

    def contact(self, name: str, down: bool, t: float) -> None:
        """A button's debounced contact closed (`down`) or opened at time `t`; the control
        socket's press and hold enter here too."""
        if down:
            self._down(name, t)
        else:
            self._up(name, t)

    def _down(self, name: str, t: float) -> None:
        old = self.held.pop(name, None)
        if old:
            old.cancel()
        h = self.held[name] = _Held(t)
        h.pressed = True
        call_at = self.loop.call_at
        h.timers.append(call_at(t + self.stuck_after, self._stuck, name, h))
        for pair, chord in CHORDS.items():
            if name in pair:
                (partner,) = pair - {name}
                if self.is_held(partner) and CHORD_FIRST.get(chord, partner) == partner:
                    # the chord instead of this button's own press
                    other = self.held[partner]
                    h.in_chord = other.in_chord = True
                    h.pressed = False
                    self._emit(chord, "chord", t)
                    if chord in HOLDS:
                        h.timers.append(call_at(t + HOLDS[chord], self._chord_hold, chord,
                                                ((name, h), (partner, other))))
                    return
        self._emit(name, "press", t)
        h.timers.append(call_at(t + self.long_press, self._long, name, h))
        if name in HOLDS:
            h.timers.append(call_at(t + HOLDS[name], self._hold, name, h))
        if name in REPEATING:
            h.timers.append(call_at(t + REPEAT_DELAY, self._repeat, name, h))

    def _up(self, name: str, t: float) -> None:
        h = self.held.pop(name, None)
        if h is None:
            return
        h.cancel()
        if h.stuck:
            log.info("button %s released after being stuck: in use again", name)
        elif not h.in_chord and t - h.since < self.long_press:
            self._emit(name, "tap", t)
        elif not h.in_chord and not h.long_sent:
            # held past LONG_PRESS, but the loop ran late and learnt of the release first:
            # the hold was long all the same
            self._emit(name, "long", h.since + self.long_press)
        if h.pressed:
            self._emit(name, "release", t)

    def _long(self, name: str, h: _Held) -> None:
        if self.held.get(name) is h and not h.in_chord and not h.stuck:
            h.long_sent = True
            self._emit(name, "long", self.loop.time())

    def _hold(self, name: str, h: _Held) -> None:
        if self.held.get(name) is h and not h.in_chord and not h.stuck:
            self._emit(name, "hold", h.since + HOLDS[name])

    def _chord_hold(self, chord: str, members: tuple[tuple[str, _Held], ...]) -> None:
        if all(self.held.get(name) is h and not h.stuck for name, h in members):
            self._emit(chord, "hold", max(h.since for _n, h in members) + HOLDS[chord])

    def _repeat(self, name: str, h: _Held) -> None:
        if self.held.get(name) is not h or h.in_chord or h.stuck:
            return
        self._emit(name, "repeat", self.loop.time())
        h.timers.append(self.loop.call_later(REPEAT_EVERY, self._repeat, name, h))

    def _stuck(self, name: str, h: _Held) -> None:
        if self.held.get(name) is not h:
            return
        h.cancel()
        h.stuck = True
        log.warning("button %s held for over %.0f s: stuck, ignored until released",
                    name, self.stuck_after)
        self._emit(name, "stuck", self.loop.time())
