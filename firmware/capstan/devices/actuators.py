"""The mechanism's actuators and the LEDs. Every one starts off and is switched off on close."""

from __future__ import annotations

from capstan.hardware.protocols import DigitalOut, PwmOut


class Motor:
    """The capstan/reel motor: a PWM duty and a direction."""

    def __init__(self, pwm: PwmOut, reverse: DigitalOut) -> None:
        self._pwm, self._reverse = pwm, reverse

    def run(self, duty: float, reverse: bool = False) -> None:
        if not 0.0 <= duty <= 1.0:
            raise ValueError(f"motor duty must be 0..1, got {duty}")
        if reverse != self._reverse.value and self._pwm.value > 0:
            self._pwm.write(0.0)  # never reverse a turning motor in one step
        self._reverse.write(reverse)
        self._pwm.write(duty)

    def stop(self) -> None:
        self._pwm.write(0.0)
        self._reverse.write(False)

    @property
    def duty(self) -> float:
        return self._pwm.value

    @property
    def reverse(self) -> bool:
        return self._reverse.value


class Solenoid:
    """The head/pinch-roller solenoid or the FF/REW idler."""

    def __init__(self, out: DigitalOut) -> None:
        self._out = out

    def engage(self) -> None:
        self._out.write(True)

    def release(self) -> None:
        self._out.write(False)

    @property
    def is_engaged(self) -> bool:
        return self._out.value


class Switch:
    """A plain digital output with a name: the ADC source mux, the DAC's soft-mute line."""

    def __init__(self, out: DigitalOut) -> None:
        self._out = out

    def set(self, on: bool) -> None:
        self._out.write(on)

    @property
    def is_on(self) -> bool:
        return self._out.value


class Led:
    def __init__(self, pwm: PwmOut) -> None:
        self._pwm = pwm

    def set(self, brightness: float) -> None:
        self._pwm.write(brightness)

    @property
    def brightness(self) -> float:
        return self._pwm.value
