"""gpiozero MockFactory pins that live in simulated time and tell the deck about outputs.

The firmware opens them through capstan.board.gpio exactly as it opens RPi.GPIO
or lgpio pins on the Pi. The simulated mechanism drives the inputs
(`drive(level, t)`) and hears every change of an output (`on_output`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin, PinState


class _SimPinMixin:
    factory: SimFactory

    def clear_states(self) -> None:
        self._last_change = self.factory.ticks()
        # gpiozero keeps every state a mock pin went through; an hour of tach pulses
        # would grow without bound, so keep the recent ones only.
        self.states = deque([PinState(0.0, self._state)], maxlen=64)

    def _change_state(self, value):
        if self._state != value:
            t = self.factory.ticks()
            self._state = value
            self.states.append(PinState(t - self._last_change, value))
            self._last_change = t
            if self._function == "output":
                self.factory.output_changed(self.info.name, value)
            return True
        return False

    def drive(self, level: bool) -> None:
        """Drive an input line from the outside world."""
        if level:
            self.drive_high()
        else:
            self.drive_low()


class SimPin(_SimPinMixin, MockPin):
    pass


class SimPWMPin(_SimPinMixin, MockPWMPin):
    pass


class SimFactory(MockFactory):
    """A MockFactory whose clock is the simulation's and whose outputs are observed."""

    pwm_pin_class = SimPWMPin

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(revision="902120", pin_class=SimPin)  # a Pi Zero 2 W
        self._clock = clock
        self.on_output: Callable[[int, float], None] | None = None

    def ticks(self) -> float:  # type: ignore[override]
        return self._clock()

    @staticmethod
    def ticks_diff(later: float, earlier: float) -> float:
        return later - earlier

    def output_changed(self, name: str, value: float) -> None:
        if self.on_output is not None:
            self.on_output(int(name.removeprefix("GPIO")), float(value))

    def gpio(self, number: int) -> SimPin:
        return self.pin(number)
