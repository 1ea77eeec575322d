"""Knowing the cassette again: two fingerprints of the music after the leader.

The first `SECONDS` (8 s) after the leader are one fingerprint, the next 8 s a second.
A cassette whose first fingerprint matches is a candidate; only when the second matches
the same cassette is it trusted (the TOC and the speed trim come back). A cassette that
does not match is remembered with both. Heard only when play runs through the leader's
end at speed (playing from the start of the side, as after a rewind).

A fingerprint is taken, and scored against every known cassette's, on a worker thread
(8 s of audio took 30 ms here and each score 20 ms; ten times that on a Zero 2 W), never
in the tap's callback, so it delays no button and no block; the answer is judged on the
loop when it is done, in the order the audio came. Play interrupted meanwhile makes it
stale: it is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np

from capstan.analysis.fingerprint import (
    MATCH_THRESHOLD,
    SECONDS,
    Fingerprint,
    match_score,
    take_fingerprint,
)
from capstan.cassettes import CURRENT
from capstan.intelligence.events import CassetteKnown

log = logging.getLogger(__name__)

START_WITHIN = 1.0  # s after the leader's end: play must have begun before this

Heard = tuple[Fingerprint, dict[str, float]]  # a fingerprint, and its score per known cassette


def hear(audio: np.ndarray, rate: float, known: list[tuple[str, str]], part: int) -> Heard:
    """On the worker: the fingerprint of `audio`, and its score against part `part`
    (0: the first 8 s, 1: the next) of each known cassette that has one."""
    heard = take_fingerprint(audio, rate)
    scores = {}
    for cassette_id, text in known:
        parts = text.split(",")
        if len(parts) > part:
            scores[cassette_id] = match_score(Fingerprint.from_text(parts[part]), heard)
    return heard, scores


class Recognition:
    def __init__(self, ears: Any) -> None:
        self.ears = ears
        self.reset()

    def reset(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._frames = 0
        self._armed = False
        self._prints: list[Fingerprint] = []
        self._taking: list[asyncio.Future[Heard]] = []  # on the worker, in order
        self.candidate: tuple[str, float] | None = None
        self.done = False

    def feed(self, block: np.ndarray, t: float, position: float) -> None:
        """A block heard at speed: loop time `t` of its first frame, tape `position`."""
        memory = self.ears.memory
        if self.done or memory.id != CURRENT:
            return
        leader, rate = self.ears.leader, self.ears.rate
        end = t + len(block) / rate
        if not self._armed:
            if position + len(block) / rate <= leader:
                return
            if position > leader + START_WITHIN:
                return  # not from the start: wait for a play through the leader
            self._armed = True
            block = block[max(0, round((leader - position) * rate)):]
        elif t > self._expected + 0.05:  # play was interrupted: start again
            self._blocks, self._frames, self._prints, self._armed = [], 0, [], False
            self._taking = []  # what is still being taken is stale
            return
        self._expected = end
        self._blocks.append(np.asarray(block))
        self._frames += len(block)
        if self._frames >= SECONDS * rate:
            audio = np.concatenate(self._blocks)
            rest = audio[int(SECONDS * rate):]
            self._blocks, self._frames = [rest], len(rest)
            part = len(self._prints) + len(self._taking)  # 0: the first print, 1: the second
            known = list(memory.known_fingerprints())  # as it is now, for the worker
            taking = self.ears.loop.run_in_executor(None, hear, audio, rate, known, part)
            self._taking.append(taking)
            taking.add_done_callback(self._taken)

    _expected = 0.0

    def _taken(self, taking: asyncio.Future[Heard]) -> None:
        """A fingerprint is done: judge those done, in the order their audio came."""
        if taking not in self._taking:  # stale: reset, or play was interrupted
            if not taking.cancelled() and taking.exception() is not None:
                log.debug("a stale fingerprint failed: %s", taking.exception())
            return
        while self._taking and self._taking[0].done():
            done = self._taking.pop(0)
            if done.cancelled():  # the loop is closing
                self._taking = []
                return
            if done.exception() is not None:
                log.warning("the cassette's fingerprint could not be taken: %s",
                            done.exception())
                self._taking = []
                return
            if self.done or self.ears.memory.id != CURRENT:  # recognized meanwhile
                self._taking = []
                return
            heard, scores = done.result()
            self._prints.append(heard)
            self._judge(scores)

    def _judge(self, scores: dict[str, float]) -> None:
        memory = self.ears.memory
        if len(self._prints) == 1:
            best = None
            for cassette_id, score in scores.items():
                if score >= MATCH_THRESHOLD and (best is None or score > best[1]):
                    best = (cassette_id, score)
            self.candidate = best
            if best is not None:
                self.ears.publish(CassetteKnown("candidate", best[0], round(best[1], 3)))
            return
        self.done = True
        if self.candidate is not None:
            cassette_id = self.candidate[0]
            score = scores.get(cassette_id)  # None: it was remembered with one print only
            if score is not None and score >= MATCH_THRESHOLD:
                memory.recall(cassette_id)
                trim = self.ears.meter.restore_cassette_trim()
                self.ears.publish(CassetteKnown(
                    "recognized", cassette_id, round(score, 3),
                    sum(len(v) for v in memory.toc.marks.values()),
                    None if trim is None else round(trim * 100, 4)))
                return
        text = ",".join(p.to_text() for p in self._prints[:2])
        cassette_id = memory.remember(text)
        self.ears.publish(CassetteKnown("new", cassette_id))
