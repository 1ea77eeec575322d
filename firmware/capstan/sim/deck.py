"""The simulated deck: mechanism, cassette, buttons, line-in, chips and faults on one board.

It owns the simulated side of every pin (the firmware opens the same pins
through capstan.board.gpio), advances the physics on a timer of the event loop,
renders what the playhead reads and writes what the record head records.
Everything it observes goes to `log` as report events.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np

from capstan.audio.tape_eq import PreampMismatch
from capstan.hardware.description import BoardDescription
from capstan.hardware.profiles import FREES
from capstan.sim.cassette import Cassette
from capstan.sim.chips import attach_power_models, player_load
from capstan.sim.crp42602y import Crp42602y
from capstan.sim.i2c import SimI2CBus
from capstan.sim.mechanism import TapeMotion
from capstan.sim.pins import SimFactory
from capstan.wavfile import to_int16

log = logging.getLogger(__name__)

PHYSICS_TICK = 0.01  # s of simulated time per physics step
HEAD_LAG = PHYSICS_TICK + 0.001  # s: the playhead is rendered this far behind the capture clock
FAULTS = ("stall_take_up", "stall_supply", "release_reels", "i2c_nack", "i2c_garbage",
          "alsa_overrun", "gauge_dead", "cell_sag", "gear_jam")
HEAD_TAPS = 16  # each side of the head's resampling kernel (a Kaiser-windowed sinc)
HEAD_PHASES = 256  # the kernel's fractional positions, tabulated once
# a block whose positions keep one fractional part to within this share of a phase step
# is read with one phase (at play speed without flutter they keep it to about 1e-7 samples)
STEADY_PHASE_SPREAD = 0.01
HAND_KEYS = ("play", "ff", "rew", "rec")  # a mechanism moved by hand: its keys' leaf switches
SAGGING_CELL_OHMS = 1.5  # a worn cell: under the record load it sags below 3.4 V

ReportLog = Callable[[dict[str, Any]], None]


class SimDeck:
    def __init__(self, board: BoardDescription, loop: asyncio.AbstractEventLoop,
                 seed: int = 0, log: ReportLog | None = None) -> None:
        self.board = board
        self.loop = loop
        self.rate = board.alsa.rate
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)
        self._edge_t: float | None = None
        self._t = loop.time()
        self._delivered = self._t  # edges up to here have reached the firmware
        self.factory = SimFactory(self.edge_time)  # a pin's tick is the time of its edge
        self.factory.on_output = self._output_changed
        self.i2c = SimI2CBus(seed)
        self.log: ReportLog = log or (lambda event: None)
        table = board.mechanism.table
        ppt = (table.pulses_per_turn, table.pulses_per_turn) if table is not None else (
            board.tachometers["take_up"].pulses_per_turn,
            board.tachometers["supply"].pulses_per_turn)
        self.motion = TapeMotion(board.mechanism, *ppt)
        mech = board.mechanism
        self.table = mech.table  # the fitted profile's pins and constants (None: reference)
        freed = set(FREES.get(mech.profile, ())) if self.table else set()
        self._freed = freed
        self._pin_roles = {p.pin: role for role, p in board.outputs.items()
                           if f"outputs.{role}" not in freed}
        self.outputs: dict[str, float] = {role: 0.0 for role in board.outputs}
        # the CRP42602Y: its function gear (sim/crp42602y.py) moves head, pinch roller and
        # reels; the tape physics below stays that of TapeMotion, the head turned to side B
        # seen as the cassette's other side facing it
        self.gear: Crp42602y | None = None
        self.up = "A"  # the cassette's side facing the head with the head turned to side A
        if self.table is not None and mech.profile == "crp42602y":
            self.gear = Crp42602y(cassette=False)
            for name, sig in self.table.signals.items():
                if sig.output:
                    self._pin_roles[sig.pin] = name
                    self.outputs[name] = 0.0
        self._gear_closed: bool | None = None
        # a mechanism moved by hand: the keys down (their leaf switches on the profile's
        # pins) set head, pinch roller and idler; the firmware switches only the motor
        self.hand = self.table is not None and mech.profile == "mechanical"
        self.keys: frozenset[str] = frozenset()
        self.line_in: np.ndarray | None = None
        self.line_in_at = 0.0
        self.overruns_pending = 0
        self.recorded_seconds = 0.0
        self._last_tape_event: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.on_tick: list[Callable[[float], None]] = []
        # the fuel gauge, the charger and the LED driver, modelled at register level
        self.power = attach_power_models(self.i2c, board, on_led=self.led_changed)
        self.bluetooth_streaming = False
        self._buttons_down: set[str] = set()
        self._preamp = PreampMismatch(self.rate)
        self.resync_inputs()

    # time ----------------------------------------------------------------
    def start(self) -> None:
        self._t = self._delivered = self.loop.time()
        self._schedule()

    @functools.cached_property
    def _tach_pins(self) -> tuple[Any, Any]:
        # looked up once: gpiozero's pin lookup walks the header's pin table every time
        if self.table is not None:  # one rotation sensor instead of the two tachometers
            return self._signal_pin("rotation_sens"), None
        t = self.board.tachometers
        return self.factory.gpio(t["take_up"].pin), self.factory.gpio(t["supply"].pin)

    def _signal_pin(self, name: str) -> Any:
        assert self.table is not None
        return self.factory.gpio(self.table.signals[name].pin)

    def _drive_signal(self, name: str, closed: bool) -> None:
        assert self.table is not None
        sig = self.table.signals[name]
        self.factory.gpio(sig.pin).drive(closed != sig.active_low)

    def edge_time(self) -> float:
        """When the edge being delivered happened (the physics' time, else the loop's)."""
        return self._edge_t if self._edge_t is not None else self.loop.time()

    def edges_until(self) -> float:
        """The time up to which the firmware has every tachometer edge of the physics.

        The physics runs on a timer of the loop; when the loop runs late (a busy
        laptop, a stalled disk) it catches up, and until then the reels' silence
        after this instant is not yet known: the safety watchdog judges here, not
        at the loop's time. The firmware's pins post their edges into the loop,
        so this moves on only once they have been delivered (FIFO)."""
        return self._delivered

    def _mark_delivered(self, t: float) -> None:
        self._delivered = max(self._delivered, t)

    def stop(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        self._timer = self.loop.call_at(self._t + PHYSICS_TICK, self._tick)

    def _tick(self) -> None:
        t0, t1 = self._t, self._t + PHYSICS_TICK
        self._t = t1
        self.advance(t0, t1)
        self._schedule()

    def advance(self, t0: float, t1: float) -> None:
        m = self.motion
        if self.gear is not None:
            self._gear_to(t1)
        take_edges, sup_edges, event = m.step(t0, t1)
        take_pin, sup_pin = self._tach_pins
        if sup_pin is None:  # the one sensor is on the reel taking up in the tape's direction
            edges = [(t, level, take_pin) for t, level in
                     (take_edges if m.speed >= 0 and not m.reverse else sup_edges)]
        else:
            edges = [(t, level, take_pin) for t, level in take_edges]
            edges += [(t, level, sup_pin) for t, level in sup_edges]
        edges.sort(key=lambda e: e[0])
        for t, level, pin in edges:
            self._edge_t = t  # the edge is stamped with its own simulated time, even when a
            pin.drive(level)  # real-time loop runs late and the physics catches up
        self._edge_t = None
        self.loop.call_soon(self._mark_delivered, t1)  # after the edges the pins posted
        if event and event != self._last_tape_event:
            self.log({"type": "tape", "what": event, "position": round(self.position, 3)})
        if event == "end" or event == "start" or m.speed != 0:
            self._last_tape_event = event
        self.power.battery.load_current = player_load(self.outputs, self.bluetooth_streaming)
        self.i2c.step(t1 - t0)
        for hook in self.on_tick:
            hook(t1)

    # the CRP42602Y's function gear ----------------------------------------
    def _gear_to(self, t: float) -> None:
        """Run the gear to `t` and set the tape physics from the function it rests in."""
        g, m = self.gear, self.motion
        assert g is not None
        g.advance(t)
        f = g.function if g.gear == "function" and g.motor else None
        c = m.cassette
        if c is not None and g.function is not None and g.gear == "function":
            facing = self.up if not g.function.head_b else ("B" if self.up == "A" else "A")
            if c.side != facing:  # the head turned: the other side of the tape faces it
                c.flip()
                self.log({"type": "cassette", "what": "head_turned", "side": c.side})
        # the motor runs through every sequence (the gear turns only with it), so the capstan
        # and the reel drive are at speed when the gear lands: the tape moves at once
        if f is None or f.stressed:
            m.duty, m.head, m.idler = 0.0, False, False
            m.motor = 0.0  # nothing engaged: the tape does not move
        elif f.head_on:
            m.duty, m.head, m.idler, m.reverse = self.board.mechanism.play_duty, True, False, False
            m.motor = m.duty
        else:
            forward = f.reel_fwd != f.head_b  # for the side facing the head
            m.duty, m.head, m.idler = self.board.mechanism.wind_duty, False, True
            m.reverse = not forward
            m.motor = -m.duty if m.reverse else m.duty
        closed = g.gear == "function"
        if closed != self._gear_closed:
            self._gear_closed = closed
            self._drive_signal("gear_status_sw", closed)

    # outputs ---------------------------------------------------------------
    def _output_changed(self, pin: int, value: float) -> None:
        role = self._pin_roles.get(pin)
        if role is None:
            return
        self.outputs[role] = value
        self.log({"type": "pin", "role": role, "value": round(value, 4)})
        if self.gear is not None:
            t = self.edge_time()
            if role == "solenoid":
                self.gear.solenoid(bool(value), t)
            elif role == "motor":
                self.gear.set_motor(value > 0, t)
            self._gear_to(t)
            return
        if self.hand:
            self._hand_to()
            return
        m = self.motion
        m.duty = self.outputs["motor"]
        m.reverse = bool(self.outputs["motor_reverse"])
        m.head = bool(self.outputs["head_solenoid"])
        m.idler = bool(self.outputs["wind_idler"])

    def _hand_to(self) -> None:
        """The tape physics from the keys down and the motor's switch."""
        m, k, mech = self.motion, self.keys, self.board.mechanism
        m.head = "play" in k
        m.idler = not m.head and bool(k & {"ff", "rew"})
        m.reverse = m.idler and "rew" in k
        m.duty = (mech.wind_duty if m.idler else mech.play_duty) if self.outputs["motor"] else 0.0

    def led_changed(self, role: str, value: float) -> None:
        self.outputs[f"led_{role}"] = value
        self.log({"type": "pin", "role": f"led_{role}", "value": round(value, 4)})

    # the user's hands --------------------------------------------------------
    def resync_inputs(self) -> None:
        """Drive every input to what the world says (buttons, keys, cassette switches)."""
        for role in self.board.buttons:
            if f"buttons.{role}" not in self._freed:  # its pin may carry a key's switch
                self.set_button(role, role in self._buttons_down)
        if self.hand:
            self.set_keys(*self.keys)
        self._sync_cassette_switches()

    def set_keys(self, *keys: str) -> None:
        """The mechanism's keys down now ("play", "ff", "rew", "rec"): the user's hand moved
        the mechanism, and the keys' leaf switches say so."""
        if not self.hand:
            raise ValueError("keys belong to a mechanism moved by hand "
                             '(mechanism.profile = "mechanical")')
        unknown = set(keys) - set(HAND_KEYS)
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r} (keys: {', '.join(HAND_KEYS)})")
        changed = frozenset(keys) != self.keys
        self.keys = frozenset(keys)
        for key in HAND_KEYS:
            self._drive_signal(f"key_{key}", key in self.keys)
        self._hand_to()
        if changed:
            self.log({"type": "keys", "down": sorted(self.keys)})

    def press_key(self, key: str) -> None:
        """Press a key as a hand does: PLAY, FF and REW latch and release one another, REC
        goes down with PLAY, STOP releases them all."""
        if key == "stop":
            self.set_keys()
        elif key == "rec":
            self.set_keys("play", "rec")
        else:
            self.set_keys(key)

    def set_button(self, role: str, down: bool) -> None:
        p = self.board.buttons[role]
        (self._buttons_down.add if down else self._buttons_down.discard)(role)
        self.factory.gpio(p.pin).drive(down != p.active_low)

    def insert(self, cassette: Cassette) -> None:
        self.motion.cassette = cassette
        self.up = cassette.side
        self.motion.spill = 0.0
        self._sync_cassette_switches()
        self.log({"type": "cassette", "what": "inserted", "length": cassette.length,
                  "tape_type": cassette.tape_type, "side": cassette.side})

    def eject(self) -> Cassette | None:
        c = self.motion.cassette
        self.motion.cassette = None
        self._sync_cassette_switches()
        if c and self.gear is not None:
            c.side = self.up  # the head turned, not the cassette: it comes out as it went in
        if c:
            if self.motion.spill > 0:
                self.log({"type": "tape", "what": "chewed", "metres": round(
                    self.motion.spill * self.board.mechanism.nominal_speed, 3)})
            self._save(c)
            self.log({"type": "cassette", "what": "ejected"})
        return c

    def _save(self, c: Cassette) -> None:
        """The cassette's files made durable: on a worker thread while the loop runs (an
        fsync may stall for hundreds of ms; the simulated-time loop holds its clock until
        the thread is done), at once when it does not (a script between runs)."""
        if self.loop.is_running():
            self.loop.run_in_executor(None, c.save).add_done_callback(_saved)
        else:
            c.save()

    def flip(self) -> None:
        c = self.motion.cassette
        if c is None:
            return
        if self.gear is not None:  # taken out and put back the other way up
            self.up = "B" if self.up == "A" else "A"
        c.flip()
        self._sync_cassette_switches()
        self.log({"type": "cassette", "what": "flipped", "side": c.side})

    def _sync_cassette_switches(self) -> None:
        c = self.motion.cassette
        if self.gear is not None:  # the CRP42602Y's switches: each side's tab on its own
            other = "B" if self.up == "A" else "A"
            self._drive_signal("cassette_detect_sw", c is not None)
            self._drive_signal("rec_a_sw", bool(c and c.tab_present(self.up)))
            self._drive_signal("rec_b_sw", bool(c and c.tab_present(other)))
            if self._gear_closed is None:
                self._gear_closed = False
                self._drive_signal("gear_status_sw", False)
        closed = {
            "cassette_in": c is not None,
            "tab_a": bool(c and c.tab_present("A" if c.side == "A" else "B")),
            "tab_b": bool(c and c.tab_present("B" if c.side == "A" else "A")),
            "notch_type2": bool(c and c.tape_type == "II"),
            "notch_type4": bool(c and c.tape_type == "IV"),
        }
        for role, on in closed.items():
            if f"switches.{role}" in self._freed:
                continue
            p = self.board.switches[role]
            self.factory.gpio(p.pin).drive(on != p.active_low)

    def set_battery(self, percent: float, charger: bool) -> None:
        """The cell's state of charge and whether the charger has input power."""
        self.power.battery.percent = percent
        self.power.charger.plugged = charger
        self.power.gauge.sample()  # the gauge reads the new cell at once, not at its next sample

    # faults --------------------------------------------------------------
    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
        self.log({"type": "fault", "name": name})
        if name == "stall_take_up":
            self.motion.stalled.add("take_up")
            self.log({"type": "tape", "what": "stall", "reel": "take_up"})
        elif name == "stall_supply":
            self.motion.stalled.add("supply")
            self.log({"type": "tape", "what": "stall", "reel": "supply"})
        elif name == "release_reels":
            self.motion.stalled.clear()
        elif name == "i2c_nack":
            self.i2c.inject_nack(5)
        elif name == "i2c_garbage":
            self.i2c.inject_garbage(1)
        elif name == "gauge_dead":
            addr = self.board.i2c["fuel_gauge"].address
            self.i2c.inject_nack(10**9, addr)
        elif name == "cell_sag":
            self.power.battery.internal_resistance = SAGGING_CELL_OHMS
        elif name == "alsa_overrun":
            self.overruns_pending += 1
        elif name == "gear_jam":  # the CRP42602Y's function gear no longer turns
            if self.gear is None:
                raise ValueError("fault 'gear_jam' needs the crp42602y mechanism profile")
            self.gear.jammed = True

    # audio -----------------------------------------------------------------
    def set_line_in(self, audio: np.ndarray, at: float) -> None:
        self.line_in, self.line_in_at = audio, at

    def render_capture(self, t0: float, frames: int) -> np.ndarray:
        """What the ADC sees for `frames` samples starting at time t0."""
        if self.outputs.get("adc_mux"):
            return self._render_line_in(t0, frames)
        return self._render_head(t0, frames)

    def _render_line_in(self, t0: float, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), np.float32)
        if self.line_in is not None:
            start = round((t0 - self.line_in_at) * self.rate)
            lo, hi = max(start, 0), min(start + frames, len(self.line_in))
            if hi > lo:
                out[lo - start:hi - start] = self.line_in[lo:hi]
        return out

    def _render_head(self, t0: float, frames: int) -> np.ndarray:
        m = self.motion
        c = m.cassette
        if c is None or not m.head:
            return (self.rng.standard_normal((frames, 2)) * 1e-5).astype(np.float32)
        # read the head where the physics has already been (no extrapolation): a click-free
        # spin-up for the price of HEAD_LAG of ADC latency
        times = t0 - HEAD_LAG + np.arange(frames) / self.rate
        pos = m.head_positions(times)
        track = c.track()
        out = self._resample(track, pos * self.rate)
        # hiss is there where there is oxide and the tape moves past the head
        leader = self.board.mechanism.leader
        on_oxide = (pos > leader) & (pos < c.duration - leader)
        speed = abs(m.speed)
        if speed > 0.01:
            gain = c.hiss_rms * min(speed, 1.0)
            if on_oxide.all():  # the usual block: all of it on the oxide
                out += self._hiss(frames) * gain
            else:
                out += self._hiss(frames) * (on_oxide[:, None] * gain)
        # the head preamp's 120 µs curve: too bright for Type II/IV until the firmware corrects it
        return self._preamp(out, c.tape_type)

    def _resample(self, track: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The track (int16 samples) read at the fractional sample positions `idx`, band-
        limited: within 0.03 dB to 18 kHz and 0.3 dB at 20 kHz at any fractional position
        (a linear interpolation would lose 3 dB at 16 kHz half-way between samples)."""
        frames = len(idx)
        offset = idx - np.arange(frames)
        if frames and np.ptp(offset) < STEADY_PHASE_SPREAD / HEAD_PHASES:
            return self._resample_steady(track, float(offset[0]), frames)
        base = np.floor(idx)
        phase = np.rint((idx - base) * HEAD_PHASES).astype(np.intp)
        first = int(base.min()) - HEAD_TAPS + 1
        last = int(base.max()) + HEAD_TAPS + 1  # one past the last tap (a phase may round up)
        lo, hi = max(first, 0), min(last + 1, len(track))
        out = np.zeros((frames, 2), np.float32)
        if hi <= lo:
            return out
        seg = np.zeros((2, last + 1 - first), np.float32)  # one contiguous row per channel
        seg[:, lo - first:hi - first] = np.asarray(track[lo:hi], dtype=np.float32).T / 32768
        start = (base - first).astype(np.intp) - (HEAD_TAPS - 1) + phase // HEAD_PHASES
        at = start[:, None] + np.arange(2 * HEAD_TAPS)  # (frames, taps)
        weights = _head_kernel()[phase % HEAD_PHASES]
        for ch in range(2):  # a channel at a time: the gathers stay small and contiguous
            out[:, ch] = np.einsum("ft,ft->f", weights, seg[ch][at])
        return out

    def _resample_steady(self, track: np.ndarray, x0: float, frames: int) -> np.ndarray:
        """_resample for the positions x0, x0 + 1, … (the tape at exactly its play speed,
        the usual case): one phase of the kernel for the whole block, so a plain convolution
        does the work of the per-sample gathers at a fraction of their cost."""
        base = math.floor(x0)
        phase = round((x0 - base) * HEAD_PHASES)
        if phase == HEAD_PHASES:
            base, phase = base + 1, 0
        first = base - HEAD_TAPS + 1
        n = frames + 2 * HEAD_TAPS - 1  # the samples the block's taps reach
        lo, hi = max(first, 0), min(first + n, len(track))
        out = np.zeros((frames, 2), np.float32)
        if hi <= lo:
            return out
        seg = np.zeros((2, n), np.float32)
        seg[:, lo - first:hi - first] = np.asarray(track[lo:hi], dtype=np.float32).T / 32768
        taps = _head_kernel()[phase][::-1]
        for ch in range(2):
            out[:, ch] = np.convolve(seg[ch], taps, mode="valid")
        return out

    @functools.cached_property
    def _noise(self) -> np.ndarray:
        """Five seconds of white noise (unit RMS), drawn once from the deck's seed."""
        return self.rng.standard_normal((1 << 18, 2)).astype(np.float32)

    def _hiss(self, frames: int) -> np.ndarray:
        """Unit-RMS noise for one block: a slice of the noise bank at a random place
        (drawing fresh Gaussian noise for every block costs more than the rest of the head)."""
        start = self.random.randrange(len(self._noise) - frames)
        return self._noise[start:start + frames]

    def play_out(self, t0: float, block: np.ndarray) -> None:
        """What the DAC puts out from t0 on: heard on the jack, recorded while the relay is on."""
        m = self.motion
        c = m.cassette
        if not (self.outputs.get("record_relay") and m.head and c and m.speed > 0):
            return
        frames = len(block)
        times = t0 + np.arange(frames) / self.rate
        pos = m.head_positions(times)
        leader = self.board.mechanism.leader
        lo_s, hi_s = max(pos[0], leader), min(pos[-1], c.duration - leader)
        if hi_s <= lo_s:
            return
        track = c.track()
        i0, i1 = math.ceil(lo_s * self.rate), math.floor(hi_s * self.rate)
        if i1 < i0:
            return
        target = np.arange(i0, i1 + 1) / self.rate
        tape = np.tanh(block.astype(np.float32))  # tape saturates softly
        written = np.stack([np.interp(target, pos, tape[:, ch]) for ch in range(2)], axis=1)
        track[i0:i1 + 1] = to_int16(written)
        self.recorded_seconds += (i1 + 1 - i0) / self.rate

    # truth ---------------------------------------------------------------
    @property
    def cassette(self) -> Cassette | None:
        return self.motion.cassette

    @property
    def position(self) -> float:
        c = self.motion.cassette
        return c.position if c else 0.0

    def close(self) -> None:
        self.stop()
        if self.motion.cassette:
            self.motion.cassette.save()


def _saved(saving: asyncio.Future[None]) -> None:
    if not saving.cancelled() and saving.exception() is not None:
        log.warning("the ejected cassette could not be saved: %s", saving.exception())


@functools.lru_cache(maxsize=1)
def _head_kernel() -> np.ndarray:
    """(HEAD_PHASES, 2·HEAD_TAPS) float32: the taps for a position `p / HEAD_PHASES` past
    a sample, from HEAD_TAPS − 1 samples before it to HEAD_TAPS after: a sinc cut off at
    0.94 of Nyquist in a Kaiser window (β = 8), each phase normalised to unity at DC."""
    half = HEAD_TAPS
    t = np.arange(-half + 1, half + 1)[None, :] - np.arange(HEAD_PHASES)[:, None] / HEAD_PHASES
    cut = 0.94
    window = np.i0(8.0 * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0))) / np.i0(8.0)
    kernel = cut * np.sinc(cut * t) * window
    kernel /= kernel.sum(axis=1, keepdims=True)
    return kernel.astype(np.float32)
