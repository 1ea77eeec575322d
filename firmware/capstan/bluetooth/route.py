"""The seam between Bluetooth and the audio layer: where the sound should go.

The Bluetooth layer knows when an A2DP transport to a headphone is up (BlueALSA
added its PCM) and when the link is lost; the audio layer knows how to move
its output, fade and pause. :class:`HeadphoneRoute` carries the first to the
second and nothing else, so either side can be tested alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from capstan.bluetooth.defs import bluealsa_pcm_name

log = logging.getLogger(__name__)


class RouteListener(Protocol):
    """Implemented by the audio layer."""

    def headphones_ready(self, address: str, pcm: str) -> None:
        """Move the output to the ALSA PCM ``pcm`` (``bluealsa:DEV=…,PROFILE=a2dp``)."""
        ...

    def headphones_lost(self, address: str, pause: bool) -> None:
        """Fall back to the jack; if ``pause``, pause the tape transport too."""
        ...


@dataclass
class HeadphoneRoute:
    """Reports "A2DP transport up for ADDRESS" and "link lost", each once per change."""

    pause_on_loss: bool = True  # configurable: the tape does not play on unheard

    def __post_init__(self) -> None:
        self._listeners: list[RouteListener] = []
        self.active: str | None = None  # the headphone the sound goes to, if any

    def subscribe(self, listener: RouteListener) -> None:
        self._listeners.append(listener)

    @property
    def pcm(self) -> str | None:
        return bluealsa_pcm_name(self.active) if self.active else None

    def transport_up(self, address: str) -> None:
        if self.active == address:
            return
        self.active = address
        for listener in list(self._listeners):
            try:
                listener.headphones_ready(address, bluealsa_pcm_name(address))
            except Exception:
                log.exception("route listener failed on headphones_ready")

    def link_lost(self, address: str) -> None:
        if self.active != address:
            return
        self.active = None
        for listener in list(self._listeners):
            try:
                listener.headphones_lost(address, self.pause_on_loss)
            except Exception:
                log.exception("route listener failed on headphones_lost")
