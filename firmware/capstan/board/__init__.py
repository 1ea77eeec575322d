"""The hardware boundary. `open_board()` picks the real Pi or the simulated deck, once, at start-up.

Real backends are imported lazily, so a laptop never imports RPi.GPIO.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capstan.errors import BoardError
from capstan.hardware.description import BoardDescription
from capstan.hardware.protocols import (
    CaptureStream,
    DigitalIn,
    DigitalOut,
    I2CBus,
    PlaybackStream,
    PwmOut,
)

log = logging.getLogger(__name__)

BOARD_KINDS = ("pi", "sim")


@dataclass
class Board:
    kind: str
    description: BoardDescription
    buttons: dict[str, DigitalIn]
    switches: dict[str, DigitalIn]
    tachometers: dict[str, DigitalIn]
    outputs: dict[str, DigitalOut | PwmOut]
    leds: dict[str, PwmOut]
    i2c: I2CBus
    capture: CaptureStream
    playback: PlaybackStream
    # the fitted mechanism profile's own signals ([mechanism.<profile>]), by name
    signals: dict[str, DigitalIn | DigitalOut] = field(default_factory=dict)
    deck: Any = None  # the SimDeck on the simulated board
    # The time up to which every input edge has been delivered (None: the loop's time;
    # the simulated board's physics may be behind a late loop, see SimDeck.edges_until)
    edges_until: Callable[[], float] | None = None
    _closers: list[Any] = field(default_factory=list)

    @property
    def output_signals(self) -> list[str]:
        table = self.description.mechanism.table
        return [n for n, sig in table.signals.items() if sig.output] if table else []

    def close(self) -> None:
        """Everything off and released; safe to call twice."""
        for out in [*self.outputs.values(),
                    *(self.signals[n] for n in self.output_signals if n in self.signals)]:
            try:
                out.write(0)
            except Exception:
                pass
        for closer in [*self.leds.values(), *self.outputs.values(), *self.buttons.values(),
                       *self.switches.values(), *self.tachometers.values(),
                       *self.signals.values(), *self._closers]:
            try:
                closer.close()
            except Exception:
                pass
        self._closers.clear()
        for stream_end in (self.capture.stop, self.playback.close):
            try:
                stream_end()
            except Exception:  # the rest still closes; what failed is said, not hidden
                log.exception("closing the %s failed", "capture" if stream_end ==
                              self.capture.stop else "playback (its WAV may be incomplete)")


def open_board(kind: str, description: BoardDescription, loop: asyncio.AbstractEventLoop,
               period: int = 1024, jack_wav: Path | None = None, deck: Any = None,
               seed: int = 0) -> Board:
    if kind == "sim":
        from capstan.sim.board import open_sim_board

        return open_sim_board(description, loop, period, jack_wav, deck, seed)
    if kind == "pi":
        from capstan.board.pi import open_pi_board

        return open_pi_board(description, loop, period)
    raise BoardError(f"unknown board {kind!r}: choose one of {', '.join(BOARD_KINDS)}")


def open_gpio(factory: Any, description: BoardDescription, loop: asyncio.AbstractEventLoop,
              ) -> dict[str, dict[str, Any]]:
    """Every pin of the description over one gpiozero pin factory: the reference parts'
    but those the fitted profile does without (capstan.hardware.profiles.FREES), and the profile's
    own signals."""
    from capstan.board.gpio import GpioInput, GpioOutput, GpioPwm
    from capstan.hardware.profiles import FREES

    d = description
    table = d.mechanism.table
    freed = set(FREES.get(d.mechanism.profile, ())) if table else set()

    def kept(group: str, items: dict[str, Any]) -> dict[str, Any]:
        return {r: v for r, v in items.items() if f"{group}.{r}" not in freed}

    def inp(pin: int, pull: str = "up") -> GpioInput:
        # external pull resistors: the Pi's own are switched off, the board holds the level
        return GpioInput(factory, pin, loop, pull="floating" if d.pulls == "external" else pull)

    outputs: dict[str, Any] = {}
    for role, o in kept("outputs", d.outputs).items():
        outputs[role] = (GpioPwm(factory, o.pin, o.frequency) if o.pwm
                         else GpioOutput(factory, o.pin))
    signals: dict[str, Any] = {}
    for name, sig in (table.signals.items() if table else ()):
        signals[name] = (GpioOutput(factory, sig.pin) if sig.output
                         else inp(sig.pin, "up" if sig.active_low else "down"))
    return {
        "buttons": {r: inp(p.pin, "up" if p.active_low else "down")
                    for r, p in kept("buttons", d.buttons).items()},
        "switches": {r: inp(p.pin, "up" if p.active_low else "down")
                     for r, p in kept("switches", d.switches).items()},
        "tachometers": {r: inp(p.pin, "up") for r, p in kept("tachometers", d.tachometers).items()},
        "outputs": outputs,
        "signals": signals,
    }


def leds_on_driver(driver_class: Any, bus: I2CBus, d: BoardDescription) -> dict[str, PwmOut]:
    """The LEDs as PWM outputs of the LED driver chip, on the Pi and in the simulator."""
    driver = driver_class(bus, d.i2c[d.led_driver].address)
    return {role: driver.channel(led.channel) for role, led in d.leds.items()}
