"""The headphones' buttons as a remote: an MPRIS player registered with BlueZ.

BlueZ is the headphones' AVRCP target. A headphone's PASS THROUGH press becomes a
call of the player registered with ``org.bluez.Media1.RegisterPlayer`` (an
``org.mpris.MediaPlayer2.Player`` object on the player's own connection): PLAY →
``Play``, PAUSE → ``Pause``, STOP → ``Stop``, FORWARD → ``Next``, BACKWARD →
``Previous``. What the headphones (or a display) are told comes back the same way:
BlueZ reads ``PlaybackStatus``, ``Position`` and ``Metadata`` from the registration,
then follows ``PropertiesChanged`` and ``Seeked`` (it runs the position on by itself
while the status is Playing).

:func:`remote_actions` is the rule (pure): what a remote button does to the
transport in each state. :class:`Remote` runs it on the player and keeps the
published properties current; :class:`MprisPlayer` is the D-Bus face.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbus_fast import DBusError, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method, signal

from capstan.bluetooth import defs
from capstan.bluetooth.bluez import BluetoothError, call
from capstan.bluetooth.events import BluetoothEvent
from capstan.cassettes import CURRENT, CassetteMemory
from capstan.deck import transport as tp
from capstan.deck.events import SkipRequested
from capstan.devices import leds as lp
from capstan.events import Event, EventBus, Refused

log = logging.getLogger(__name__)

# D-Bus signatures as plain strings, evaluated when the methods are defined (as in
# agent.py): what dbus-fast takes from 1.x (Debian 12 has 1.84) to 5.x;
# dbus_fast.annotations exists only from 4.0.
DBusBool, DBusDict, DBusDouble, DBusInt64, DBusObjectPath, DBusStr = (
    "b", "a{sv}", "d", "x", "o", "s")

REMOTE_BUTTONS = ("play", "pause", "stop", "next", "previous")
NOT_WHILE_RECORDING = ("recording: the headphones' buttons do not control a recording "
                       "(use the player's buttons)")
IDENTITY = "Capstan"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
STATUS = {tp.State.PLAYING: "Playing", tp.State.FAST_FORWARD: "Playing",
          tp.State.REWIND: "Playing", tp.State.RECORDING: "Playing",
          tp.State.PAUSED: "Paused", tp.State.RECORD_PAUSED: "Paused"}  # else Stopped
WATCHED = ("transport", "track", "cassette_known", "cassette_length", "counter")
BOUNDARY_SLACK = 0.05  # s after a known track start before the new track is announced
SEEK_JUMP = 500_000  # µs: a position further than this from where BlueZ ran it is a jump

Action = tp.Press | tp.Skip | tp.Refuse


def remote_actions(state: tp.State, button: str, recording: bool = False,
                   searching: bool = False) -> list[Action]:
    """What a headphone button does, as the panel's buttons would do it.

    play: PLAY unless already playing; pause: PLAY (its pause) while playing, STOP while
    winding (a wind has no pause), nothing when already still; stop: STOP; next/previous:
    the long FF/REW press (the music search), or one more track while a search runs.
    With no cassette the PLAY/FF/REW press is refused exactly as the button is. While
    recording (or armed) nothing is done: a bumped headphone must not end a recording.
    """
    if button not in REMOTE_BUTTONS:
        raise ValueError(f"unknown remote button {button!r} (known: {', '.join(REMOTE_BUTTONS)})")
    if recording:
        return [tp.Refuse(button, NOT_WHILE_RECORDING)]
    if button == "play":
        return [] if state == tp.State.PLAYING else [tp.Press("play")]
    if button == "pause":
        if state in (tp.State.PLAYING, tp.State.NO_CASSETTE, tp.State.EJECTING):
            return [tp.Press("play")]
        if state in (tp.State.FAST_FORWARD, tp.State.REWIND):
            return [tp.Press("stop")]
        return []
    if button == "stop":
        return [tp.Press("stop")]
    if searching:
        return [tp.Skip(button)]
    key = "ff" if button == "next" else "rew"
    return [tp.Press(key), tp.Press(key, "long")]


@dataclass
class TransportPort:
    """What the headphones' remote needs of the player (app.py makes it): the transport
    as it is and a way to drive it, the cassette's memory, the status LED."""

    loop: asyncio.AbstractEventLoop
    bus: EventBus
    state: Callable[[], tp.State]  # the transport's state
    counter: Callable[[], float]  # seconds of tape before the head
    length: Callable[[], str | None]  # the cassette's length, once the counter named it
    side: Callable[[], str]  # the side facing the head
    track_number: Callable[[float], int]  # the track playing at a tape position
    recording: Callable[[], bool]  # recording, or armed to record
    searching: Callable[[], bool]  # a music search is under way
    command: Callable[[str, str], None]  # a button's gesture, as the panel gives it
    status_led: Any  # the status LED's LedPlayer (a refusal flashes it)
    memory: CassetteMemory  # the cassette's TOC and name


