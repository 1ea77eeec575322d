"""The service: hears the analysis tap while the tape plays at speed and hands each block
to its parts (track marks, fingerprint, meter, digitizer, music search).

Blocks come from the tap after the chain has written them out (`call_soon`), so nothing
here can delay the sound. Times are the loop's; a block's tape position is the counter's
reading less the time since the block began (the counter is refreshed every 50 ms).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import numpy as np

from capstan.analysis.tracks import TrackDetector
from capstan.cassettes import CURRENT, CassetteMemory
from capstan.deck import transport as tp
from capstan.events import Event
from capstan.intelligence.digitizing import Digitizer
from capstan.intelligence.events import TrackEvent
from capstan.intelligence.meter import LiveMeter
from capstan.intelligence.recognition import Recognition
from capstan.intelligence.search import MusicSearch

log = logging.getLogger(__name__)

HEARD_AFTER = 0.3  # s after play settles before the head's sound counts (motor at speed)
# The side the tape intelligence hears is the one facing the head (the transport's
# `side`): always "A" on the reference, which cannot tell a flipped cassette's sides
# apart; on an auto-reverse mechanism the side the head is turned to.


class TapeIntelligence:
    def __init__(self, player: Any, memory: CassetteMemory) -> None:
        """`memory`: the player's one CassetteMemory (the recorder writes its marks there)."""
        self.player, self.loop, self.bus = player, player.loop, player.bus
        self.config = player.config.get("intelligence", {})
        self.rate = player.audio.rate
        self.memory = memory
        self.leader = float(player.board.description.mechanism.leader)
        self.detector = TrackDetector(self.rate)
        self.search = MusicSearch(self)
        self.recognition = Recognition(self)
        self.meter = LiveMeter(self)
        self.digitizer = Digitizer(self)
        self.heard = False  # the last block was heard at speed
        self._positions: deque[tuple[float, float]] = deque(maxlen=8)
        self._unsubscribe: list[Any] = []

    # life ------------------------------------------------------------------------
    def start(self) -> None:
        self._was_empty = self.player.deck.state == tp.State.NO_CASSETTE
        self.meter.restore_deck_trim()
        self.digitizer.start()
        self._unsubscribe = [
            self.player.audio.tap.subscribe(self._on_block),
            self.bus.subscribe(self._on_event, "transport", "button", "skip", "safety"),
        ]

    def socket_commands(self) -> dict[str, Any]:
        """The control socket's commands this subsystem answers (control/server.py):
        `digitize` ({"on": true|false}) sends what plays to FLAC, a file per track."""
        return {"digitize": self._digitize_command}

    def _digitize_command(self, request: dict[str, Any]) -> dict[str, Any]:
        on = request.get("on", True)
        if not isinstance(on, bool):
            raise ValueError("digitize takes \"on\": true or false")
        self.digitizer.enable(on)
        return {"ok": True, "digitizing": on}

    def stop(self) -> None:
        for u in self._unsubscribe:
            u()
        self._unsubscribe = []
        self.search.cancel("stopping")
        self.digitizer.stop()

    # the deck ------------------------------------------------------------------------
    @property
    def side(self) -> str:
        return self.player.deck.side

    def at_speed(self, now: float) -> bool:
        p = self.player
        m = p.mechanism
        return (p.deck.state == tp.State.PLAYING and m.mode == tp.Mode.PLAY and m.settled
                and now - m.changed_at >= HEARD_AFTER)

    def position_at(self, t: float) -> float:
        """Tape position (counter seconds) where the head was at loop time `t`, in play."""
        return self.player.position_at(t)

    def publish(self, event: Event) -> None:
        self.bus.publish(event)

    def drive(self, button: str) -> None:
        """Drive the transport as a button press would (no button event)."""
        self.player.command(button)

    # inputs ---------------------------------------------------------------------------
    def _on_block(self, block: np.ndarray, t: float) -> None:
        now = self.loop.time()
        if (not self.at_speed(now) or self.player.mechanism.changed_at > t
                or not block.any()):  # digital zeros: no head signal (never hiss)
            if self.heard:
                self.heard = False
                self.digitizer.pause()
            return
        self.heard = True
        pos = self.position_at(t)
        if pos > self.leader + 0.1:  # the leader has no oxide: no hiss to learn from
            for mark in self.detector.feed(block, t):
                self._boundary(mark.gap_start, mark.gap_end)
        if self.detector.first_sound is not None:
            self._first_sound(self.position_at(self.detector.first_sound))
        self.search.feed(block, t, pos)
        self.recognition.feed(block, t, pos)
        self.meter.feed(block)
        self.digitizer.feed(block, pos)

    def _first_sound(self, position: float) -> None:
        toc = self.memory.toc
        if toc.starts[self.side] is None and position < self.leader + 5.0:
            toc.set_span(self.side, start=round(max(position, self.leader), 3))
            self.memory.save()

    def _boundary(self, gap_start: float, gap_end: float) -> None:
        start = round(self.position_at(gap_end), 3)
        if self.memory.add_mark(self.side, start, "detected"):
            number = self.track_number(start)
            self.publish(TrackEvent("boundary", self.side, start, number))
        self.digitizer.boundary(start)

    def track_number(self, position: float) -> int:
        """The number of the track playing at `position` (1-based)."""
        return 1 + sum(1 for m in self.memory.toc.marks[self.side] if m.position <= position + 0.01)

    def _on_event(self, t: float, event: Event) -> None:
        kind = event.type
        if kind == "transport":
            state = str(getattr(event, "state", ""))
            if state == "no_cassette":
                self._cassette_out()
            elif self._was_empty:
                self._cassette_in()
            self._was_empty = state == "no_cassette"
            if state != "playing":
                self.digitizer.pause()
            self.search.transport(state)
        elif kind == "button":
            self.search.button(str(getattr(event, "button", "")), str(getattr(event, "action", "")))
        elif kind == "skip":  # after the dispatch that asked for it has finished
            self.loop.call_soon(self.search.skip, str(getattr(event, "direction", "next")))
        elif kind == "safety":
            self.search.cancel("the tape stopped by itself")

    _was_empty = False

    def _cassette_in(self) -> None:
        self.memory.inserted()
        self.detector = TrackDetector(self.rate)
        self.recognition.reset()
        self.meter.restore_deck_trim()

    def _cassette_out(self) -> None:
        self.search.cancel("the cassette went out")
        self.digitizer.pause()
        self.recognition.reset()

    # status -------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        memory = self.memory
        return {
            "cassette": memory.id if memory.id != CURRENT else None,
            "tracks": [[round(tr.start, 2), None if tr.end is None else round(tr.end, 2)]
                       for tr in memory.toc.tracks(self.side)],
            "track": self.track_number(self.player.counter),
            "search": self.search.status(),
            **self.meter.status(),
            "digitizing": self.digitizer.status(),
        }
