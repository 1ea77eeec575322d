"""Music search: a long FF/REW skips to the next/previous track (FF again within a second
adds one), as Sony's AMS did.

With the boundary in the TOC: wind fast, ask for PLAY early enough that the tape coasts
to a stop `LEAD` seconds before the track's start (in its gap), and play. Without it,
search by listening: the reference mechanism lifts the head in fast wind (no cue), so
wind a short step, play a moment and listen, again and again, until a listen hears the
hiss of a gap; then play on until the sound returns: that is the track's start.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from capstan.analysis.tracks import MARGIN_DB
from capstan.intelligence.events import TrackEvent

TICK = 0.025  # s between looks at the counter while winding
LEAD = 1.5  # s before a known start where the tape should stop (in the gap)
COAST_S = 0.1  # the tape runs on for about this many seconds of wind speed after PLAY
OVERSHOOT = 1.0  # s past the target: wind back rather than play from there
AGAIN_WITHIN = 1.0  # s: FF pressed again this soon after a skip adds a track
WIND_FRESH = 1.5  # s: a wind younger than this began with the skip's own press
STEP = 1.2  # s of tape wound between two listens: a 2 s gap cannot slip between them
WIND_S = 0.2  # s of wind per step (from when the motor drives) while the position is unknown
SAMPLE_S = 0.25  # s of listening in play
SILENT_SHARE = 0.9  # of the sample's 5 ms frames below the threshold: a gap
SOUND_FRAMES = 3  # 15 ms of sound end a gap (clicks are shorter)
BLANK_S = 8.0  # s of silence: blank tape, not a gap; wind on
KEEP_MARK_AFTER = 1.0  # s of silence heard before a found start joins the TOC
FALLBACK_THRESHOLD_DBFS = -50.0  # before any hiss was measured
FRAME_S = 0.005


class MusicSearch:
    def __init__(self, ears: Any) -> None:
        self.ears = ears
        self.phase: str | None = None  # locate | land | sample | gap | wind
        self.direction = "next"
        self.count = 0
        self.found = 0
        self.by = ""
        self.goal: float | None = None
        self.target = 0.0
        self.forward = True
        self._then = ""
        self._last_press = -math.inf
        self._wind_from: tuple[float, float] | None = None  # (time, counter) of a user's wind
        self._driving = False
        self._absorb = False
        self._timer: Any = None
        self._speed = 0.0
        self._seen: tuple[float, float] | None = None
        self._frames: list[float] = []
        self._silence_at: float | None = None
        self._loud = 0

    @property
    def active(self) -> bool:
        return self.phase is not None

    def status(self) -> dict[str, Any] | None:
        if not self.active:
            return None
        return {"direction": self.direction, "skip": self.count, "by": self.by,
                "phase": self.phase, "target": None if self.goal is None else round(self.goal, 2)}

    # what happens -------------------------------------------------------------------
    def skip(self, direction: str) -> None:
        now = self.ears.loop.time()
        if self.active and direction == self.direction:
            self.count += 1
        else:
            self._end()
            self.direction, self.count, self.found = direction, 1, 0
            wind = self._wind_from
            self.origin = (wind[1] if wind is not None and now - wind[0] <= WIND_FRESH
                           else self.ears.player.counter)
        self._last_press = now
        self._plan()

    def button(self, button: str, action: str) -> None:
        if action != "press":
            return
        now = self.ears.loop.time()
        again = {"next": "ff", "previous": "rew"}[self.direction]
        if button == again and now - self._last_press <= AGAIN_WITHIN:
            self._last_press = now
            self._absorb = True  # the press's own transport change is part of the search
            self.ears.loop.call_soon(self._stop_absorbing)
            self.count += 1  # from the same origin (it may have landed already)
            self.found = 0
            self._plan()
            return
        if self.active:
            self.cancel(f"{button} pressed")

    def _stop_absorbing(self) -> None:
        self._absorb = False

    def transport(self, state: str) -> None:
        if self._driving or self._absorb:
            return
        if state in ("fast_forward", "rewind"):
            self._wind_from = (self.ears.loop.time(), self.ears.player.counter)
        if self.active:
            self.cancel(f"the transport went to {state}")

    def cancel(self, reason: str) -> None:
        if not self.active:
            return
        not_found = "stopped by itself" in reason
        self._end()
        self.ears.publish(TrackEvent("not_found" if not_found else "cancelled",
                                     self.ears.side, round(self.ears.player.counter, 2),
                                     direction=self.direction))

    def _end(self) -> None:
        self.phase = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # planning ----------------------------------------------------------------------
    def _plan(self) -> None:
        ears = self.ears
        toc = ears.memory.toc
        side = ears.side
        goal = None
        self.counted = ears.player.tape_counter.position is not None  # else: only listening
        if self.counted and (toc.marks[side] or toc.starts[side] is not None):
            if self.direction == "next":
                goal = toc.next_boundary(side, self.origin, self.count)
            else:
                goal = toc.previous_boundary(side, self.origin, self.count)
        self.goal = goal
        if goal is not None:
            self.by = "toc"
            self._locate(max(goal - LEAD, ears.leader * 0.5), "land")
        else:
            self.by = "listening"
            start = self.origin if self.direction == "next" else self.origin - 3.0
            if self.counted:
                self._locate(max(start, ears.leader * 0.5), "sample")
            else:  # wind blind, a short time per step
                self._step_blind()
        ears.publish(TrackEvent("search", side, round(ears.player.counter, 2),
                                direction=self.direction, skip=self.count, by=self.by,
                                target=None if goal is None else round(goal, 3)))

    def _drive(self, button: str) -> None:
        self._driving = True
        try:
            self.ears.drive(button)
        finally:
            self._driving = False

    def _locate(self, target: float, then: str) -> None:
        pos = self.ears.player.counter
        self.target, self._then = target, then
        self.forward = target > pos
        self._reversals = 0
        self._speed, self._changed = 0.0, False  # measured afresh: an old wind's is stale
        state = self.ears.player.deck.state.value
        if abs(target - pos) < 0.3 and state == "playing":
            self._arrive()
            return
        wanted = "fast_forward" if self.forward else "rewind"
        self.phase = "locate"
        if state != wanted:
            self._drive("ff" if self.forward else "rew")
        self._seen = None
        self._schedule()

    def _step_blind(self) -> None:
        self.phase, self._then, self._seen = "blind", "sample", None
        self._drive("ff" if self.direction == "next" else "rew")
        # timed from when the motor winds: the mechanism first lets it spin down from play
        start = max(self.ears.loop.time(), self.ears.player.mechanism.drive_since)
        self._blind_until = start + WIND_S + (2 * SAMPLE_S if self.direction == "previous"
                                              else 0.0)
        self._schedule()

    _blind_until = 0.0
    _reversals = 0
    _changed = False

    def _arrive(self) -> None:
        self.phase = self._then
        self._frames, self._silence_at, self._loud = [], None, 0
        if self.ears.player.deck.state.value != "playing":
            self._drive("play")
        self._schedule()

    # winding, watched on the counter ------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.ears.loop.call_later(TICK, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self.active:
            return
        now, pos = self.ears.loop.time(), self.ears.player.counter
        if self._seen is None:
            self._seen, self._changed = (now, pos), False
        elif pos != self._seen[1]:  # speed only between two moments the counter changed
            if self._changed:
                self._speed = (pos - self._seen[1]) / max(now - self._seen[0], 1e-3)
            self._seen, self._changed = (now, pos), True
        if self.phase == "locate":
            # where the tape would come to rest if PLAY were pressed now: the speed is
            # signed, so a tape still coasting the other way (the mechanism lets the motor
            # spin down before it reverses) is not taken for one that has arrived
            ahead = pos + self._speed * (now - self._seen[0])  # the counter is 50 ms coarse
            coast = getattr(self.ears.player.mechanism, "coast_s", COAST_S)
            rest = ahead + self._speed * coast
            over = (rest - self.target) if self.forward else (self.target - rest)
            # judged only once the tape is seen winding the wanted way: right after a wind
            # is asked for, it may still coast the other way for a while
            measured = self._changed and self._speed != 0 and (self._speed > 0) == self.forward
            if over >= 0 and measured:
                if over > OVERSHOOT and self._reversals < 2:
                    self._reversals += 1  # too late, winding this way: wind back to it
                    self.forward = not self.forward
                    self._speed, self._changed, self._seen = 0.0, False, None
                    self._drive("ff" if self.forward else "rew")
                else:
                    self._arrive()
                    return
        elif self.phase == "blind":
            if now >= self._blind_until:
                self._arrive()
                return
        elif self.phase == "land" and self.ears.at_speed(now):
            self._end()
            self.ears.publish(TrackEvent("landed", self.ears.side, round(pos, 2),
                                         self.ears.track_number(self.goal or pos),
                                         direction=self.direction, by="toc"))
            return
        self._schedule()

    # listening ------------------------------------------------------------------------
    def feed(self, block: np.ndarray, t: float, position: float) -> None:
        if self.phase not in ("sample", "gap"):
            return
        block = np.asarray(block)
        frame = max(1, round(FRAME_S * self.ears.rate))
        n = len(block) // frame * frame
        power = np.square(block[:n], dtype=np.float64).reshape(n // frame, -1).mean(axis=1)
        levels = 10 * np.log10(power + 1e-20)
        floor = self.ears.detector.floor_dbfs
        threshold = (floor + MARGIN_DB if floor is not None and -100.0 < floor < -30.0
                     else FALLBACK_THRESHOLD_DBFS)
        if self.phase == "sample":
            self._frames.extend(levels.tolist())
            if len(self._frames) * FRAME_S >= SAMPLE_S:
                quiet = np.mean(np.array(self._frames) < threshold)
                if quiet >= SILENT_SHARE:
                    self.phase, self._silence_at, self._loud = "gap", position, 0
                else:
                    self._wind_on(position)
            return
        for i, level in enumerate(levels.tolist()):  # in a gap: wait for the sound
            self._loud = self._loud + 1 if level >= threshold else 0
            if self._loud >= SOUND_FRAMES:
                self._sound_returns(position + (i - SOUND_FRAMES + 1) * FRAME_S)
                return
        if self._silence_at is not None and position - self._silence_at > BLANK_S:
            self._wind_on(position)  # blank tape: wind on

    def _wind_on(self, position: float) -> None:
        if not self.counted:
            self._step_blind()
            return
        step = STEP if self.direction == "next" else -(STEP + 2 * SAMPLE_S)
        self._locate(position + step, "sample")

    def _sound_returns(self, position: float) -> None:
        ears = self.ears
        heard = position - (self._silence_at or position)
        if heard >= KEEP_MARK_AFTER:
            start = round(position, 3)
            if ears.memory.add_mark(ears.side, start, "detected"):
                ears.publish(TrackEvent("boundary", ears.side, start, ears.track_number(start)))
        self.found += 1
        if self.found < self.count:
            self._wind_on(position if self.direction == "next" else position - 3.0)
            return
        self._end()
        ears.publish(TrackEvent("landed", ears.side, round(position, 2),
                                ears.track_number(position), direction=self.direction,
                                by="listening"))
