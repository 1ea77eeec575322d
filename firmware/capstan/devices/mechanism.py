"""The tape mechanism as one device: motor, head solenoid and idler moved together per mode."""

from __future__ import annotations

from capstan.board.description import Mechanism
from capstan.deck.transport import Mode
from capstan.devices.actuators import Motor, Solenoid


class TapeMechanism:
    def __init__(self, motor: Motor, head: Solenoid, idler: Solenoid, spec: Mechanism) -> None:
        self.motor, self.head, self.idler, self.spec = motor, head, idler, spec
        self.mode = Mode.STOP
        self.speed_trim = 0.0  # fraction added to the play duty (a measured speed error, negated)

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == Mode.STOP:
            self.motor.stop()
            self.head.release()
            self.idler.release()
        elif mode == Mode.PLAY:
            self.idler.release()
            self.head.engage()
            self.motor.run(min(1.0, self.spec.play_duty * (1 + self.speed_trim)))
        else:
            self.head.release()
            self.idler.engage()
            self.motor.run(self.spec.wind_duty, reverse=mode == Mode.REWIND)

    def off(self) -> None:
        self.set_mode(Mode.STOP)
