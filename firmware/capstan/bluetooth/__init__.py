"""Bluetooth headphones: pair only when asked, reconnect by themselves, audio follows them.

The daemon needs :class:`HeadphonesService` (life cycle, PAIR, forget, volume,
status), :class:`HeadphoneRoute` (the seam to the audio layer) and
:class:`BlueAlsaPlayback` (a PlaybackStream to the headphones). Imports are
lazy so that ``import capstan.bluetooth`` costs nothing at start-up.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BlueAlsaPlayback", "BluetoothConfig", "BluetoothEvent", "HeadphoneRoute",
           "HeadphonesService"]

_WHERE = {"HeadphonesService": "service", "BluetoothConfig": "service",
          "HeadphoneRoute": "route", "BlueAlsaPlayback": "playback", "BluetoothEvent": "events"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"capstan.bluetooth.{_WHERE[name]}"), name)