class Remote:
    """The player's side of the headphones' remote: commands in, properties out."""

    def __init__(self, port: TransportPort, address: Any) -> None:
        """`address()`: the connected headphones' address, or None."""
        self.port, self.loop = port, port.loop
        self.address = address
        self.iface = MprisPlayer(self)
        self.props: dict[str, Any] = {}
        self.registered = False
        self._bus: MessageBus | None = None
        self._adapter = ""
        self._timer: asyncio.TimerHandle | None = None
        self._unsubscribe: Any = None
        self._at = 0.0  # when `props` was taken

    # life ----------------------------------------------------------------------------
    async def start(self, bus: MessageBus, adapter: str) -> None:
        """Export the player and register it with BlueZ's Media1 on ADAPTER."""
        self._bus, self._adapter = bus, adapter
        self.props, self._at = self.snapshot(), self.loop.time()
        bus.export(defs.MPRIS_PATH, self.iface)
        self._unsubscribe = self.port.bus.subscribe(self._on_event, *WATCHED)
        try:
            await call(bus, defs.BLUEZ, adapter, defs.MEDIA, "RegisterPlayer", "oa{sv}",
                       [defs.MPRIS_PATH, self.registration()])
        except BluetoothError:
            self._forget()
            raise
        self.registered = True
        self._arm()

    async def stop(self) -> None:
        if self._bus is None:
            return
        if self.registered:
            self.registered = False
            try:
                await call(self._bus, defs.BLUEZ, self._adapter, defs.MEDIA, "UnregisterPlayer",
                           "o", [defs.MPRIS_PATH])
            except BluetoothError as exc:
                log.info("while unregistering the player: %s", exc)
        self._forget()

    def _forget(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._bus is not None:
            self._bus.unexport(defs.MPRIS_PATH, self.iface)
            self._bus = None

    # commands --------------------------------------------------------------------------
    def press(self, button: str) -> None:
        """A headphone button, as BlueZ called it: reported, then done as the panel would."""
        p = self.port
        p.bus.publish(BluetoothEvent("remote", self.address(), button=button))
        state = p.state()
        recording = state in tp.RECORD_STATES or p.recording()
        for action in remote_actions(state, button, recording, p.searching()):
            if isinstance(action, tp.Press):
                p.command(action.button, action.gesture)
            elif isinstance(action, tp.Skip):
                p.bus.publish(SkipRequested(action.direction))
            else:
                p.bus.publish(Refused(action.action, action.reason))
                p.status_led.flash(*lp.REFUSED_FLASH)

    # what is published ----------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """PlaybackStatus, Position (µs into the track) and Metadata, from the deck now."""
        p = self.port
        state, counter = p.state(), p.counter()
        track, start, length = self._track(counter)
        return {"PlaybackStatus": STATUS.get(state, "Stopped"),
                "Position": round(max(0.0, counter - start) * 1e6),
                "Metadata": self._metadata(state, track, length)}

    def registration(self) -> dict[str, Variant]:
        """The properties handed to RegisterPlayer (BlueZ reads these keys)."""
        props = self.snapshot()
        return {"PlaybackStatus": Variant("s", props["PlaybackStatus"]),
                "Position": Variant("x", props["Position"]),
                "Metadata": Variant("a{sv}", props["Metadata"]),
                "Identity": Variant("s", IDENTITY),
                **{name: Variant("b", True) for name in (
                    "CanPlay", "CanPause", "CanGoNext", "CanGoPrevious", "CanControl")}}

    def _track(self, counter: float) -> tuple[int | None, float, float | None]:
        """(track number, its start, its length) at COUNTER; (None, 0, None) with no TOC."""
        p = self.port
        tracks = p.memory.toc.tracks(p.side())
        if not tracks:
            return None, 0.0, None
        number = min(p.track_number(counter), len(tracks))
        t = tracks[number - 1]
        return number, t.start, None if t.end is None else t.end - t.start

    def _metadata(self, state: tp.State, track: int | None,
                  length: float | None) -> dict[str, Variant]:
        if state == tp.State.NO_CASSETTE:
            return {"mpris:trackid": Variant("o", NO_TRACK),
                    "xesam:title": Variant("s", "No cassette")}
        side = self.port.side()
        number = track or 1
        meta = {"mpris:trackid": Variant("o", f"/org/capstan/track/{side}{number}"),
                "xesam:title": Variant("s", f"Side {side}, track {number}"),
                "xesam:album": Variant("s", self.cassette_name()),
                "xesam:trackNumber": Variant("i", number)}
        if length is not None:
            meta["mpris:length"] = Variant("x", round(length * 1e6))
        return meta

    def cassette_name(self) -> str:
        """The cassette's given name, else what the player knows of it (its id, its length)."""
        memory = self.port.memory
        name = memory.extra.get("name")
        if isinstance(name, str) and name:
            return name
        length = self.port.length()
        what = f"Cassette {memory.id}" if memory.id != CURRENT else "Cassette"
        return f"{what} ({length})" if length else what

    def _on_event(self, t: float, event: Event) -> None:
        self.loop.call_soon(self.refresh)  # after the publisher has finished its step

    def refresh(self) -> None:
        """Tell BlueZ what changed: PropertiesChanged for status and metadata, Seeked when
        the position jumped (a wind, a search, a new track)."""
        if self._bus is None:
            return
        new, now = self.snapshot(), self.loop.time()
        old, self.props = self.props, new
        changed = {k: new[k] for k in ("PlaybackStatus", "Metadata") if new[k] != old.get(k)}
        if changed:
            self.iface.emit_properties_changed(changed)
        # BlueZ runs the position on by itself while Playing: tell it only of a jump
        ran = (now - self._at) * 1e6 if old.get("PlaybackStatus") == "Playing" else 0.0
        self._at = now
        if changed or abs(new["Position"] - old.get("Position", 0) - ran) > SEEK_JUMP:
            self.iface.Seeked(new["Position"])
        self._arm()

    def _arm(self) -> None:
        """While playing, wake when the tape reaches the next known track start."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        p = self.port
        if p.state() != tp.State.PLAYING:
            return
        counter = p.counter()
        upcoming = [m.position for m in p.memory.toc.marks[p.side()] if m.position > counter + 0.01]
        if upcoming:
            self._timer = self.loop.call_later(min(upcoming) - counter + BOUNDARY_SLACK,
                                               self.refresh)


class MprisPlayer(ServiceInterface):
    """``org.mpris.MediaPlayer2.Player`` as BlueZ's AVRCP target uses it."""

    def __init__(self, remote: Remote) -> None:
        super().__init__(defs.MPRIS_PLAYER)
        self._remote = remote

    @method()
    def Play(self):
        self._remote.press("play")

    @method()
    def Pause(self):
        self._remote.press("pause")

    @method()
    def PlayPause(self):
        playing = self._remote.snapshot()["PlaybackStatus"] == "Playing"
        self._remote.press("pause" if playing else "play")

    @method()
    def Stop(self):
        self._remote.press("stop")

    @method()
    def Next(self):
        self._remote.press("next")

    @method()
    def Previous(self):
        self._remote.press("previous")

    @method()
    def Seek(self, offset: DBusInt64):
        pass  # CanSeek is false: a tape is wound, not seeked (Next/Previous search)

    @method()
    def SetPosition(self, track: DBusObjectPath, position: DBusInt64):
        pass  # CanSeek is false

    @method()
    def OpenUri(self, uri: DBusStr):
        raise DBusError("org.mpris.MediaPlayer2.Player.Error.NotSupported",
                        "a cassette player opens no URIs")

    @signal()
    def Seeked(self, position: int) -> DBusInt64:
        return position

    @dbus_property(access=PropertyAccess.READ)
    def PlaybackStatus(self) -> DBusStr:
        return self._remote.snapshot()["PlaybackStatus"]

    @dbus_property(access=PropertyAccess.READ)
    def Position(self) -> DBusInt64:
        return self._remote.snapshot()["Position"]

    @dbus_property(access=PropertyAccess.READ)
    def Metadata(self) -> DBusDict:
        return self._remote.snapshot()["Metadata"]

    @dbus_property(access=PropertyAccess.READ)
    def Rate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def MinimumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def MaximumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=PropertyAccess.READ)
    def CanGoNext(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanGoPrevious(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanPlay(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanPause(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def CanSeek(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def CanControl(self) -> DBusBool:
        return True
