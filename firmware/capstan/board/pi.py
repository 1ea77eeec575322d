"""The real board: gpiozero pin factories, smbus2, ALSA.

RPi.GPIO up to the Pi 4 (as the design asks), lgpio on the Pi 5, picked automatically.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from capstan.errors import BoardError
from capstan.hardware.description import BoardDescription

log = logging.getLogger(__name__)


def _is_pi5() -> bool:
    try:
        return "Raspberry Pi 5" in Path("/proc/device-tree/model").read_text(errors="ignore")
    except OSError:
        return False


def pin_factory(library: str = "auto") -> Any:
    """The board's choice ([gpio] library), else lgpio on a Pi 5 (RPi.GPIO cannot drive its
    RP1) and RPi.GPIO on every earlier Pi."""
    try:
        if library == "lgpio" or (library == "auto" and _is_pi5()):
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    except Exception as exc:
        raise BoardError(f"cannot open the Pi's GPIO ({exc}); on a laptop use --board sim") from exc


def open_pi_board(description: BoardDescription, loop: asyncio.AbstractEventLoop,
                  period: int) -> Any:
    from smbus2 import SMBus

    from capstan.board import Board, leds_on_driver, open_gpio
    from capstan.board.alsa import AlsaCapture, AlsaPlayback
    from capstan.chips.pca9685 import LedDriver

    d = description
    pins = open_gpio(pin_factory(d.gpio_library), d, loop)
    try:
        bus = SMBus(d.i2c_bus)
    except OSError as exc:
        raise BoardError(f"cannot open I2C bus {d.i2c_bus} ({exc}): is dtparam=i2c_arm=on "
                         "in /boot/firmware/config.txt?") from exc
    leds = leds_on_driver(LedDriver, bus, d)
    a = d.alsa
    capture = AlsaCapture(a.capture, loop, a.rate, a.channels, a.capture_format, period)
    playback = AlsaPlayback(a.playback, a.rate, a.channels, a.playback_format, period)
    return Board(kind="pi", description=d, leds=leds, i2c=bus, capture=capture,
                 playback=playback, _closers=[bus], **pins)
