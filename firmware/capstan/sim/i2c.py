"""A simulated I2C bus with register-level chip models behind smbus2's methods.

The real chip drivers run unchanged against it. Faults: a NACK burst (OSError
errno 121, as smbus2 raises it) and garbage reads.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Sequence


class RegisterModel:
    """Base of a chip model: 8-bit register addresses, byte-wide storage.

    Subclasses override ``read_register``/``write_register`` for registers
    with side effects, and ``step(dt)`` for behaviour over time.
    """

    name = "chip"

    def __init__(self) -> None:
        self.registers: dict[int, int] = {}

    def read_register(self, register: int) -> int:
        return self.registers.get(register, 0) & 0xFF

    def write_register(self, register: int, value: int) -> None:
        self.registers[register] = value & 0xFF

    def read(self, register: int, length: int) -> list[int]:
        return [self.read_register((register + i) & 0xFF) for i in range(length)]

    def write(self, register: int, data: Sequence[int]) -> None:
        for i, value in enumerate(data):
            self.write_register((register + i) & 0xFF, value)

    def step(self, dt: float) -> None:
        """Advance the model by dt simulated seconds."""


class SimI2CBus:
    """Stands in for smbus2.SMBus(1)."""

    def __init__(self, seed: int = 0) -> None:
        self.devices: dict[int, RegisterModel] = {}
        self._nack: dict[int | None, int] = {}
        self._garbage: dict[int | None, int] = {}
        self._rng = random.Random(seed)
        self.transfers = 0

    def attach(self, address: int, model: RegisterModel) -> RegisterModel:
        self.devices[address] = model
        return model

    # fault injection -----------------------------------------------------
    def inject_nack(self, count: int, address: int | None = None) -> None:
        """The next `count` transfers to `address` (None: any) are not acknowledged."""
        self._nack[address] = self._nack.get(address, 0) + count

    def inject_garbage(self, count: int, address: int | None = None) -> None:
        """The next `count` reads from `address` return random bytes."""
        self._garbage[address] = self._garbage.get(address, 0) + count

    def _take(self, faults: dict[int | None, int], address: int) -> bool:
        for key in (address, None):
            if faults.get(key, 0) > 0:
                faults[key] -= 1
                return True
        return False

    def _device(self, address: int) -> RegisterModel:
        self.transfers += 1
        if self._take(self._nack, address) or address not in self.devices:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return self.devices[address]

    # smbus2 subset -------------------------------------------------------
    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int) -> list[int]:
        device = self._device(i2c_addr)
        if self._take(self._garbage, i2c_addr):
            return [self._rng.randrange(256) for _ in range(length)]
        return device.read(register, length)

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: Sequence[int]) -> None:
        self._device(i2c_addr).write(register, data)

    def read_byte_data(self, i2c_addr: int, register: int) -> int:
        return self.read_i2c_block_data(i2c_addr, register, 1)[0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int) -> None:
        self.write_i2c_block_data(i2c_addr, register, [value])

    def step(self, dt: float) -> None:
        for device in self.devices.values():
            device.step(dt)

    def close(self) -> None:
        pass
