"""The live speed and wow & flutter meter, the speed trim and the azimuth reading.

A `ToneDetector` listens to everything played; when a 3150 or 3000 Hz test tone has
played for a second, a `WowFlutterMeter` starts on it and reports every second. Once a
full window (5 s after 3 s of settling) is in, a speed error larger than `TRIM_FROM` is
turned into a speed trim of the motor drive: trim' = (1 + trim) / (1 + error) − 1, applied
at once (TapeMechanism.retrim) and kept, for the deck and for this cassette. The meter
then starts again, so the next readings show the corrected speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from capstan.analysis.azimuth import AzimuthMeter
from capstan.analysis.flutter import WowFlutterMeter
from capstan.analysis.tone import ToneDetector
from capstan.intelligence.events import MeterReading, SpeedTrimmed

REPORT_EVERY = 1.0  # s between readings on the bus
FULL_WINDOW_S = 4.9  # s of tone in a reading before it may set the trim
TRIM_FROM = 0.0002  # a speed error below 0.02 % is left alone
MAX_TRIM = 0.06
DECK_TRIM = "speed-trim"  # the state name of the deck's own trim


class LiveMeter:
    def __init__(self, ears: Any) -> None:
        self.ears = ears
        self.tone = ToneDetector(ears.rate)
        self.azimuth = AzimuthMeter(ears.rate)
        self.meter: WowFlutterMeter | None = None
        self.reading: dict[str, float] | None = None
        self._fed = 0
        self._trimmed_at = -1.0

    @property
    def trim_enabled(self) -> bool:
        return bool(self.ears.config.get("speed_trim", True))

    def feed(self, block: np.ndarray) -> None:
        if block.ndim == 2 and block.shape[1] == 2:
            self.azimuth.feed(block)
        tone = self.tone.feed(block)
        if tone is None:
            if self.meter is not None:
                self.ears.publish(MeterReading("stopped", self.meter.nominal_hz))
                self.meter = None
            return
        if self.meter is None or self.meter.nominal_hz != tone:
            self._start(tone)
        assert self.meter is not None
        self.meter.feed(block)
        self._fed += len(block)
        if self._fed >= REPORT_EVERY * self.ears.rate:
            self._fed = 0
            self._report()

    def _start(self, tone: float) -> None:
        self.meter = WowFlutterMeter(self.ears.rate, tone)
        self._fed = 0
        self.ears.publish(MeterReading("started", tone))

    def _report(self) -> None:
        assert self.meter is not None
        r = self.meter.reading()
        if r is None:
            return
        self.reading = {k: round(v, 4) for k, v in r.to_dict().items()}
        self.ears.publish(MeterReading(
            "reading", r.nominal_hz, round(r.frequency_hz, 3), round(r.speed_error_percent, 4),
            round(r.weighted_peak_percent, 4), round(r.wrms_percent, 4),
            round(r.unweighted_rms_percent, 4)))
        error = r.speed_error_percent / 100
        if (self.trim_enabled and r.duration_s >= FULL_WINDOW_S and abs(error) >= TRIM_FROM):
            self._trim(error, r.nominal_hz)

    def _trim(self, error: float, tone: float) -> None:
        mechanism = self.ears.player.mechanism
        trim = (1 + mechanism.speed_trim) / (1 + error) - 1
        trim = max(-MAX_TRIM, min(MAX_TRIM, trim))
        self._apply(trim)
        memory = self.ears.memory
        memory.extra["speed_trim"] = trim
        memory.save()
        memory.store.save(DECK_TRIM, {"speed_trim": trim})
        self.ears.publish(SpeedTrimmed(round(error * 100, 4), round(trim * 100, 4)))
        self._start(tone)  # measure again at the corrected speed

    def _apply(self, trim: float) -> None:
        self.ears.player.mechanism.retrim(trim)

    def restore_deck_trim(self) -> None:
        memory = self.ears.memory
        if not self.trim_enabled:
            return
        saved = memory.store.load(DECK_TRIM, {})
        trim = saved.get("speed_trim") if isinstance(saved, dict) else None
        if isinstance(trim, int | float) and abs(trim) <= MAX_TRIM:
            self._apply(float(trim))

    def restore_cassette_trim(self) -> float | None:
        memory = self.ears.memory
        trim = memory.extra.get("speed_trim")
        if not self.trim_enabled or not isinstance(trim, int | float) or abs(trim) > MAX_TRIM:
            return None
        self._apply(float(trim))
        return float(trim)

    def status(self) -> dict[str, Any]:
        az = self.azimuth.reading()
        return {
            "wow_flutter": self.reading if self.meter is not None else None,
            "speed_trim_percent": round(self.ears.player.mechanism.speed_trim * 100, 4),
            "azimuth": None if az is None else {k: round(v, 3) for k, v in az.to_dict().items()},
        }
