"""What of the Pi's hardware is there, part by part, when the board cannot be opened.

`capstan run --board pi` opens the GPIO header, the I2C bus and the ALSA devices in one
go; when one of them is missing (the sound-card overlay not loaded, I2C off, a computer
that is no Pi), the daemon asks each part on its own and says in words which it could
not find, then stops with EXIT_NO_HARDWARE: restarting would not find it either.
"""

from __future__ import annotations

from typing import Any

from capstan.errors import CapstanError
from capstan.hardware.description import BoardDescription
from capstan.selftest import CHIP_NAMES, SelfTestReport, check_chips

# systemd's name for 5 is NOTINSTALLED: the unit lists it in RestartPreventExitStatus=.
EXIT_NO_HARDWARE = 5


class HardwareMissing(CapstanError):
    """The board's hardware is not all there; the message lists what is missing."""

    exit_code = EXIT_NO_HARDWARE


def take_census(description: BoardDescription) -> SelfTestReport:
    """Each part of the Pi board opened on its own: the GPIO header, the I2C bus and its
    chips, the ADC's and the DAC's ALSA devices."""
    report = SelfTestReport()
    _gpio(description, report)
    _i2c(description, report)
    for capture, device, part in ((True, description.alsa.capture, "ADC (capture)"),
                                  (False, description.alsa.playback, "DAC (playback)")):
        _pcm(description, report, capture, device, part)
    return report


def _gpio(d: BoardDescription, report: SelfTestReport) -> None:
    from capstan.board.pi import pin_factory

    try:
        factory = pin_factory(d.gpio_library)
    except CapstanError as exc:
        report.add("GPIO header", False, str(exc), critical=True)
        return
    try:
        report.add("GPIO header", True, f"opened with {type(factory).__name__}")
    finally:
        factory.close()


def _i2c(d: BoardDescription, report: SelfTestReport) -> None:
    try:
        from smbus2 import SMBus

        bus = SMBus(d.i2c_bus)
    except OSError as exc:
        report.add(f"I2C-{d.i2c_bus}", False, f"no bus /dev/i2c-{d.i2c_bus} "
                   f"({exc.strerror or exc}): is dtparam=i2c_arm=on in "
                   "/boot/firmware/config.txt?", critical=True)
        for dev in d.i2c.values():
            report.not_checked(CHIP_NAMES.get(dev.chip, dev.chip), f"no I2C-{d.i2c_bus}")
        return
    try:
        report.add(f"I2C-{d.i2c_bus}", True, f"/dev/i2c-{d.i2c_bus} opened")
        check_chips(d, bus, report)
    finally:
        bus.close()


def _pcm(d: BoardDescription, report: SelfTestReport, capture: bool, device: str,
         part: str) -> None:
    from capstan.board.alsa import open_pcm

    a = d.alsa
    fmt = a.capture_format if capture else a.playback_format
    try:
        pcm: Any = open_pcm(device, capture, a.rate, a.channels, fmt, 1024)
    except Exception as exc:
        tool = "arecord -l" if capture else "aplay -l"
        report.add(part, False, f"no ALSA device {device} ({exc}): is dtoverlay=capstan-i2s "
                   f"in /boot/firmware/config.txt? `{tool}` lists the sound cards",
                   critical=True)
        return
    pcm.close()
    report.add(part, True, f"{device} opened")
