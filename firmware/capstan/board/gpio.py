"""GPIO pins over any gpiozero pin factory.

RPi.GPIO or lgpio on the Pi, MockFactory in the simulator.

Devices never know which factory they got (as in gpiozero itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from capstan.hardware.protocols import EdgeCallback


class GpioInput:
    """A digital input whose edges enter the event loop with the time they happened.

    The time is the pin library's tick, not the moment the loop got round to the
    edge: lgpio's is the kernel's timestamp of the line event (CLOCK_MONOTONIC),
    RPi.GPIO's the moment its edge thread woke (gpiozero stamps it), the
    simulator's the physics' own time of the edge. `ticks_to_loop` maps a tick
    to the loop's clock; None when they are the same clock (the Pi's daemon runs
    on asyncio's loop, whose time() is CLOCK_MONOTONIC too; the simulator's pins
    tick in the simulation's time).
    """

    def __init__(self, factory: Any, pin: int, loop: asyncio.AbstractEventLoop,
                 pull: str = "up", ticks_to_loop: Callable[[float], float] | None = None,
                 ) -> None:
        self.pin = pin
        self._loop = loop
        self._gpio = factory.pin(pin)
        self._gpio.function = "input"
        self._gpio.pull = pull
        self._callback: EdgeCallback | None = None
        self._ticks_to_loop = ticks_to_loop

    def read(self) -> bool:
        return bool(self._gpio.state)

    def watch(self, callback: EdgeCallback | None) -> None:
        self._callback = callback
        if callback is None:
            self._gpio.when_changed = None
        else:
            self._gpio.edges = "both"
            self._gpio.when_changed = self._on_change

    def _on_change(self, ticks: float, state: int) -> None:
        # May run on a GPIO library thread: the edge keeps its tick; post into the loop.
        t = self._ticks_to_loop(ticks) if self._ticks_to_loop else float(ticks)
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._deliver, bool(state), t)

    def _deliver(self, level: bool, t: float) -> None:
        if self._callback is not None:
            self._callback(level, t)

    def close(self) -> None:
        self._gpio.when_changed = None
        self._gpio.close()


class GpioOutput:
    """A digital output, driven low (off) when opened and when closed."""

    def __init__(self, factory: Any, pin: int) -> None:
        self.pin = pin
        self._gpio = factory.pin(pin)
        self._gpio.function = "output"
        self._gpio.state = 0
        self._value = False

    def write(self, value: bool) -> None:
        self._value = bool(value)
        self._gpio.state = 1 if value else 0

    @property
    def value(self) -> bool:
        return self._value

    def close(self) -> None:
        self.write(False)
        self._gpio.close()


class GpioPwm:
    """A PWM output (duty 0..1), 0 when opened and when closed."""

    def __init__(self, factory: Any, pin: int, frequency: float) -> None:
        self.pin = pin
        pwm_class = getattr(factory, "pwm_pin_class", None)  # MockFactory needs asking
        self._gpio = factory.pin(pin, pin_class=pwm_class) if pwm_class else factory.pin(pin)
        self._gpio.function = "output"
        self._gpio.frequency = frequency
        self._gpio.state = 0.0
        self._value = 0.0

    def write(self, duty: float) -> None:
        duty = min(1.0, max(0.0, float(duty)))
        self._value = duty
        self._gpio.state = duty

    @property
    def value(self) -> float:
        return self._value

    def close(self) -> None:
        self.write(0.0)
        self._gpio.frequency = None
        self._gpio.close()

