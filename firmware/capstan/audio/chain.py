"""The audio chain: capture → DC block → tape EQ → B-type NR → meters, tap → volume, mute → outputs.

The chain holds one period back before it writes: when the transport changes,
the block already captured (from before the change) is faded out, so the
fade is complete before the mechanism's disturbance (head lifting, motor
stopping) reaches the output. The price is one period of latency.

Around every transport change the sound fades out, the DAC's soft-mute line
goes low, and only when the new state is one that plays sound (and the
mechanism has had SETTLE seconds) does the line go high again, while the
chain is still writing silence, before the sound fades back in. At start-up
and shutdown the DAC stays muted.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from capstan.audio.events import NoiseReductionChanged, OutputSwitched, TapeEqChanged, Xrun
from capstan.audio.gain import GainRamp, fade
from capstan.audio.meters import LevelMeter
from capstan.audio.noise_reduction import DEFAULT_REFERENCE_DBFS, Decoder
from capstan.audio.outputs import OutputRouter
from capstan.audio.tap import AnalysisTap
from capstan.audio.tape_eq import TIME_CONSTANT, HeadFrontEnd
from capstan.events import Event, EventBus
from capstan.hardware.protocols import CaptureStream, PlaybackStream

AUDIBLE = frozenset({"playing", "recording", "record_paused", "record_armed"})
"""Transport states in which the chain lets sound out (recording monitors line-in;
"record_armed" is the recorder's, told with transport_changed: docs/recording.md)."""
LINE_IN = frozenset({"recording", "record_paused", "record_armed"})
"""States in which the ADC hears line-in: no tape EQ there."""
SETTLE = 0.3  # s after a transport change before sound returns (motor τ 0.12 s: 92 % speed)
FADE_IN = 0.02  # s
VOLUME_RAMP = 0.05  # s for any volume change
VOLUME_STEP_DB = 2.0
NR_FADE = 0.03  # s: the crossfade between the undecoded and the decoded sound


class AudioChain:
    def __init__(self, capture: CaptureStream, output: PlaybackStream,
                 loop: asyncio.AbstractEventLoop | None = None, bus: EventBus | None = None,
                 volume: float = 0.7, dac: Callable[[bool], None] | None = None,
                 tape_type: Callable[[], str] | None = None, gated: bool = True,
                 nr_reference_dbfs: float = DEFAULT_REFERENCE_DBFS) -> None:
        """`dac(on)` drives the DAC's soft-mute line; `tape_type()` reads the notch switches.

        With `gated` (the player), sound only flows in AUDIBLE transport states;
        without (benchmarks, tests), it fades in as soon as the chain starts.
        """
        self.capture = capture
        self.loop = loop or asyncio.get_event_loop()
        self.bus = bus
        self.rate = capture.rate
        self.front = HeadFrontEnd(self.rate, capture.channels)
        self.meters = LevelMeter(self.rate, capture.channels)
        self.nr = Decoder(self.rate, capture.channels, nr_reference_dbfs)
        self.nr_on = False  # what the user chose (per cassette); decoding also needs the head
        self._nr_mix = GainRamp(0.0, NR_FADE, self.rate)
        self.tap = AnalysisTap(self.loop, self.rate)
        self.outputs = OutputRouter(output, self._switched)
        self._volume = GainRamp(volume, VOLUME_RAMP, self.rate)
        self._mute = GainRamp(0.0, FADE_IN, self.rate)
        self._dac = dac or (lambda on: None)
        self._tape_type_source = tape_type
        self._tape_type_heard: str | None = None  # from a tape_type event, once there is one
        self._gated = gated
        self.transport = "stopped"
        self._held: np.ndarray | None = None
        self._closing = False
        self._opening: asyncio.TimerHandle | None = None
        self._xruns: dict[str, int] = {"capture": 0}
        # The recorder's insert (recording/feed.py) while armed or recording: the record
        # level; the DAC then plays it at unity gain, since it also feeds the record amp.
        self.insert: Callable[[np.ndarray], np.ndarray] | None = None
        self.blocks = 0
        self.running = False
        if bus is not None:
            bus.subscribe(self._on_event, "transport", "tape_type")

    # life ------------------------------------------------------------------
    def start(self) -> None:
        self._dac(False)
        self.running = True
        if not self._gated:
            self._open()
        self.capture.start(self._on_block)

    def stop(self) -> None:
        """DAC muted first (its soft mute ramps down in the chip), then capture stops."""
        self._cancel_open()
        self._dac(False)
        self._mute.jump(0.0)
        self.running = False
        self.capture.stop()

    # controls ----------------------------------------------------------------
    @property
    def volume(self) -> float:
        return self._volume.target

    def set_volume(self, volume: float) -> None:
        """Linear gain 0..1, reached over VOLUME_RAMP seconds."""
        self._volume.set(min(1.0, max(0.0, float(volume))))

    def step_volume(self, steps: int) -> float:
        """Up (+) or down (−) by VOLUME_STEP_DB per step; returns the new volume."""
        v = max(self._volume.target, 1e-3) * 10 ** (steps * VOLUME_STEP_DB / 20)
        self.set_volume(0.0 if v <= 1e-3 * 1.01 else v)
        return self.volume

    def set_tape_type(self, tape_type: str) -> None:
        """The tape in the well (from the tape-type event or the notch switches)."""
        self._tape_type_heard = tape_type
        self._apply_eq()

    def set_nr(self, on: bool, reason: str = "") -> None:
        """B-type decoding on or off: a NR_FADE crossfade, so the switch never clicks."""
        on = bool(on)
        changed = on != self.nr_on
        self.nr_on = on
        self._apply_nr()
        if changed:
            self._publish(NoiseReductionChanged(on, self.nr.reference_dbfs, reason))

    def set_nr_reference(self, reference_dbfs: float) -> None:
        """The digital level of the reference flux (dBFS, sine peak) at the ADC."""
        self.nr.set_reference(reference_dbfs)

    def _apply_nr(self) -> None:
        target = 1.0 if self.nr_on and self.transport not in LINE_IN else 0.0
        if target != self._nr_mix.target:
            if target and self._nr_mix.value == 0.0:
                self.nr.reset()  # a cold decoder settles within a sub-block, under the fade
            self._nr_mix.set(target)

    def transport_changed(self, state: str) -> None:
        """Soft mute now; sound returns after SETTLE if `state` is one that plays."""
        self.transport = state
        self._apply_eq()
        self._apply_nr()
        self.soft_mute()
        if state in AUDIBLE:
            self._schedule_open(SETTLE)

    def soft_mute(self) -> None:
        """Fade out the held block, then mute the DAC; stays muted until reopened."""
        self._cancel_open()
        if self._mute.value > 0 or self._mute.moving:
            self._closing = True
        else:
            self._dac(False)

    def select_output(self, name: str, reason: str = "") -> None:
        self.outputs.select(name, reason)

    # the work ------------------------------------------------------------------
    def _on_block(self, block: np.ndarray) -> None:
        self.blocks += 1
        n = len(block)
        y = self.front(block)
        if self._nr_mix.value or self._nr_mix.moving:
            decoded = self.nr(y)
            mix = self._nr_mix.render(n)
            y = decoded if isinstance(mix, float) and mix == 1.0 \
                else y + mix * (decoded - y)
        if self.insert is not None:
            y = self.insert(y)
        self.meters.feed(y)
        start = getattr(self.capture, "block_start", None)  # its sample position's time
        self.tap.offer(y, start if start is not None else self.loop.time() - n / self.rate)
        held, self._held = self._held, y
        if held is None:
            held = np.zeros_like(y)
        m = len(held)
        closing = self._closing
        if closing:
            out = held * (self._gain(m) * self._mute.value * fade(m, rising=False))
            self._mute.jump(0.0)
            self._closing = False
        elif self._mute.value == 0.0 and not self._mute.moving:
            self.outputs.write(np.zeros_like(held), silent=True)
            self._check_xruns()
            return
        else:
            out = held * (self._gain(m) * self._mute.render(m))
        self.outputs.write(out)
        if closing:
            self._dac(False)
        self._check_xruns()

    def _gain(self, frames: int) -> float | np.ndarray:
        """The volume, or unity while the recorder's insert feeds the record amplifier."""
        return self._volume.render(frames) if self.insert is None else 1.0

    def _check_xruns(self) -> None:
        counts = {"capture": self.capture.overruns}
        for name in {"jack", self.outputs.active}:
            stream = self.outputs.outputs.get(name)
            if stream is not None:
                counts[name] = getattr(stream, "underruns", 0)
        for name, count in counts.items():
            if count > self._xruns.get(name, 0):
                self._xruns[name] = count
                self._publish(Xrun(name, count))

    # timing and events ------------------------------------------------------------
    def _schedule_open(self, delay: float) -> None:
        self._cancel_open()
        self._opening = self.loop.call_later(delay, self._open)

    def _cancel_open(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
            self._opening = None

    def _open(self) -> None:
        self._opening = None
        if not self.running:
            return
        self._dac(True)
        self._mute.set(1.0)

    def _on_event(self, t: float, event: Event) -> None:
        if event.type == "transport":
            self.transport_changed(str(getattr(event, "state", "")))
        elif event.type == "tape_type":
            self.set_tape_type(str(getattr(event, "tape_type", "I")))

    def _apply_eq(self) -> None:
        tape = self._tape_type_heard
        if tape is None and self._tape_type_source is not None:
            tape = self._tape_type_source()
        tape = "I" if (tape is None or self.transport in LINE_IN) else tape
        if tape != self.front.tape_type:
            self.front.set_tape_type(tape)
            self._publish(TapeEqChanged(tape, round(TIME_CONSTANT[tape] * 1e6)))

    def _switched(self, name: str, reason: str) -> None:
        self._publish(OutputSwitched(name, reason))

    def _publish(self, event: Event) -> None:
        if self.bus is not None:
            self.bus.publish(event)

    def status(self) -> dict[str, Any]:
        return {"volume": round(self.volume, 3),
                "volume_db": round(20 * math.log10(self.volume), 1) if self.volume else None,
                "output": self.outputs.active, "tape_eq": self.front.tape_type,
                "nr": "on" if self.nr_on else "off",
                "nr_reference_dbfs": round(self.nr.reference_dbfs, 2),
                "muted": self._mute.target == 0.0, "xruns": dict(self._xruns),
                **self.meters.levels()}
