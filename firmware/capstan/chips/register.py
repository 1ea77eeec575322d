"""Registers declared as data, in the manner of Adafruit_CircuitPython_Register.

A chip driver is a class whose raw registers are descriptors::

    class MAX17048(ChipDriver):
        _vcell = Register(0x02, width=2, read_only=True)   # 78.125 uV per LSB
        _athd = Bits(0x0C, lowest_bit=0, count=5, width=2)

Reads and writes go through any object with the smbus2 subset of
capstan.hardware.protocols.I2CBus. Multi-byte registers are big-endian (MSB at the
register's address), as on the MAX17048; they are read with one block read so
the two halves belong together. Failures are the bus's OSError, unchanged: the
caller (capstan.power) decides about retries.

A field write is a read-modify-write. The read is taken twice and must agree,
so that one corrupted read on a noisy bus is not written back into the chip's
configuration (on the BQ25895 that could switch on its boost converter).
"""

from __future__ import annotations

import errno
from typing import Any

from capstan.errors import CapstanError, HardwareFault
from capstan.hardware.protocols import I2CBus


class ChipRangeError(CapstanError, ValueError):
    """A setting a chip cannot take; the message gives the range it can."""


class ChipNotFound(HardwareFault):
    """The chip did not answer, or answered with the wrong identity."""


class ChipDriver:
    """Base of a chip driver: a bus, an address and raw register access."""

    chip = "chip"
    what = "I2C chip"

    def __init__(self, bus: I2CBus, address: int) -> None:
        self.bus = bus
        self.address = address

    def read_register(self, register: int, width: int = 1) -> int:
        data = self.bus.read_i2c_block_data(self.address, register, width)
        value = 0
        for byte in data[:width]:
            value = (value << 8) | (byte & 0xFF)
        return value

    def write_register(self, register: int, value: int, width: int = 1) -> None:
        if width == 1:
            self.bus.write_byte_data(self.address, register, value & 0xFF)
        else:
            data = [(value >> (8 * (width - 1 - i))) & 0xFF for i in range(width)]
            self.bus.write_i2c_block_data(self.address, register, data)

    def read_for_update(self, register: int, width: int = 1) -> int:
        """Read a register that is about to be modified: two reads that agree, or OSError."""
        last = self.read_register(register, width)
        for _ in range(2):
            again = self.read_register(register, width)
            if again == last:
                return again
            last = again
        raise OSError(errno.EIO, f"{self.chip} register 0x{register:02x} reads differently "
                                 "each time: the bus is noisy")

    def not_found(self, found: str, cause: BaseException | None = None) -> ChipNotFound:
        """The start-up identity check failed: say where to look."""
        exc = ChipNotFound(
            f"no {self.chip} {self.what} answers at 0x{self.address:02x} on I2C ({found}): "
            "check your wiring (SDA, SCL, 3V3, GND) and the address in hardware/board.toml [i2c]")
        exc.__cause__ = cause
        return exc

    def identify(self, register: int, width: int = 1) -> int:
        """Read an identity register; a bus error becomes ChipNotFound with the wiring hint."""
        try:
            return self.read_register(register, width)
        except OSError as exc:
            raise self.not_found(f"{exc.strerror or exc}", exc) from exc


class Register:
    """A whole register of `width` bytes, unsigned or two's complement."""

    def __init__(self, register: int, width: int = 1, signed: bool = False,
                 read_only: bool = False) -> None:
        self.register, self.width, self.signed, self.read_only = register, width, signed, read_only

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: ChipDriver | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.read_register(self.register, self.width)
        bits = 8 * self.width
        if self.signed and value >= 1 << (bits - 1):
            value -= 1 << bits
        return value

    def __set__(self, obj: ChipDriver, value: int) -> None:
        if self.read_only:
            raise AttributeError(f"{self.name} is read-only")
        bits = 8 * self.width
        lo, hi = (0, (1 << bits) - 1)
        if self.signed:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not lo <= value <= hi:
            raise ChipRangeError(f"{self.name}: raw value {value} is outside {lo}..{hi}")
        obj.write_register(self.register, value & ((1 << bits) - 1), self.width)


class Bits:
    """A field of `count` bits from `lowest_bit` up, inside a register of `width` bytes."""

    def __init__(self, register: int, lowest_bit: int, count: int, width: int = 1,
                 read_only: bool = False) -> None:
        self.register, self.lowest_bit, self.count = register, lowest_bit, count
        self.width, self.read_only = width, read_only
        self.mask = ((1 << count) - 1) << lowest_bit

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: ChipDriver | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return (obj.read_register(self.register, self.width) & self.mask) >> self.lowest_bit

    def __set__(self, obj: ChipDriver, value: int) -> None:
        if self.read_only:
            raise AttributeError(f"{self.name} is read-only")
        value = int(value)
        if not 0 <= value < 1 << self.count:
            raise ChipRangeError(f"{self.name}: raw value {value} does not fit {self.count} bits")
        current = obj.read_for_update(self.register, self.width)
        new = (current & ~self.mask) | (value << self.lowest_bit)
        obj.write_register(self.register, new, self.width)


class Bit(Bits):
    """One flag bit, read as a bool."""

    def __init__(self, register: int, bit: int, width: int = 1, read_only: bool = False) -> None:
        super().__init__(register, bit, 1, width, read_only)

    def __get__(self, obj: ChipDriver | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return bool(super().__get__(obj, owner))

    def __set__(self, obj: ChipDriver, value: bool) -> None:
        super().__set__(obj, 1 if value else 0)


def check_range(what: str, value: float, lo: float, hi: float, unit: str, step: str = "") -> None:
    """Raise ChipRangeError with the range a person can choose from."""
    if not lo <= value <= hi:
        steps = f" in steps of {step}" if step else ""
        raise ChipRangeError(f"{what} {value:g} {unit} is out of range: "
                             f"choose {lo:g} to {hi:g} {unit}{steps}")
