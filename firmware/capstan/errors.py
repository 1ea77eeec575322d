"""One root for every error Capstan raises; each says what to do about it."""


class CapstanError(Exception):
    """Base of all Capstan errors. The message is for a person: what is wrong, what to do."""


class BoardError(CapstanError):
    """hardware/board.toml is wrong, or the board cannot be opened."""


class ConfigError(CapstanError):
    """A configuration or scenario file is wrong; the message names the key."""


class HardwareFault(CapstanError):
    """A device did not answer as it should (I2C NACK, no tach pulses, ...)."""
