"""I2C chip drivers: one chip per file, registers declared as data, SI units out.

They take any object with the smbus2 subset of capstan.hardware.protocols.I2CBus:
smbus2.SMBus on the Pi, capstan.sim.i2c.SimI2CBus with the register models of
capstan.sim.chips everywhere else.
"""
