"""Capstan: the firmware of a DIY Bluetooth cassette player."""

__version__ = "0.1.0"
