"""One root for every error Capstan raises; each says what to do about it."""


class CapstanError(Exception):
    """Base of all Capstan errors. The message is for a person: what is wrong, what to do."""


class BoardError(CapstanError):
    """hardware/board.toml is wrong, or the board cannot be opened."""


class ConfigError(CapstanError):
    """Bad input: a configuration, scenario, board or audio file (or an option) is wrong.

    The message names the file and the key; `capstan` exits 2 and has written nothing."""


class BoardFileError(BoardError, ConfigError):
    """The board description file is wrong (bad input: exit 2), the message names the key."""


class HardwareFault(CapstanError):
    """A device did not answer as it should (I2C NACK, no tach pulses, ...)."""
