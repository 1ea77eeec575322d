"""Where the sound goes: the jack (the DAC) and whatever else binds an output (Bluetooth).

Any PlaybackStream is an output: the Bluetooth subsystem binds an AlsaPlayback on
a `bluealsa:` PCM with `add("bluetooth", stream)` and `select("bluetooth")`.
Switching fades the old output out over one block and the new one in over
the next, so neither hears a step. The jack is always written (silence while
another output is active): the DAC also feeds the record amplifier, and a
stream kept running never underruns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from capstan.audio.gain import fade
from capstan.errors import CapstanError
from capstan.hardware.protocols import PlaybackStream

JACK = "jack"


class OutputError(CapstanError):
    """An output name that is not bound."""


class OutputRouter:
    def __init__(self, jack: PlaybackStream,
                 on_switch: Callable[[str, str], None] | None = None) -> None:
        self.outputs: dict[str, PlaybackStream] = {JACK: jack}
        self.active = JACK
        self._next: str | None = None
        self._fading_in = False
        self._on_switch = on_switch or (lambda name, reason: None)
        self._reason = ""
        self.feeds_record = False  # recording: the jack (the DAC) gets the sound whatever plays

    def add(self, name: str, stream: PlaybackStream) -> None:
        """Bind an output (it stays silent until selected)."""
        self.outputs[name] = stream

    def remove(self, name: str) -> PlaybackStream | None:
        """Unbind an output that went away; if it was playing, the jack takes over (fading in)."""
        if name == JACK:
            raise OutputError("the jack cannot be removed")
        stream = self.outputs.pop(name, None)
        if self._next == name:
            self._next = None
        if self.active == name:
            self.active, self._next, self._fading_in = JACK, None, True
            self._on_switch(JACK, f"{name} lost")
        return stream

    def select(self, name: str, reason: str = "") -> None:
        """Fade over to output `name` (a bound output) from the next block on."""
        if name not in self.outputs:
            raise OutputError(f"no output {name!r} is bound (bound: {', '.join(self.outputs)})")
        if name == self.active and self._next is None:
            return
        self._next, self._reason = name, reason

    @property
    def switching(self) -> bool:
        return self._next is not None or self._fading_in

    def write(self, block: np.ndarray, silent: bool = False) -> None:
        """One block to the active output (and silence to the jack if it is not the active one)."""
        if self._next is not None:
            if not silent:
                block = block * fade(len(block), rising=False)
            self._write(block)
            self.active, self._next = self._next, None
            self._fading_in = True
            self._on_switch(self.active, self._reason)
            return
        if self._fading_in:
            if not silent:
                block = block * fade(len(block), rising=True)
            self._fading_in = False
        self._write(block)

    def _write(self, block: np.ndarray) -> None:
        self.outputs[self.active].write(block)
        if self.active != JACK:
            self.outputs[JACK].write(block if self.feeds_record else np.zeros_like(block))
