"""The player's B-type switch: on or off per cassette, and the reference level per mechanism.

`player.nr` (a NoiseReductionSwitch, given an `NrPort` by app.py):

- PAIR held and PLAY pressed (the chord "pair+play": PLAY's own press is not made, and a
  short PAIR does nothing by itself) switch NR; so does the panel (`toggle("panel")`).
  Refused while recording or armed (the tape would change its encoding mid-recording).
- The setting is remembered with the cassette (its fingerprint and TOC, in the cassette
  memory): a recognized cassette brings its own back; an unknown one keeps the switch
  as it is (as a deck's switch stays where it was left).
- Shown by the status LED (two slow blinks: on; one: off) and in status (`audio.nr`).
- The reference level: a 400 Hz tone at the reference flux played from a calibration
  tape is recognized (audio/nr_calibration.py) and its level stored for the mechanism;
  until then the board's default (hardware/board.toml `[nr]`).
- Recording with NR on encodes the record feed (after the record level and its fader).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from capstan.audio.events import NoiseReductionChanged
from capstan.audio.noise_reduction import Encoder
from capstan.audio.nr_calibration import ToneWatch
from capstan.devices import leds as lp
from capstan.events import Event, EventBus, Notice, Refused

log = logging.getLogger(__name__)

CHORD = "pair+play"
STATE_NAME = "nr-reference"  # per mechanism profile: {"reference_dbfs", "calibrated_at"}
ON_FLASH = (lp.blink(0.4, duty=0.5), 0.8)  # two slow blinks of the status LED
OFF_FLASH = (lp.blink(0.4, duty=0.5), 0.4)  # one
RECORD_STATES = ("recording", "record_paused")


@dataclass(frozen=True)
class NrPort:
    """What the switch gets of the player (app.py), and nothing more."""

    audio: Any  # the audio chain: set_nr, nr_on, set_nr_reference, tap, rate, capture
    bus: EventBus
    status_led: Any  # the status LED's pattern player
    deck_state: Callable[[], str]  # the transport's state's value
    recorder: Any  # `armed`, and the record feed whose encoder follows the switch
    memory: Any  # the player's CassetteMemory (the cassette in, or the last one)
    mechanism: str  # the mechanism profile: the reference level is stored per profile
    default_dbfs: float  # the board's reference level until a calibration


class NoiseReductionSwitch:
    def __init__(self, port: NrPort, state: Any = None) -> None:
        self.port = port
        self.store = state
        self.mechanism = port.mechanism
        self.default_dbfs = port.default_dbfs
        saved = self._load().get(self.mechanism, {})
        self.calibrated = "reference_dbfs" in saved
        self.reference_dbfs = float(saved.get("reference_dbfs", self.default_dbfs))
        port.audio.set_nr_reference(self.reference_dbfs)
        self.watch = ToneWatch(port.audio.rate, self.default_dbfs)
        self._unsubscribe: list[Any] = []

    # life ------------------------------------------------------------------------------
    def start(self) -> None:
        self._unsubscribe.append(self.port.bus.subscribe(self._on_event, "cassette_known",
                                                           "transport"))
        self._unsubscribe.append(self.port.audio.tap.subscribe(self._heard))

    def stop(self) -> None:
        for off in self._unsubscribe:
            off()
        self._unsubscribe.clear()

    @property
    def on(self) -> bool:
        return bool(self.port.audio.nr_on)

    # switching ---------------------------------------------------------------------------
    def gesture(self, button: str, action: str) -> bool:
        """True if the gesture was the NR chord (taken)."""
        if button != CHORD or action != "chord":
            return False
        if not self._refused():
            self.set(not self.on, "button")
        return True

    def toggle(self, reason: str = "panel") -> bool:
        """Switch NR; returns the new setting (unchanged when refused)."""
        if not self._refused():
            self.set(not self.on, reason)
        return self.on

    def set(self, on: bool, reason: str = "") -> None:
        self.port.audio.set_nr(on, reason)
        self._encoder_follows()
        flash = ON_FLASH if on else OFF_FLASH
        self.port.status_led.flash(*flash)
        if reason != "cassette":
            self._remember(on)

    def _refused(self) -> bool:
        recording = self.port.recorder
        if self.port.deck_state() in RECORD_STATES or getattr(recording, "armed", False):
            self.port.bus.publish(Refused("noise_reduction",
                                            "recording: NR is chosen before the recording"))
            self.port.status_led.flash(*lp.REFUSED_FLASH)
            return True
        return False

    def _encoder_follows(self) -> None:
        feed = getattr(self.port.recorder, "feed", None)
        if feed is None:
            return
        if self.on:
            if getattr(feed, "encoder", None) is None:
                audio = self.port.audio
                feed.encoder = Encoder(audio.rate, audio.capture.channels, self.reference_dbfs)
        else:
            feed.encoder = None

    # the cassette's memory ---------------------------------------------------------------------
    def _remember(self, on: bool) -> None:
        if self.port.deck_state() == "no_cassette":
            return
        memory = self.port.memory
        memory.extra["nr"] = bool(on)
        memory.save()

    def _on_event(self, t: float, event: Event) -> None:
        if event.type == "cassette_known" and getattr(event, "what", "") in ("recognized",
                                                                              "new"):
            saved = self.port.memory.extra.get("nr")
            if saved is None:
                self._remember(self.on)  # an unknown cassette takes the switch as it is
            elif bool(saved) != self.on:
                self.set(bool(saved), "cassette")
        elif event.type == "transport" and getattr(event, "state", "") == "recording":
            feed = getattr(self.port.recorder, "feed", None)
            encoder = getattr(feed, "encoder", None)
            if encoder is not None:
                encoder.reset()  # each recording starts from silence

    # the reference level ---------------------------------------------------------------------
    def _heard(self, block: np.ndarray, t: float) -> None:
        if self.port.deck_state() != "playing":
            self.watch.reset()
            return
        level = self.watch.feed(block)
        if level is not None:
            self.calibrate(level)

    def calibrate(self, reference_dbfs: float) -> None:
        """Store `reference_dbfs` (a 400 Hz tone's peak, dBFS) as this mechanism's reference."""
        self.reference_dbfs = float(reference_dbfs)
        self.calibrated = True
        self.port.audio.set_nr_reference(self.reference_dbfs)
        feed = getattr(self.port.recorder, "feed", None)
        if getattr(feed, "encoder", None) is not None:
            feed.encoder.set_reference(self.reference_dbfs)
        data = self._load()
        data[self.mechanism] = {"reference_dbfs": round(self.reference_dbfs, 2),
                                "calibrated_at": round(time.time())}
        if self.store is not None:
            self.store.save(STATE_NAME, data)
        self.port.bus.publish(Notice("nr_calibrated",
                                       f"B-type reference level {self.reference_dbfs:.2f} dBFS "
                                       f"(400 Hz tone) for the {self.mechanism} mechanism"))
        self.port.bus.publish(NoiseReductionChanged(self.on, round(self.reference_dbfs, 2),
                                                      "calibrated"))

    def _load(self) -> dict[str, Any]:
        if self.store is None:
            return {}
        data = self.store.load(STATE_NAME, {})
        return data if isinstance(data, dict) else {}

    def status(self) -> dict[str, Any]:
        return {"on": self.on, "reference_dbfs": round(self.reference_dbfs, 2),
                "calibrated": self.calibrated, "default_dbfs": round(self.default_dbfs, 2)}
