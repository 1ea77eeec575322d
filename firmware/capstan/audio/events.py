"""Events the audio chain publishes on the player's bus (they appear in scenario reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from capstan.events import Event


@dataclass(frozen=True)
class Xrun(Event):
    """A capture overrun or playback underrun: recovered, counted, never fatal."""

    type: ClassVar[str] = "xrun"
    stream: str  # "capture" | the output's name
    count: int  # how many so far on that stream


@dataclass(frozen=True)
class OutputSwitched(Event):
    type: ClassVar[str] = "audio_output"
    output: str  # "jack" | "bluetooth" | ...
    reason: str = ""


@dataclass(frozen=True)
class TapeEqChanged(Event):
    type: ClassVar[str] = "tape_eq"
    tape_type: str  # "I" | "II" | "IV"
    time_constant_us: int



@dataclass(frozen=True)
class NoiseReductionChanged(Event):
    """The B-type decoder switched on or off (crossfaded, never a click)."""

    type: ClassVar[str] = "noise_reduction"
    on: bool
    reference_dbfs: float
    reason: str = ""  # "button" | "panel" | "cassette" | "control" | ...
