"""The head-record relay, with its interlock in the driver itself.

Energizing it switches the head to the record amplifier and turns on bias and
erase: on the wrong side or on a standing tape that destroys a recording. So
the driver asks its interlock before every `engage()` and refuses unless the
transport is recording, the tab of the side facing the head is present and the
tape is at speed; `enforce()` (called on every change and by the watchdog)
releases it the moment any condition goes away. Whoever holds a RecordRelay
cannot energize it any other way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from capstan.errors import CapstanError
from capstan.hardware.protocols import DigitalOut


@dataclass(frozen=True)
class Interlock:
    """Each condition is asked fresh every time."""

    recording: Callable[[], bool]
    tab_present: Callable[[], bool]
    tape_at_speed: Callable[[], bool]

    def refusal(self) -> str | None:
        if not self.recording():
            return "the transport is not recording"
        if not self.tab_present():
            return "this side is write-protected: cover the tab hole with tape to record"
        if not self.tape_at_speed():
            return "the tape is not at speed yet"
        return None


class RelayRefused(CapstanError):
    """The record relay's interlock said no."""


class RecordRelay:
    def __init__(self, out: DigitalOut, interlock: Interlock) -> None:
        self._out = out
        self.interlock = interlock
        out.write(False)

    def engage(self) -> None:
        """Energize, or raise RelayRefused saying which condition is missing."""
        reason = self.interlock.refusal()
        if reason is not None:
            self.release()
            raise RelayRefused(f"record relay not energized: {reason}")
        self._out.write(True)

    def try_engage(self) -> bool:
        try:
            self.engage()
        except RelayRefused:
            return False
        return True

    def enforce(self) -> None:
        """Release at once if any condition went away."""
        if self._out.value and self.interlock.refusal() is not None:
            self._out.write(False)

    def release(self) -> None:
        if self._out.value:
            self._out.write(False)

    @property
    def is_engaged(self) -> bool:
        return bool(self._out.value)
