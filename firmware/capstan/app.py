"""The composition root: board → devices → services, started bottom-up, stopped top-down.

`capstan run --board pi|sim` runs the daemon. The simulator and the scenario
runner build the same Player on the simulated board.

The transport's wiring (docs/transport.md): debounced buttons → gestures →
the pure transport (deck/transport.py) → commands → the mechanism's sequencer,
the record relay (interlocked in its driver), the LEDs and the bus. A watchdog
every WATCH_PERIOD feeds the pure safety check (deck/safety.py) and the tape
counter (deck/counter.py) from the reel tachometers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from capstan.audio.outputs import JACK
from capstan.board import Board
from capstan.cassettes import CassetteMemory, MemoryStore
from capstan.deck import transport as tp
from capstan.deck.counter import TapeCounter
from capstan.deck.events import (
    ButtonEvent,
    CassetteIdentified,
    CounterCalibrated,
    KeysChanged,
    SafetyStop,
    SkipRequested,
    TapeTypeDetected,
    TransportChanged,
)
from capstan.deck.rotation import RotationWatch
from capstan.deck.safety import WATCH_PERIOD, ReelWatch
from capstan.deck.turn_counter import TurnCounter
from capstan.devices import leds as lp
from capstan.devices.actuators import Led, Motor, Solenoid, Switch
from capstan.devices.buttons import BUTTON_DEBOUNCE, Buttons, Gesture
from capstan.devices.crp42602y import Crp42602yMechanism
from capstan.devices.debounce import DebouncedInput
from capstan.devices.hand_mechanism import HandMechanism
from capstan.devices.mechanism import TapeMechanism
from capstan.devices.reels import AT_SPEED_AFTER, Reels
from capstan.devices.relay import Interlock, RecordRelay
from capstan.devices.tachometer import ReelTachometer
from capstan.events import EventBus, Refused
from capstan.power.player import PlayerPower, PowerOff, PowerPort, default_power_off

log = logging.getLogger(__name__)

__all__ = ["ButtonEvent", "Player", "TransportChanged"]

CounterLoad = Callable[[], dict[str, Any] | None]
CounterSave = Callable[[dict[str, Any]], None]
SAVE_EVERY = 5.0  # s between counter saves while the tape moves
# the CRP42602Y's connector switches, in the roles of the reference's (tab_a and tab_b are
# the tabs of the mechanism's sides A and B; on the reference, tab_a is the facing side's)
HAND_KEYS = ("play", "ff", "rew", "rec")  # a mechanism moved by hand: its leaf switches
PROFILE_SWITCHES = {"cassette_detect_sw": "cassette_in", "rec_a_sw": "tab_a",
                    "rec_b_sw": "tab_b"}

STATUS_PATTERN = {
    tp.State.NO_CASSETTE: lp.DIM, tp.State.STOPPED: lp.ON, tp.State.PLAYING: lp.ON,
    tp.State.PAUSED: lp.breathe(2.0), tp.State.FAST_FORWARD: lp.blink(0.4),
    tp.State.REWIND: lp.blink(0.4), tp.State.RECORDING: lp.ON,
    tp.State.RECORD_PAUSED: lp.breathe(2.0), tp.State.EJECTING: lp.blink(1.0, duty=0.2),
}
REC_PATTERN = {tp.State.RECORDING: lp.ON, tp.State.RECORD_PAUSED: lp.blink(1.0)}
FAULT_PATTERN = lp.blink(0.2, duty=0.5)  # status and REC together: a tape-eating stop


class Player:
    """The whole player on one board; one event loop."""

    def __init__(self, board: Board, config: dict[str, dict[str, Any]],
                 loop: asyncio.AbstractEventLoop, bus: EventBus | None = None,
                 load_counter: CounterLoad | None = None,
                 save_counter: CounterSave | None = None, state: Any = None,
                 power_off: PowerOff | None = None) -> None:
        """`load_counter()`/`save_counter(state)` keep the tape counter over a restart;
        `state` (a StateStore) keeps the headphones, the volume per output and the
        cassettes (None: all in memory); `power_off` is the last step of a critical
        battery (default: the board's, `systemctl poweroff` on the Pi)."""
        from capstan.audio.chain import AudioChain
        from capstan.audio.noise_reduction import DEFAULT_REFERENCE_DBFS
        from capstan.audio.nr_switch import NoiseReductionSwitch, NrPort
        from capstan.audio.tape_eq import tape_type_from_notches
        from capstan.bluetooth.player import Headphones, HeadphonesPort
        from capstan.bluetooth.remote import TransportPort
        from capstan.intelligence import TapeIntelligence
        from capstan.recording.recorder import Recorder

        self.board, self.config, self.loop = board, config, loop
        self.bus = bus or EventBus(loop.time)
        d = board.description
        self.profile = d.mechanism.profile
        table = d.mechanism.table
        self.buttons = {r: DebouncedInput(p, d.buttons[r].active_low, loop, BUTTON_DEBOUNCE,
                                          name=r)
                        for r, p in board.buttons.items()}
        self.panel = Buttons(self.buttons, loop, self._gesture)
        inputs = {r: (p, d.switches[r].active_low) for r, p in board.switches.items()}
        for sig, role in PROFILE_SWITCHES.items():
            if table is not None and sig in board.signals:
                inputs[role] = (board.signals[sig], table.signals[sig].active_low)
        self.switches = {r: DebouncedInput(p, low, loop, 0.02, name=r)
                         for r, (p, low) in inputs.items()}
        # a mechanism moved by hand: its keys' leaf switches (the user pressed PLAY on it)
        self.keys = {k: DebouncedInput(board.signals[f"key_{k}"],
                                       table.signals[f"key_{k}"].active_low, loop,
                                       BUTTON_DEBOUNCE, name=f"key_{k}")
                     for k in HAND_KEYS} if self.profile == "mechanical" and table else {}
        o = board.outputs
        self.rotation: ReelTachometer | None = None  # the CRP42602Y's one sensor
        self.reel_pair: Reels | None = None  # the reference's two reel tachometers
        if self.profile in ("crp42602y", "mechanical"):
            assert table is not None
            sig = board.signals
            self.rotation = ReelTachometer(sig["rotation_sens"], table.pulses_per_turn,
                                           "rotation")
            self.reels = {"rotation": self.rotation}
        if self.profile == "mechanical":  # the firmware switches only the motor
            self.mechanism: Any = HandMechanism(
                lambda on: o["motor"].write(1.0 if on else 0.0),
                release_relay=lambda: self.record_relay.release(), clock=loop.time)
        elif self.profile == "crp42602y":
            gear, low = sig["gear_status_sw"], table.signals["gear_status_sw"].active_low
            self.mechanism = Crp42602yMechanism(
                sig["solenoid"].write, lambda on: o["motor"].write(1.0 if on else 0.0),
                lambda: gear.read() != low, table, loop,
                release_relay=lambda: self.record_relay.release(), on_error=self._gear_error)
        else:
            self.reels = {r: ReelTachometer(p, d.tachometers[r].pulses_per_turn, r)
                          for r, p in board.tachometers.items()}
            self.reel_pair = Reels(self.reels["take_up"], self.reels["supply"])
            self.mechanism = TapeMechanism(Motor(o["motor"], o["motor_reverse"]),
                                           Solenoid(o["head_solenoid"]),
                                           Solenoid(o["wind_idler"]), d.mechanism, loop)
        self.record_relay = RecordRelay(o["record_relay"], Interlock(
            recording=lambda: self.deck.state == tp.State.RECORDING,
            tab_present=lambda: self.deck.tab and self.tab_facing(),
            tape_at_speed=self._tape_at_speed))
        self.adc_mux = Switch(o["adc_mux"])
        self.dac = Switch(o["dac_unmute"])
        self.leds = {r: Led(p) for r, p in board.leds.items()}
        self.led_players = {r: lp.LedPlayer(led, loop) for r, led in self.leds.items()}
        self.audio = AudioChain(
            board.capture, board.playback, loop, self.bus, config["audio"]["volume"],
            dac=self.dac.set,  # the chain mutes the DAC around every transport change
            tape_type=lambda: tape_type_from_notches(self.switches["notch_type2"].is_active,
                                                     self.switches["notch_type4"].is_active))
        self.deck = tp.Deck(auto_rewind=bool(config["transport"]["auto_rewind"]),
                            caps=d.mechanism.capabilities,
                            reverse=getattr(table, "reverse", "one_way") if table else "one_way",
                            record_on_b=bool(getattr(table, "record_on_b", True)))
        self.tape_counter: Any = (TurnCounter(d.mechanism, table.pulses_per_turn)
                                  if self.rotation is not None and table is not None
                                  else TapeCounter(d.mechanism))
        self.safety = ReelWatch()
        self.rotation_watch = RotationWatch(table.stop_window) if table is not None else None
        # (time, rotation edges, played at speed up to then): the one sensor's last count
        self._counted: tuple[float, int, bool] | None = None
        self.load_counter, self.save_counter = load_counter, save_counter
        self._saved_at = 0.0
        self._identified: str | None = None
        self._watch: asyncio.TimerHandle | None = None
        # the cassettes the player knows, and the TOC of the one in: shared by the recording
        # (its marks), the tape intelligence (recognition), the NR switch (per cassette) and
        # the headphones' remote (the track and the cassette's name it shows)
        self.cassettes = CassetteMemory(state if state is not None else MemoryStore())
        self.headphones = Headphones(HeadphonesPort(  # the simulator may bind its service first
            loop, self.bus, self.audio, self.led_players["bt"], self.pause, config, board.kind,
            TransportPort(
                loop, self.bus, state=lambda: self.deck.state, counter=lambda: self.counter,
                length=lambda: self.tape_counter.length, side=lambda: self.intelligence.side,
                track_number=lambda at: self.intelligence.track_number(at),
                recording=lambda: bool(self.recording.armed),
                searching=lambda: self.intelligence.search.active, command=self.command,
                status_led=self.led_players["status"], memory=self.cassettes)), state)
        self.recording = Recorder(self, self.cassettes)  # arming, level: docs/recording.md
        self.intelligence = TapeIntelligence(self, self.cassettes)  # docs/tape-intelligence.md
        nr = getattr(d, "nr", None)
        self.nr = NoiseReductionSwitch(NrPort(  # B-type NR per cassette: nr_switch.py
            self.audio, self.bus, self.led_players["status"],
            deck_state=lambda: self.deck.state.value, recorder=self.recording,
            memory=self.cassettes, mechanism=d.mechanism.profile,
            default_dbfs=nr.reference_dbfs if nr is not None else DEFAULT_REFERENCE_DBFS),
            state)
        self.store = state  # flushed by safe_stop() before a power-off
        self.power = PlayerPower.from_config(PowerPort(  # docs/power.md
            board.i2c, d.i2c, self.bus, board.leds.get("charge"), mode=self._power_mode,
            safe_stop=self.safe_stop,
            power_off=power_off if power_off is not None else default_power_off(board.kind)),
            config.get("power"))
        self.usb_audio: Any = None  # the tape into the USB gadget's sound card: docs/usb.md
        self.started = False

    def socket_commands(self) -> dict[str, Any]:
        """The control socket's commands the subsystems register (`record`, `digitize`)."""
        return {**self.recording.socket_commands(), **self.intelligence.socket_commands()}

    @property
    def counter(self) -> float:
        """Seconds of tape before the head, as the firmware believes (the report's counter)."""
        return self.tape_counter.reading()

    # start and stop ---------------------------------------------------------
    async def start(self) -> None:
        for name, s in self.switches.items():
            s.resync()
            s.on_change = lambda active, t, name=name: self._switch(name, active, t)
        self.switches["cassette_in"].on_edge = self._cassette_edge
        for name, k in self.keys.items():
            k.resync()
            k.on_change = lambda active, t, name=name: self._key(name, active)
        if self.keys:  # held at power-up: kept, acted on once a cassette is in
            self._dispatch(tp.Keys(self.keys_down()))
        self.panel.start()
        self.audio.start()  # the DAC stays muted until the transport plays
        self._start_usb_audio()
        await self.headphones.start()  # after the chain: it routes into it
        if self.switches["cassette_in"].is_active:
            self._restore_counter()
            self._cassette_in()
        else:
            self._save({"cassette": False})
            d = self.deck
            self.bus.publish(TransportChanged(d.state.value, d.side, d.direction))
            self._show_leds()
        self.intelligence.start()  # after the cassette check: a cassette found in is kept
        self.recording.start()  # after the tape intelligence: it shares the cassette's TOC
        self.nr.start()  # after both: it keeps its setting in the cassette's memory
        self._watch = self.loop.call_later(WATCH_PERIOD, self._watchdog)
        await self.power.start()  # last: a critical battery runs safe_stop() on the devices
        self.started = True

    async def stop(self) -> None:
        """Top-down: relay released and tape stopped first, then audio, then the board."""
        try:
            await self.power.stop()  # the last started, the first stopped
        except Exception:
            log.exception("could not stop the power service")
        if self._watch:
            self._watch.cancel()
        self.record_relay.release()
        self.mechanism.off()
        self._save_now()
        self.nr.stop()
        self.recording.stop()  # the recording's TOC closed and saved
        self.intelligence.stop()  # the take being digitized is finished
        self.panel.close()
        try:
            await self.headphones.stop()  # before the chain it routes into
        finally:
            self.audio.stop()  # DAC soft-muted first, then capture stops
        if self.usb_audio is not None:
            self.usb_audio.stop()
            self.usb_audio = None
        for p in self.led_players.values():
            p.close()
        self.started = False

    def tab_facing(self) -> bool:
        """The record tab of the side facing the head is present (its switch says so)."""
        return self.switches["tab_b" if self.deck.side == "B" else "tab_a"].is_active

    def keys_down(self) -> frozenset[str]:
        """The mechanism's keys down now, as their leaf switches say (by hand only)."""
        return frozenset(k for k, sw in self.keys.items() if sw.is_active)

    def _key(self, name: str, active: bool) -> None:
        down = self.keys_down()
        self.bus.publish(KeysChanged(tuple(sorted(down)), name, "down" if active else "up"))
        self._dispatch(tp.Keys(down))

    def _gear_error(self, reason: str) -> None:
        self._dispatch(tp.Fault("gear", reason))

    def _start_usb_audio(self) -> None:
        """With [usb] gadget = "audio" or "both" on the Pi: the tap into the gadget's card."""
        from capstan.usb import wants_audio

        if self.board.kind != "pi" or not wants_audio(self.config.get("usb", {})
                                                      .get("gadget", "off")):
            return
        from capstan.usb.audio import UsbAudio

        cap = self.board.capture
        self.usb_audio = UsbAudio(self.audio.tap, self.audio.rate, cap.channels,
                                  getattr(cap, "period", self.config["player"]["period"]))
        self.usb_audio.start()

    # inputs -------------------------------------------------------------------
    def press(self, button: str) -> None:
        """A tap of a button, as if debounced from the panel (the control socket uses this)."""
        if self._by_hand(button):
            return
        if button not in self.buttons:
            raise ValueError(f"unknown button {button!r} (buttons: {', '.join(self.buttons)})")
        now = self.loop.time()
        self.panel.contact(button, True, now)
        self.panel.contact(button, False, now)

    def _by_hand(self, button: str) -> bool:
        """A transport button asked for on a mechanism moved by its keys (it has none):
        refused in words by the transport. True: handled."""
        if (self.keys and button in tp.TRANSPORT_BUTTONS and button not in self.buttons):
            self._dispatch(tp.Press(button))
            return True
        return False

    def hold(self, button: str, seconds: float) -> asyncio.TimerHandle | None:
        """Hold `button` down for `seconds`, then release it (the control socket's `hold`)."""
        if self._by_hand(button):
            return None
        if button not in self.buttons:
            raise ValueError(f"unknown button {button!r} (buttons: {', '.join(self.buttons)})")
        down = self.loop.time()
        self.panel.contact(button, True, down)
        return self.loop.call_later(seconds, self.panel.contact, button, False, down + seconds)

    def command(self, button: str, gesture: str = "press") -> None:
        """Drive the transport as a press (or a "long" hold) of `button` would, without a
        button event (the music search and the headphones' remote use this)."""
        self._dispatch(tp.Press(button, gesture))

    def _gesture(self, g: Gesture) -> None:
        self.bus.publish(ButtonEvent(g.button, g.action))
        if self.nr.gesture(g.button, g.action):  # PAIR+PLAY switches the noise reduction
            return
        if self.recording.gesture(g):  # REC arms, PLAY starts, VOL sets the record level
            return
        self.headphones.gesture(g.button, g.action)  # PAIR, PAIR+STOP, VOL+/VOL-
        if g.action == "chord":
            self._dispatch(tp.Chord(g.button))
        elif g.action in ("press", "long"):
            self._dispatch(tp.Press(g.button, g.action))

    def pause(self) -> None:
        """Pause a playing tape (the headphones went away: it does not play on unheard)."""
        if self.deck.state == tp.State.PLAYING:
            self._dispatch(tp.Press("play", "press"))

    def _switch(self, name: str, active: bool, t: float) -> None:
        if name == "cassette_in":
            if active:
                self._cassette_in()
            else:
                self._dispatch(tp.CassetteOut())
                self.tape_counter.reset()
                if self.reel_pair is not None:
                    self.reel_pair.reset()
                self._identified = None
                self._save({"cassette": False})
        elif name == "tab_a" and self.deck.state != tp.State.NO_CASSETTE:
            self._dispatch(tp.TabChanged(active, "A" if self.rotation is not None else None))
        elif (name == "tab_b" and self.rotation is not None
              and self.deck.state != tp.State.NO_CASSETTE):
            self._dispatch(tp.TabChanged(active, "B"))
        elif name in ("notch_type2", "notch_type4") and self.deck.state != tp.State.NO_CASSETTE:
            self._announce_tape_type()

    def _cassette_in(self) -> None:
        for name in ("tab_a", "tab_b", "notch_type2", "notch_type4"):
            self.switches[name].resync()  # they settle together with cassette_in
        if self.rotation is not None:  # each side's tab on its own switch
            self._dispatch(tp.CassetteIn(tab=self.switches["tab_a"].is_active,
                                         tab_other=self.switches["tab_b"].is_active))
        else:
            self._dispatch(tp.CassetteIn(tab=self.switches["tab_a"].is_active))
        self._announce_tape_type()

    def _announce_tape_type(self) -> None:
        from capstan.audio.tape_eq import tape_type_from_notches

        s = self.switches
        self.bus.publish(TapeTypeDetected(tape_type_from_notches(s["notch_type2"].is_active,
                                                                 s["notch_type4"].is_active)))

    def _cassette_edge(self, active: bool, t: float) -> None:
        """The raw cassette switch opened while the tape moves: stop now, debounce later."""
        if not active and self.deck.moving:
            self._dispatch(tp.Fault("cassette_out", "the cassette was removed or the door "
                                                    "opened while the tape moved"))

    # the deck -----------------------------------------------------------------
    def request(self, event: tp.Event) -> None:
        """A subsystem's request to the transport (the recorder's STOP at the end of a side,
        its REC+PLAY, its safe stop): stepped and carried out as a button's would be."""
        self._dispatch(event)

    def _dispatch(self, event: tp.Event) -> None:
        before = self.deck
        self.deck, commands = tp.step(self.deck, event, self.loop.time())
        self.record_relay.enforce()  # first: the relay never outlives its conditions
        for cmd in commands:
            if isinstance(cmd, tp.Halt):
                self.mechanism.off()
                self._counted = None
                reason = cmd.reason
                if self.keys and self.deck.keys:  # it cannot lift the head: say what to do
                    reason += (": the motor is off, the key stays down; press STOP on the "
                               "mechanism")
                self.bus.publish(SafetyStop(cmd.what, reason))
                if cmd.what == "tape_eaten":
                    self.tape_counter.forget_position()
                if cmd.what not in ("end", "start"):
                    log.warning("safety stop: %s: %s", cmd.what, reason)
            elif isinstance(cmd, tp.SetMode):
                self.mechanism.set_mode(cmd.mode, cmd.side)
            elif isinstance(cmd, tp.Refuse):
                self.bus.publish(Refused(cmd.action, cmd.reason))
                self.led_players["status"].flash(*lp.REFUSED_FLASH)
            elif isinstance(cmd, tp.Skip):
                self.bus.publish(SkipRequested(cmd.direction))
            elif isinstance(cmd, tp.AtStart):
                self.tape_counter.at_start()
                self.bus.publish(CounterCalibrated())
        if self.deck.side != before.side and self.deck.state != tp.State.NO_CASSETTE:
            ended = any(isinstance(c, tp.Halt) and c.what == "end" for c in commands)
            if ended:  # turned at the end of a side: the other side is at its start
                self.tape_counter.at_start()
            elif hasattr(self.tape_counter, "turned"):
                self.tape_counter.turned()
        if self.deck.state != before.state or self.deck.side != before.side:
            self.adc_mux.set(self.deck.state in tp.RECORD_STATES)
            d = self.deck
            self.bus.publish(TransportChanged(d.state.value, d.side, d.direction))
            self._save_now()
        if self.deck.state != before.state or self.deck.fault != before.fault:
            self._show_leds()

    def _show_leds(self) -> None:
        if self.deck.fault and self.deck.fault not in ("end", "start", "cassette_out"):
            self.led_players["status"].play(FAULT_PATTERN)
            self.led_players["rec"].play(FAULT_PATTERN)
            return
        self.led_players["status"].play(STATUS_PATTERN[self.deck.state])
        self.led_players["rec"].play(REC_PATTERN.get(self.deck.state, lp.OFF))

    def position_at(self, t: float) -> float:
        """The counter position (seconds of tape) at time `t`, in play: the counter's reading
        is that of the reels' last sampled edge, and the tape moves one second per second
        from there (an audio block's time maps to tape by its sample clock, not by when the
        loop got round to it)."""
        if self.reel_pair is None:
            if self._counted is None or not self._counted[2]:
                return self.counter
            return self.counter + (t - self._counted[0])  # played at speed up to the sample
        at = self.reel_pair.sampled_at
        return self.counter + (t - (at if at is not None else self.edges_until()))

    def edges_until(self) -> float:
        """The instant up to which the reels' edges are known: the loop's time on the Pi,
        the physics' on the simulated board (which a late loop may have left behind).
        The reels' silence is judged there, never at a time their edges have not reached."""
        now = self.loop.time()
        known = self.board.edges_until
        return min(now, known()) if known is not None else now

    def _tape_at_speed(self) -> bool:
        m = self.mechanism
        now = self.edges_until()
        if self.rotation is not None:  # the gear settled in play, the take-up turning
            r, since = self.rotation, m.drive_since
            watch = self.rotation_watch
            assert watch is not None
            return (m.at_speed(now) and now - since >= AT_SPEED_AFTER / 2
                    and r.last_edge is not None and r.last_edge > since
                    and now - r.last_edge <= watch.silence(r.edge_period(since)))
        return (m.mode == tp.Mode.PLAY and m.settled and now - m.drive_since >= AT_SPEED_AFTER / 2
                and self.reel_pair.moving(now, m.drive_since))

    def _watchdog(self) -> None:
        """Every WATCH_PERIOD: deadlines, reel safety, the record relay, the counter.

        The reels are judged at the time their edges are known up to (edges_until),
        so a loop that runs late decides late, never wrongly (docs/timing.md)."""
        self._watch = self.loop.call_later(WATCH_PERIOD, self._watchdog)
        now = self.edges_until()
        self._dispatch(tp.Tick())
        if self.rotation is not None:
            self._watch_rotation(now)
            return
        mode, since = self.deck.mode(), self.mechanism.drive_since  # not while it spins down
        if mode != tp.Mode.STOP:
            r = self.reel_pair
            near = self.tape_counter.near_end(mode != tp.Mode.REWIND)
            verdict = self.safety.check(mode, since, now, r.reading(r.take_up, since),
                                        r.reading(r.supply, since), near)
            if verdict is not None:
                self._dispatch(verdict)
        self.record_relay.enforce()
        if self.deck.state == tp.State.RECORDING and not self.record_relay.is_engaged:
            self.record_relay.try_engage()
        self._count(now)

    def _watch_rotation(self, now: float) -> None:
        """One rotation sensor: the tape stopped while driven is the end of the side, or a
        stall. The sensor alone cannot tell them apart; the counter can when it knows the
        tape is far from that end: then it is a stall (a safety stop, no turn of the side)."""
        m, r, watch = self.mechanism, self.rotation, self.rotation_watch
        assert r is not None and watch is not None
        if self.deck.moving and m.settled and m.mode != tp.Mode.STOP:
            since = m.drive_since
            if watch.stopped(since, now, r.last_edge, r.edge_period(since)):
                forward = self.deck.direction == "forward"
                if self.tape_counter.near_end(forward) is False:
                    self._dispatch(tp.Fault("tape_stalled", "the tape stopped "
                                            f"{round(self.counter)} s into the side, far from "
                                            "its end: the take-up is held or the tape is caught"))
                else:
                    self._dispatch(tp.TapeStopped("end" if forward else "start"))
        self.record_relay.enforce()
        if self.deck.state == tp.State.RECORDING and not self.record_relay.is_engaged:
            self.record_relay.try_engage()
        self._count_rotation(now)

    def _count_rotation(self, now: float) -> None:
        r, m = self.rotation, self.mechanism
        assert r is not None
        if self.deck.state == tp.State.NO_CASSETTE:
            self._counted = None
            return
        prev = self._counted
        at_speed = prev is not None and m.at_speed(now) and m.at_speed(prev[0])
        self._counted = (now, r.count, at_speed)
        if prev is None:
            return
        forward = m.mode != tp.Mode.REWIND
        self.tape_counter.observe(r.count - prev[1], forward, at_speed,
                                  now - prev[0] if at_speed else 0.0)
        if self.deck.moving and self.loop.time() - self._saved_at >= SAVE_EVERY:
            self._save_now()

    def _count(self, now: float) -> None:
        if self.deck.state == tp.State.NO_CASSETTE:
            return
        m = self.mechanism
        # at speed: the motor (estimated) has reached its play duty, not merely a while after
        # the mode change; edges are signed by the direction they came in
        self.reel_pair.sample(self.tape_counter, m.motor.reverse, m.at_speed(now), m.reversed_at)
        length = self.tape_counter.length
        if length and length != self._identified:
            self._identified = length
            self.bus.publish(CassetteIdentified(length))
        if self.deck.moving and self.loop.time() - self._saved_at >= SAVE_EVERY:
            self._save_now()

    # the counter over a restart ---------------------------------------------
    def _restore_counter(self) -> None:
        if self.load_counter is None:
            return
        try:
            saved = self.load_counter()
        except Exception:  # a damaged store must not stop the player
            log.exception("could not load the tape counter: starting from unknown")
            return
        if isinstance(saved, dict) and saved.get("cassette"):
            try:
                self.tape_counter.restore(saved)
            except (TypeError, ValueError, KeyError):  # not a counter's snapshot
                log.warning("the saved tape counter is not one: starting from unknown")
                self.tape_counter.reset()
                return
            self._identified = self.tape_counter.length

    def _save_now(self) -> None:
        if self.deck.state != tp.State.NO_CASSETTE:
            self._save({"cassette": True, **self.tape_counter.snapshot()})

    def _save(self, state: dict[str, Any]) -> None:
        self._saved_at = self.loop.time()
        if self.save_counter is None:
            return
        try:
            self.save_counter(state)
        except Exception:
            log.exception("could not save the tape counter")

    # power ------------------------------------------------------------------
    def can_finish(self, seconds: float, mode: str = "recording") -> bool:
        """Is there charge for `seconds` more of `mode`? (the recording asks before the tape
        moves; yes on input power and while the charge is unknown)."""
        return self.power.can_finish(seconds, mode)

    def _power_mode(self) -> str:
        """What the player does now, for the discharge rate: recording, bluetooth, wired."""
        if self.deck.state in tp.RECORD_STATES:
            return "recording"
        outputs = getattr(self.audio, "outputs", None)
        if outputs is not None and getattr(outputs, "active", JACK) != JACK:
            return "bluetooth"
        return "wired"

    async def safe_stop(self, reason: str = "the battery is empty") -> None:
        """Safe for the power to go: the recording closed with its TOC, the relay released,
        the tape stopped, state saved. The power service runs it on a critical battery."""
        recording = getattr(self, "recording", None)  # the recording closes itself cleanly
        close = getattr(recording, "safe_stop", None)
        if callable(close):
            try:
                result = close(reason)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("the recording did not close cleanly")
        if self.deck.moving or self.deck.state in tp.RECORD_STATES:
            self._dispatch(tp.Press("stop", "press"))  # relay released first, then the motor
        for _ in range(50):  # the motor's ramp down takes about 0.1 s
            if self.mechanism.settled:
                break
            await asyncio.sleep(0.02)
        self.record_relay.release()
        self.mechanism.off()
        self._save_now()
        memory = getattr(self, "cassettes", None)  # a CassetteMemory: the track list
        for what, save in (("the track list", getattr(memory, "save", None)),
                           ("the state", getattr(self.store, "flush", None))):
            try:
                if save is not None:
                    save()
            except Exception:
                log.exception("could not save %s before the power-off", what)

    def status(self) -> dict[str, Any]:
        c = self.tape_counter
        return {"transport": self.deck.state.value, "counter": round(self.counter, 2),
                "mode": self.mechanism.mode.value, "length": c.length,
                "calibrated": c.calibrated,
                "remaining": None if c.remaining is None else round(c.remaining, 1),
                "tape": self.intelligence.status(), "power": self.power.status(),
                "nr": self.nr.status(),
                **({"usb_audio": self.usb_audio.status()} if self.usb_audio else {}),
                **({"keys": sorted(self.deck.keys)} if self.keys else {})}
