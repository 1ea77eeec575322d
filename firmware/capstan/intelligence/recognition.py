"""Knowing the cassette again: two fingerprints of the music after the leader.

The first `SECONDS` (8 s) after the leader are one fingerprint, the next 8 s a second.
A cassette whose first fingerprint matches is a candidate; only when the second matches
the same cassette is it trusted (the TOC and the speed trim come back). A cassette that
does not match is remembered with both. Heard only when play runs through the leader's
end at speed (playing from the start of the side, as after a rewind).
"""

from __future__ import annotations

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


class Recognition:
    def __init__(self, ears: Any) -> None:
        self.ears = ears
        self.reset()

    def reset(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._frames = 0
        self._armed = False
        self._prints: list[Fingerprint] = []
        self.candidate: tuple[str, float] | None = None
        self.done = False

    def feed(self, block: np.ndarray, t: float, position: float) -> None:
        """A block heard at speed: loop time `t` of its first frame, tape `position`."""
        memory = self.ears.memory
        if self.done or memory is None or memory.id != CURRENT:
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
            return
        self._expected = end
        self._blocks.append(np.asarray(block))
        self._frames += len(block)
        if self._frames >= SECONDS * rate:
            audio = np.concatenate(self._blocks)
            self._prints.append(take_fingerprint(audio, rate))
            rest = audio[int(SECONDS * rate):]
            self._blocks, self._frames = [rest], len(rest)
            self._judge()

    _expected = 0.0

    def _judge(self) -> None:
        memory = self.ears.memory
        heard = self._prints[-1]
        if len(self._prints) == 1:
            best = None
            for cassette_id, text in memory.known_fingerprints():
                first = Fingerprint.from_text(text.split(",")[0])
                score = match_score(first, heard)
                if score >= MATCH_THRESHOLD and (best is None or score > best[1]):
                    best = (cassette_id, score)
            self.candidate = best
            if best is not None:
                self.ears.publish(CassetteKnown("candidate", best[0], round(best[1], 3)))
            return
        self.done = True
        if self.candidate is not None:
            cassette_id = self.candidate[0]
            known = dict(memory.known_fingerprints()).get(cassette_id, "")
            parts = known.split(",")
            if len(parts) > 1:
                score = match_score(Fingerprint.from_text(parts[1]), heard)
                if score >= MATCH_THRESHOLD:
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
