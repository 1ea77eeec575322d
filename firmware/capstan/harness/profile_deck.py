"""A deck with a profile's mechanism in simulated time: transport, mechanism device,
rotation auto-stop and record relay, over the simulated mechanism's signals.

For the CRP42602Y the device drives the simulated part's solenoid and motor and
reads its GEAR_STATUS_SW, ROTATION_SENS, REC_A_SW/REC_B_SW and CASSETTE_DETECT_SW;
for the mechanical profile a scenario presses the keys (`press_keys`) and the
firmware runs only the motor. Every transport event is recorded with its side and
direction (`events`), as the player's bus carries them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from capstan.deck import transport as tp
from capstan.deck.rotation import RotationWatch
from capstan.devices.crp42602y import Crp42602yMechanism
from capstan.devices.hand_mechanism import HandMechanism
from capstan.hardware.profiles import CAPABILITIES, ProfileTable
from capstan.sim.clock import SimulatedTimeLoop
from capstan.sim.crp42602y import Crp42602y, Function

WATCH_PERIOD = 0.05  # s


class Walkman(Crp42602y):
    """A walkman's mechanism: the same tape and take-up sensor, moved by its keys."""

    keys: frozenset[str] = frozenset()

    def press(self, keys: frozenset[str], t: float) -> None:
        self.advance(t)
        self.keys = keys
        if "play" in keys:
            self.gear, self.function = "function", Function(False, True, True)
        elif "ff" in keys or "rew" in keys:
            self.gear, self.function = "function", Function(False, False, "ff" in keys)
        else:
            self.gear, self.function = "stop", None


class ProfileDeck:
    def __init__(self, profile: str, table: ProfileTable, model: Crp42602y,
                 reverse: str = "one_way", loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or SimulatedTimeLoop()
        self.model = model
        self.deck = tp.Deck(caps=CAPABILITIES[profile], reverse=reverse)
        self.watch = RotationWatch(table.stop_window)
        self.events: list[dict[str, Any]] = []
        self.relay = False
        self.relay_log: list[tuple[float, str, bool]] = []  # (time, side, tab) when engaged
        self.motor_off_at: float | None = None
        self._since: float | None = None
        now = self.loop.time
        if profile == "crp42602y":
            self.mech: Any = Crp42602yMechanism(
                lambda lv: model.solenoid(lv, now()), self._motor,
                lambda: model.gear_status(now()), table, self.loop,
                release_relay=self._release, on_error=self._gear_error)
        else:
            self.mech = HandMechanism(self._motor, release_relay=self._release,
                                      clock=self.loop.time)
        self._tick = self.loop.call_soon(self._watch)

    # the world --------------------------------------------------------------
    def _motor(self, on: bool) -> None:
        self.model.set_motor(on, self.loop.time())
        if not on:
            self.motor_off_at = self.loop.time()

    def _release(self) -> None:
        self.relay = False

    def insert(self) -> None:
        self.model.cassette = True
        self.dispatch(tp.CassetteIn(tab=self.model.rec_tab("A"),
                                    tab_other=self.model.rec_tab("B")))

    def eject(self) -> None:
        self.model.advance(self.loop.time())
        self.model.cassette = False
        self.dispatch(tp.CassetteOut())

    def press(self, button: str, gesture: str = "press") -> None:
        self.dispatch(tp.Press(button, gesture))

    def press_keys(self, *keys: str) -> None:
        assert isinstance(self.model, Walkman)
        self.model.press(frozenset(keys), self.loop.time())
        self.dispatch(tp.Keys(frozenset(keys)))

    def run_until(self, t: float) -> None:
        if t > self.loop.time():
            self.loop.run_until_complete(asyncio.sleep(t - self.loop.time()))

    # the firmware -----------------------------------------------------------
    def dispatch(self, event: tp.Event) -> None:
        now = self.loop.time()
        before = self.deck
        self.deck, cmds = tp.step(self.deck, event, now)
        self._enforce()
        for cmd in cmds:
            if isinstance(cmd, tp.SetMode):
                self._since = None
                self.mech.set_mode(cmd.mode, cmd.side)
            elif isinstance(cmd, tp.Halt):
                self._since = None
                self.mech.off()
                self.events.append({"type": "safety", "what": cmd.what, "reason": cmd.reason,
                                    "side": before.side, "at": now})
            elif isinstance(cmd, tp.Refuse):
                self.events.append({"type": "refused", "action": cmd.action,
                                    "reason": cmd.reason, "at": now})
        d = self.deck
        if (d.state, d.side) != (before.state, before.side):
            self.events.append({"type": "transport", "state": d.state.value, "side": d.side,
                                "direction": d.direction, "at": now})

    def _gear_error(self, reason: str) -> None:
        self.dispatch(tp.Fault("gear", reason))

    def _enforce(self) -> None:
        """The record relay: only recording, the facing side's tab present, the gear settled."""
        d = self.deck
        ok = (d.state == tp.State.RECORDING and self.model.rec_tab(d.side)
              and self.mech.settled and self.mech.mode == tp.Mode.PLAY)
        if ok and not self.relay:
            self.relay_log.append((self.loop.time(), d.side, self.model.rec_tab(d.side)))
        self.relay = bool(ok)

    def _watch(self) -> None:
        now = self.loop.time()
        self.model.advance(now)
        self._enforce()
        if self.deck.moving and self.mech.settled and self.mech.mode != tp.Mode.STOP:
            if self._since is None:
                self._since = now
            edges = self.model.edges
            last = edges[-1] if edges else None
            recent = edges[-5:]
            period = ((recent[-1] - recent[0]) / (len(recent) - 1)) if len(recent) > 2 else None
            if self.watch.stopped(self._since, now, last, period):
                self.dispatch(tp.TapeStopped("end" if self.deck.direction == "forward"
                                             else "start"))
        self._tick = self.loop.call_at(now + WATCH_PERIOD, self._watch)

    def close(self) -> None:
        self._tick.cancel()
        self.loop.close()
