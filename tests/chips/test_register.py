from __future__ import annotations

import errno

import pytest

from capstan.chips.register import Bit, Bits, ChipDriver, ChipRangeError, Register
from capstan.sim.i2c import RegisterModel, SimI2CBus


class Toy(ChipDriver):
    word = Register(0x10, width=2)
    signed = Register(0x12, width=2, signed=True, read_only=True)
    field = Bits(0x20, lowest_bit=2, count=3)
    flag = Bit(0x20, 7)


@pytest.fixture
def toy() -> tuple[Toy, RegisterModel, SimI2CBus]:
    bus = SimI2CBus(seed=3)
    model = bus.attach(0x50, RegisterModel())
    return Toy(bus, 0x50), model, bus


def test_words_are_big_endian_and_signed_words_twos_complement(toy) -> None:
    chip, model, _ = toy
    chip.word = 0x1234
    assert (model.registers[0x10], model.registers[0x11]) == (0x12, 0x34)
    model.registers[0x12], model.registers[0x13] = 0xFF, 0xFE
    assert chip.signed == -2
    with pytest.raises(AttributeError):
        chip.signed = 1
    with pytest.raises(ChipRangeError):
        chip.word = 0x10000


def test_fields_change_only_their_bits(toy) -> None:
    chip, model, _ = toy
    model.registers[0x20] = 0b0100_0011
    chip.field = 0b101
    assert model.registers[0x20] == 0b0101_0111
    chip.flag = True
    assert model.registers[0x20] == 0b1101_0111 and chip.flag and chip.field == 0b101
    with pytest.raises(ChipRangeError):
        chip.field = 8


def test_one_garbage_read_is_not_written_back(toy) -> None:
    chip, model, bus = toy
    model.registers[0x20] = 0b0000_0001
    bus.inject_garbage(1, 0x50)
    chip.flag = True
    assert model.registers[0x20] == 0b1000_0001


def test_a_register_that_never_reads_the_same_is_not_modified(toy) -> None:
    chip, model, bus = toy
    model.registers[0x20] = 0x01
    bus.inject_garbage(10, 0x50)
    with pytest.raises(OSError) as info:
        chip.flag = True
    assert info.value.errno == errno.EIO
    assert model.registers[0x20] == 0x01
