"""The recorder: the Player's recording subsystem (docs/recording.md).

Arming lives here, not in the transport: REC in `stopped` arms (REC LED blinks, the
ADC mux hears line-in, the chain monitors it through the record feed); PLAY then
starts, REC again or STOP disarms, REC held arms for a sync start. REC+PLAY starts
directly. Before the tape moves the recorder checks the record tab of the side facing
the head and the battery, and refuses with a reason; the transport (deck/transport.py)
and the relay's interlock (devices/relay.py) check the tab once more on their own.

The record sequence: the transport runs the motor up; the relay's interlock lets it
engage once the tape is at speed; only then is the record feed faded in. STOP, PLAY
(pause) and REC (REC MUTE) while recording fade the feed out first and hand the
button to the transport only when the silence has reached the DAC, so the relay is
released on silence and the motor stops after it: no click and no erase gap in music.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np

from capstan.analysis.tracks import TrackDetector
from capstan.cassettes import CassetteMemory
from capstan.deck import transport as tp
from capstan.devices import leds as lp
from capstan.events import Refused
from capstan.recording.events import RecordChanged, RecordLevelReport, TrackMarked
from capstan.recording.feed import FEED_FADE, RecordFeed

log = logging.getLogger(__name__)

ARMED = "record_armed"  # what the audio chain is told while armed (it monitors line-in)
TICK = 0.05  # s
REC_MUTE_S = 4.0  # s of silence REC MUTE puts on the tape before the record pause
WARN_BEFORE = 60.0  # s of tape left: the REC LED warns
CLOSE_BEFORE = 1.0  # s of oxide left: the recording closes (fade, relay, motor)
UNKNOWN_SIDE_S = 47 * 60 / 2  # s asked of the battery when the counter does not know the side
GAP_S = 1.8  # s of silence on line-in that make a track mark
LINE_IN_FLOOR_DBFS = -70.0  # the silence of a line source (seeds the gap detector's floor)
# A digitally silent source would put the detector's floor at -200 dB and only a perfect
# zero would count as a gap: the detector hears line-in over a floor of -80 dBFS.
HEARD_FLOOR = np.float32(10 ** (-80 / 20))
SYNC_DBFS = -40.0  # peak over which an armed sync start begins to record
WARN_PATTERN = lp.blink(0.25)
ARMED_PATTERN = lp.blink(0.5)
SYNC_PATTERN = lp.blink(0.5, duty=0.2)
START_KEYS = ("press",)


class Recorder:
    def __init__(self, player: Any, memory: CassetteMemory) -> None:
        """`memory`: the player's one CassetteMemory, whose TOC the recording's marks go to
        (the tape intelligence starts a fresh TOC when a cassette goes in)."""
        self.player, self.loop, self.bus = player, player.loop, player.bus
        audio = player.audio
        self.rate = audio.rate
        self.period = int(getattr(audio.capture, "period", 1024))
        self.feed = RecordFeed(self.rate, audio.capture.channels, self.loop.time,
                               block_start=lambda: getattr(audio.capture, "block_start", None))
        self.feed.listen = self._listen
        self.memory = memory
        self.leader = float(player.board.description.mechanism.leader)
        self.side: str | None = None  # None: the side facing the head (the transport's)
        self.armed = self.sync = False
        self.can_finish = None  # (seconds, mode) -> bool; None: player.power if any, else yes
        self.playlist: Any = None
        self._recording = False
        self._opened = False
        self._warned = False
        self._muting = False
        self._pending: asyncio.TimerHandle | None = None
        self._tick_timer: asyncio.TimerHandle | None = None
        self._run: TrackDetector | None = None
        self._run_side = "A"  # the side the present run of the recording is on
        self._end_position = 0.0  # where the run's last sound lies on its side
        self._run_start_marked = False
        self._clips_told = 0
        self._unsubscribe: list[Any] = []

    # life ------------------------------------------------------------------
    def start(self) -> None:
        self._unsubscribe = [self.bus.subscribe(self._transport, "transport"),
                             self.bus.subscribe(self._tape_type, "tape_type")]
        self._tick_timer = self.loop.call_later(TICK, self._tick)

    def socket_commands(self) -> dict[str, Any]:
        """The control socket's commands this subsystem answers (control/server.py)."""
        from capstan.recording.control import handle_record

        return {"record": lambda request: handle_record(self, request)}

    def stop(self) -> None:
        for off in self._unsubscribe:
            off()
        for h in (self._tick_timer, self._pending):
            if h is not None:
                h.cancel()
        self._pending = self._tick_timer = None
        if self._recording:
            self._close_run()
        if self.playlist is not None:
            self.playlist.close()
        self.memory.save()

    # what the side is ----------------------------------------------------------
    @property
    def current_side(self) -> str:
        return self.side or self.player.deck.side

    def status(self) -> dict[str, Any]:
        lv = self.feed.level
        return {"armed": self.armed, "sync": self.sync, "side": self.current_side,
                "level_mode": lv.mode, "gain_db": lv.gain_db, "target_dbfs": lv.target_dbfs,
                "clips": lv.clips,
                "tracks": [[t.number, round(t.start, 2), None if t.end is None else
                            round(t.end, 2)] for t in self.memory.toc.tracks(self.current_side)]}

    # buttons -------------------------------------------------------------------
    def gesture(self, g: Any) -> bool:
        """A button gesture, before the transport sees it; True: the recorder took it."""
        state = self.player.deck.state
        b, action = g.button, g.action
        active = self.armed or state in tp.RECORD_STATES
        if b in ("vol_up", "vol_down") and active:
            if action in ("press", "repeat"):
                self.step_level(1 if b == "vol_up" else -1)
            return True
        if action == "chord" and b == "rec+play":
            if state in (tp.State.STOPPED, tp.State.PLAYING, tp.State.PAUSED):
                return self._refused(self.refusal(start=True))
            return False
        if action == "long" and b == "rec" and self.armed:
            self.sync = True
            self.player.led_players["rec"].play(SYNC_PATTERN)
            self._publish("sync_armed")
            return True
        if action not in START_KEYS:
            return False
        if state == tp.State.STOPPED and not self.armed:
            if b == "rec":
                self.arm()
                return True
            return False
        if self.armed and state == tp.State.STOPPED:
            if b == "play":
                self.begin()
                return True
            self.disarm()
            return b == "rec"  # STOP, FF, REW disarm and go on to the transport
        if state == tp.State.RECORDING and b in ("stop", "play", "rec"):
            if self._muting and b == "stop":  # the feed is silent already
                self._cancel_pending()
                self._muting = False
                self.player.request(tp.Press("stop"))
            elif self._pending is None:
                if b == "rec":
                    self.rec_mute()
                else:
                    self._leave(tp.Press(b))
            return True
        if state == tp.State.RECORD_PAUSED and b in ("play", "rec"):
            return self._refused(self.refusal(start=True))
        return False

    def _refused(self, reason: str | None) -> bool:
        if reason is None:
            return False
        self.bus.publish(Refused("record", reason))
        self.player.led_players["status"].flash(*lp.REFUSED_FLASH)
        return True

    # checks -----------------------------------------------------------------------
    def refusal(self, start: bool) -> str | None:
        """Why recording cannot begin now (None: it can). `start`: the tape would move."""
        p = self.player
        if p.deck.state == tp.State.NO_CASSETTE or not p.switches["cassette_in"].is_active:
            return "no cassette: insert one to record"
        if not p.tab_facing():
            return f"side {self.current_side} is write-protected: cover the tab to record"
        if start:
            remaining = p.tape_counter.remaining
            seconds = remaining if remaining is not None else UNKNOWN_SIDE_S
            if not self._battery_can_finish(seconds):
                return (f"the battery cannot finish this side ({seconds / 60:.0f} min): "
                        "plug in the charger to record")
        return None

    def _battery_can_finish(self, seconds: float) -> bool:
        check = self.can_finish or getattr(self.player, "can_finish", None)
        if check is None:
            return True  # the hook until the power subsystem is wired into the Player
        try:
            return bool(check(seconds, "recording"))
        except Exception:  # a broken gauge must not stop a recording from starting
            log.exception("battery check failed: recording anyway")
            return True

    # arming ------------------------------------------------------------------------
    def arm(self) -> bool:
        if self._refused(self.refusal(start=False)):
            return False
        p = self.player
        self.armed, self.sync = True, False
        self.feed.level.reset()
        self.feed.level.set_auto()
        self._insert(True)
        self.feed.monitor()
        p.audio.transport_changed(ARMED)  # the chain fades back in on line-in
        p.led_players["rec"].play(ARMED_PATTERN)
        self._publish("armed")
        return True

    def disarm(self) -> None:
        if not self.armed:
            return
        self.armed = self.sync = False
        p = self.player
        if p.deck.state not in tp.RECORD_STATES:
            self._insert(False)
            p.audio.transport_changed(p.deck.state.value)
            p._show_leds()
        self._publish("disarmed")

    def begin(self) -> bool:
        """Start recording now (PLAY while armed, a sync start, a playlist): checks first."""
        if self._refused(self.refusal(start=True)):
            return False
        self.player.request(tp.Chord("rec+play"))
        return self.player.deck.state == tp.State.RECORDING

    def record_playlist(self, tracks: list[Any], gap: float) -> str | None:
        """Play planned tracks (recording/plan.py) out onto the side facing the head, with the
        same checks, sequence and marks as line-in. Returns why it was refused, or None."""
        from capstan.recording.plan import PlaylistSource

        reason = self.refusal(start=True)
        if reason is not None or self.player.deck.state != tp.State.STOPPED:
            reason = reason or "the deck is busy: press STOP first"
            self._refused(reason)
            return reason
        if self.playlist is not None:
            self.playlist.close()
        self.playlist = PlaylistSource(tracks, self.rate, gap, self.feed.channels)
        self.feed.source = self.playlist
        self.feed.level.reset()
        self.feed.level.set_manual(0.0)  # the tracks' gains were set by the pre-scan
        if not self.begin():
            self.playlist.close()
            self.playlist = self.feed.source = None
            return "the transport did not start recording"
        self._publish("playlist", message=f"{len(tracks)} tracks")
        return None

    def _insert(self, on: bool) -> None:
        a = self.player.audio
        a.insert = self.feed if on else None
        a.outputs.feeds_record = on
        if on:
            self.player.adc_mux.set(True)
        elif self.player.deck.state not in tp.RECORD_STATES:
            self.player.adc_mux.set(False)

    # level -------------------------------------------------------------------------
    def step_level(self, steps: int) -> float:
        lv = self.feed.level
        gain = lv.set_manual((lv.manual_db if lv.mode == "manual" else lv.gain_db) + steps)
        self._level_report()
        return gain

    def _level_report(self) -> None:
        lv = self.feed.level
        self._clips_told = lv.clips
        mode = "playlist" if self.playlist is not None else lv.mode
        self.bus.publish(RecordLevelReport(mode, lv.manual_db if lv.mode == "manual"
                                           else lv.gain_db, lv.target_dbfs, lv.clips))

    def _tape_type(self, t: float, event: Any) -> None:
        self.feed.level.set_tape_type(str(getattr(event, "tape_type", "I")))

    # the transport ----------------------------------------------------------------------
    def _transport(self, t: float, event: Any) -> None:
        state = getattr(event, "state", "")
        if state == tp.State.RECORDING and self._recording:
            if self._run_side != self.current_side:  # the head turned: on, on the other side
                self._close_run()
                self._publish("continued_on_b", message=f"side {self._run_side} ended")
            else:
                return
        if state == tp.State.RECORDING:
            self.armed = self.sync = False
            self._recording, self._opened, self._muting = True, False, False
            self._insert(True)
            self.feed.shut()  # until the relay is engaged
            self._run = TrackDetector(self.rate, GAP_S, LINE_IN_FLOOR_DBFS)
            self._run_side = self.current_side
            self._run_start_marked = False
            self._warned = False
            return
        if self._recording:
            self._close_run()
        self._cancel_pending()
        if state == tp.State.RECORD_PAUSED:
            self.feed.monitor()  # the relay is released: the input is only monitored
            return
        if state == tp.State.NO_CASSETTE:
            self.armed = self.sync = False
            self.side = None
        if not self.armed:
            self._insert(False)

    def _close_run(self) -> None:
        self._recording = self._opened = False
        run, self._run = self._run, None
        if run is not None and run.last_sound is not None and self._run_start_marked:
            side = self._run_side
            end = self._position_of(run.last_sound) if side == self.current_side \
                else self._end_position
            end = min(end, self._oxide_end())  # line-in went on past the oxide: not on tape
            self.memory.toc.set_span(side, end=end)
            self.memory.save()
            self.bus.publish(TrackMarked(side, round(end, 3), "recorded", "end"))
        self._level_report()
        if self.playlist is not None and getattr(self.playlist, "done", False):
            self.playlist.close()
            self.playlist = None
            self.feed.source = None

    # leaving the recording state cleanly ------------------------------------------------
    def _leave(self, event: tp.Event) -> None:
        """Fade the feed out; the transport gets `event` when the silence reached the DAC."""
        self.feed.close()
        self._pending = self.loop.call_later(self._drain_time(), self._hand_over, event)

    def _drain_time(self) -> float:
        return FEED_FADE + self.feed.level.latency + 2.5 * self.period / self.rate

    def _hand_over(self, event: tp.Event) -> None:
        self._pending = None
        self._muting = False
        if self.player.deck.state == tp.State.RECORDING:
            self.player.request(event)

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    async def safe_stop(self, reason: str = "") -> None:
        """Close a recording cleanly now (the power service, before a power-off)."""
        if self.player.deck.state != tp.State.RECORDING:
            return
        self._cancel_pending()
        self._publish("closed", message=reason or None)
        self.feed.close()
        await asyncio.sleep(self._drain_time())
        self._hand_over(tp.Press("stop"))

    def rec_mute(self) -> None:
        """REC MUTE: REC_MUTE_S of silence on the tape (a gap for the music search), then pause."""
        self._muting = True
        self.feed.close()
        self._publish("rec_mute")
        self._pending = self.loop.call_later(REC_MUTE_S, self._hand_over, tp.Press("rec"))

    # every TICK ---------------------------------------------------------------------------
    def _tick(self) -> None:
        self._tick_timer = self.loop.call_later(TICK, self._tick)
        p = self.player
        if p.deck.state != tp.State.RECORDING:
            return
        relay = p.record_relay.is_engaged
        if relay and not self._opened and self._pending is None and not self._muting:
            self._opened = True
            self.feed.open()
            self._publish("started")
        elif self._opened and not relay:
            self.feed.shut()  # the interlock dropped it: nothing reaches the head anyway
            self._opened = False
        if self.playlist is not None and self._opened and p.counter >= self.leader:
            self.playlist.running = True  # the leader has passed the head: music on oxide
        if self.feed.level.clips > self._clips_told:
            self._level_report()
        remaining = p.tape_counter.remaining
        if remaining is not None and self._pending is None:
            if remaining <= WARN_BEFORE and not self._warned:
                self._warned = True
                p.led_players["rec"].play(WARN_PATTERN)
                self._publish("end_warning", message=f"{remaining:.0f} s of tape left")
            if remaining <= CLOSE_BEFORE:
                self._end_of_side()
                return
        if self.playlist is not None and self.playlist.done and self._pending is None:
            self._publish("playlist_done")
            self._leave(tp.Press("stop"))

    def _end_of_side(self) -> None:
        d = self.player.deck
        if d.caps.auto_reverse and d.record_on_b and d.side == "A" and d.tab_other:
            return  # the transport turns the head at the end and the recording goes on, on B
        self._publish("end_closed")
        self._leave(tp.Press("stop"))

    # line-in: marks and sync start -----------------------------------------------------
    def _listen(self, block: np.ndarray, t: float) -> None:
        if self.armed and self.sync:
            if float(np.abs(block).max()) >= 10 ** (SYNC_DBFS / 20):
                self.sync = False
                self._publish("sync_start")
                self.loop.call_soon(self._sync_begin)
            return
        run = self._run
        if run is None or not self._opened or self._muting or self._pending is not None:
            return
        marks = run.feed(block + HEARD_FLOOR, t)
        side = self._run_side
        if side != self.current_side:
            return  # the head is turning: this block belongs to no side's run
        if run.last_sound is not None:
            self._end_position = self._position_of(run.last_sound)
        if not self._run_start_marked and run.first_sound is not None:
            self._run_start_marked = True
            # nothing is recorded on the leader: the first track starts on the oxide
            start = max(self._position_of(run.first_sound), self.leader)
            if self.memory.toc.starts[side] is None and not self.memory.toc.marks[side]:
                self.memory.toc.set_span(side, start=start)
                self.memory.save()
                self.bus.publish(TrackMarked(side, round(start, 3), "recorded", "start"))
            else:
                self._mark(side, start)
        for m in marks:
            self._mark(side, self._position_of(m.gap_end))

    def _sync_begin(self) -> None:
        if self.armed and self.player.deck.state == tp.State.STOPPED:
            self.begin()

    def _mark(self, side: str, position: float) -> None:
        if self.memory.add_mark(side, position, "recorded"):  # durable before it is told
            event = TrackMarked(side, round(position, 3), "recorded")
            self.memory.when_saved(lambda: self.bus.publish(event))

    def _oxide_end(self) -> float:
        """Where the side's oxide ends (the counter's position), if the length is known."""
        mech = self.player.board.description.mechanism
        spec = mech.cassettes.get(getattr(self.player.tape_counter, "length", None) or "")
        return spec.minutes * 60.0 + mech.leader if spec else float("inf")

    def _position_of(self, t: float) -> float:
        """The counter position where the line-in sound of time `t` lies on the tape."""
        latency = 2 * self.period / self.rate + self.feed.level.latency  # capture + hold
        return self.player.position_at(t + latency)

    def _publish(self, what: str, message: str | None = None) -> None:
        self.bus.publish(RecordChanged(what, self.current_side, round(self.player.counter, 2),
                                       message))
