"""The headphones as an output of the audio chain: routing and volume per output.

:class:`HeadphoneOutput` is the audio layer's side of the route seam
(route.py): when BlueALSA has an A2DP PCM for a headphone it opens a
``BlueAlsaPlayback`` (off the loop: the ALSA plugin does blocking D-Bus calls),
binds it as the chain's ``bluetooth`` output and selects it (the chain fades
over); when the link is lost it unbinds it (the jack fades back in) and, if so
configured, pauses a playing tape. PLAY resumes, as always.

:class:`OutputVolumes` gives VOL+/VOL- to whichever output is active: the
chain's software volume for the jack, BlueALSA's ``PCM1.Volume`` (the
headphones' own absolute volume) for headphones, with the chain at unity so
the headphones get the full-resolution signal. Each output's level is
remembered (per headphone address) and comes back with it; a change made with
the headphones' own buttons (absolute volume) becomes their remembered level.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from typing import Any, Protocol

from capstan.audio.outputs import JACK
from capstan.hardware.protocols import PlaybackStream

log = logging.getLogger(__name__)

BLUETOOTH = "bluetooth"  # the chain's output name for headphones
HEADPHONE_STEPS = 16  # VOL presses from silent to full on headphones
HEADPHONE_DEFAULT = 80  # 0..127, BlueALSA's scale, for headphones heard the first time

StreamOpener = Callable[[str], PlaybackStream]


class Chain(Protocol):
    """What is used of capstan.audio.chain.AudioChain."""

    outputs: Any

    @property
    def volume(self) -> float: ...

    def set_volume(self, volume: float) -> None: ...

    def step_volume(self, steps: int) -> float: ...

    def select_output(self, name: str, reason: str = "") -> None: ...


class HeadphoneVolume(Protocol):
    """What is used of HeadphonesService for volume."""

    async def set_volume(self, level: int) -> None: ...

    def volume(self) -> int | None: ...


class OutputVolumes:
    """VOL+/VOL- on the active output; levels remembered in ``memory`` (output -> level)."""

    def __init__(self, chain: Chain, memory: MutableMapping[str, float],
                 save: Callable[[dict[str, float]], None] = lambda levels: None) -> None:
        self.chain, self.memory, self._save = chain, memory, save
        self.headphones: HeadphoneVolume | None = None
        self.on_headphones: str | None = None  # the address while headphones are active
        self._task: asyncio.Task | None = None

    def step(self, steps: int) -> None:
        """A VOL press (+1 / -1) or repeat on the active output."""
        if self.on_headphones is None or self.headphones is None:
            self.memory[JACK] = round(self.chain.step_volume(steps), 4)
            self._save(dict(self.memory))
            return
        now = self.headphones.volume()
        level = int(self.memory.get(self.on_headphones, HEADPHONE_DEFAULT if now is None else now))
        level = max(0, min(127, level + round(steps * 127 / HEADPHONE_STEPS)))
        self._set_headphones(self.on_headphones, level)

    def headphones_on(self, address: str) -> None:
        """Headphones became the output: chain at unity, their remembered level back."""
        self.on_headphones = address
        self.memory.setdefault(JACK, round(self.chain.volume, 4))
        self.chain.set_volume(1.0)
        level = self.memory.get(address)
        if level is not None:
            self._set_headphones(address, int(level))

    def headphones_changed(self, address: str, level: int) -> None:
        """The headphones' own buttons set their volume: that is now their remembered level
        (the next VOL press steps from it; nothing is sent back, so nothing jumps)."""
        self.memory[address] = level
        self._save(dict(self.memory))

    def headphones_off(self) -> None:
        """Back on the jack: the jack's own level returns."""
        self.on_headphones = None
        if JACK in self.memory:
            self.chain.set_volume(float(self.memory[JACK]))

    def level(self) -> float | int | None:
        if self.on_headphones is not None and self.headphones is not None:
            return self.headphones.volume()
        return round(self.chain.volume, 3)

    def _set_headphones(self, address: str, level: int) -> None:
        self.memory[address] = level
        self._save(dict(self.memory))
        if self.headphones is None:
            return
        previous = self._task
        self._task = asyncio.get_running_loop().create_task(self._apply(previous, level))

    async def _apply(self, previous: asyncio.Task | None, level: int) -> None:
        if previous is not None and not previous.done():
            await asyncio.gather(previous, return_exceptions=True)  # in press order
        try:
            await self.headphones.set_volume(level)  # type: ignore[union-attr]
        except Exception as exc:  # the headphones went away meanwhile: remembered anyway
            log.info("headphone volume not set: %s", exc)


class HeadphoneOutput:
    """The audio layer's RouteListener: the chain follows the headphones."""

    def __init__(self, chain: Chain, open_stream: StreamOpener, volumes: OutputVolumes,
                 pause: Callable[[], None], loop: asyncio.AbstractEventLoop,
                 in_thread: bool = True) -> None:
        """`in_thread`: open and close streams off the loop (False: the simulator's streams)."""
        self.chain, self.open_stream, self.volumes = chain, open_stream, volumes
        self.pause, self.loop, self.in_thread = pause, loop, in_thread
        self.address: str | None = None  # the headphone being (or about to be) played to
        self._opening: asyncio.Future | None = None

    def headphones_ready(self, address: str, pcm: str) -> None:
        self.address = address
        if self.in_thread:
            self._opening = self.loop.run_in_executor(None, self.open_stream, address)
        else:
            self._opening = self.loop.create_future()
            try:
                self._opening.set_result(self.open_stream(address))
            except Exception as exc:
                self._opening.set_exception(exc)
            self._opened(address, self._opening)
            return
        self._opening.add_done_callback(lambda f, a=address: self._opened(a, f))

    def _opened(self, address: str, future: asyncio.Future) -> None:
        if future.cancelled():
            return
        if future.exception() is not None:
            log.warning("headphones %s: no audio: %s", address, future.exception())
            return
        stream = future.result()
        if self.address != address:  # lost while it opened
            self._close(stream)
            return
        self.chain.outputs.add(BLUETOOTH, stream)
        self.volumes.headphones_on(address)
        self.chain.select_output(BLUETOOTH, f"headphones {address} connected")

    def headphones_lost(self, address: str, pause: bool) -> None:
        if self.address != address:
            return
        self.address = None
        stream = self.chain.outputs.remove(BLUETOOTH)  # the jack fades back in
        self.volumes.headphones_off()
        if stream is not None:
            self._close(stream)
        if pause:
            self.pause()

    def _close(self, stream: Any) -> None:
        if self.in_thread:
            self.loop.run_in_executor(None, stream.close)
        else:
            stream.close()

    def close(self) -> None:
        """Unbind and close the headphones' stream (shutdown); no pause."""
        if self.address is not None:
            self.headphones_lost(self.address, pause=False)
