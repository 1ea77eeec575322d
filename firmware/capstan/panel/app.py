"""The front panel: the firmware live on a simulated deck, in a terminal, in real time.

One event loop: Textual's. On mount the bench (SimDeck + simulated board +
Player) is built on it and started; on unmount it is stopped in `finally`.
A timer redraws the read-outs fifteen times a second from the bench's truth.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from capstan.panel.bench import HOLD, Bench
from capstan.panel.choose import ChoiceScreen
from capstan.panel.shelf import Choice, Shelf, default_data_dir
from capstan.panel.widgets import (
    NOT_YET,
    CassetteWindow,
    Headphones,
    Leds,
    Mechanism,
    Meters,
    Power,
    Transport,
)
from capstan.sim.cassette import Cassette
from capstan.sim.deck import FAULTS

FRAME = 1 / 15  # s between redraws

# (key, what it does, action) — the bindings and the help line are made from this one table
KEYS: list[tuple[str, str, str]] = [
    ("p", "PLAY", "press('play')"),
    ("s", "STOP", "press('stop')"),
    ("f", "FF", "press('ff')"),
    ("r", "REW", "press('rew')"),
    ("o", "REC", "press('rec')"),
    ("b", "PAIR", "press('pair')"),
    ("plus", "VOL+", "press('vol_up')"),
    ("minus", "VOL-", "press('vol_down')"),
    ("P", "hold PLAY", "hold('play')"),
    ("S", "hold STOP", "hold('stop')"),
    ("F", "hold FF", "hold('ff')"),
    ("R", "hold REW", "hold('rew')"),
    ("B", "hold PAIR", "hold('pair')"),
    ("i", "insert…", "insert"),
    ("e", "eject", "eject"),
    ("t", "turn over", "flip"),
    ("x", "fault…", "fault"),
    ("h", "headphones pairing", "headphones"),
    ("n", "B-type NR", "nr"),
    ("q", "quit", "quit"),
]
_SHOWN = {"plus": "+", "minus": "-"}
HELP = "  ".join(f"[b]{_SHOWN.get(k, k)}[/b] {what}" for k, what, _ in KEYS)

BUTTONS = [("play", "PLAY ▶"), ("stop", "STOP ■"), ("rew", "◀◀ REW"), ("ff", "FF ▶▶"),
           ("rec", "REC ●"), ("pair", "PAIR"), ("vol_down", "VOL-"), ("vol_up", "VOL+")]
HANDS = [("insert", "insert…"), ("eject", "eject ⏏"), ("flip", "turn over"),
         ("fault", "fault…"), ("headphones", "headphones pairing")]


class PanelApp(App[int]):
    CSS_PATH = "panel.tcss"
    TITLE = "Capstan — simulated deck"
    BINDINGS: ClassVar[list[Binding]] = [
        Binding(k, action, what, show=False, priority=k in ("plus", "minus"))
        for k, what, action in KEYS
    ]

    def __init__(self, data_dir: Path | None = None, cassette: Path | None = None,
                 seed: int = 0, sound_device: str | None = "default",
                 demo_wav: Path | None = None, insert_demo: bool = False) -> None:
        super().__init__()
        self.insert_demo = insert_demo  # start with the demo mixtape in the well
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.cassette_dir = Path(cassette) if cassette else None
        self.seed = seed
        self.sound_device = sound_device
        self.demo_wav = demo_wav
        self.bench: Bench | None = None
        self.shelf: Shelf | None = None
        self._last = 0.0
        self._lines = -1

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield CassetteWindow(id="window")
            with Vertical(id="side"):
                yield Transport(id="transport")
                yield Leds(id="leds")
                yield Power(id="power")
                yield Headphones(id="headphones")
        with Horizontal(id="buttons"):
            for role, label in BUTTONS:
                yield Button(label, id=f"press-{role}", classes="deck-button")
        with Horizontal(id="hands"):
            for action, label in HANDS:
                yield Button(label, id=f"do-{action}", classes="hand")
        yield Mechanism(id="mechanism")
        yield Meters(id="meters")
        yield Static(id="log")
        yield Static(HELP, id="help")

    # the bench's life -----------------------------------------------------------------
    async def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        self.bench = Bench(loop, self.data_dir, self.seed, self.sound_device)
        self.shelf = Shelf(self.data_dir, self.bench.description.mechanism, self.demo_wav,
                           extra=self.cassette_dir)
        if self.cassette_dir is not None:
            self.bench.insert(Cassette.open(self.cassette_dir, self.bench.description.mechanism))
        elif self.insert_demo:
            demo = self.shelf.choices()[0]
            if demo.kind == "demo" and demo.available:
                self.bench.insert(self.shelf.take(demo))
        # the read-outs, found now: a modal screen on top hides them from later queries
        self._window = self.query_one(CassetteWindow)
        self._readouts = [self.query_one(kind) for kind in
                          (Transport, Leds, Power, Headphones, Mechanism, Meters)]
        self._log = self.query_one("#log", Static)
        if self.bench.deck.hand:  # the keys of a mechanism moved by hand: they latch
            for role, label in BUTTONS:
                if role in ("play", "stop", "ff", "rew", "rec"):
                    self.query_one(f"#press-{role}", Button).label = f"{label} key"
        await self.bench.start()
        self._last = loop.time()
        self.redraw()
        self.set_interval(FRAME, self.redraw)

    async def on_unmount(self) -> None:
        if self.bench is not None:
            try:
                await self.bench.stop()
            finally:
                self.bench = None

    def redraw(self) -> None:
        bench = self.bench
        if bench is None or not bench.started:
            return
        now = bench.loop.time()
        dt, self._last = now - self._last, now
        self._window.show(bench, dt)
        for readout in self._readouts:
            readout.show(bench)
        if len(bench.lines) != self._lines or bench.lines.maxlen == len(bench.lines):
            self._lines = len(bench.lines)
            self._log.update("\n".join(list(bench.lines)[-5:]))

    # actions ----------------------------------------------------------------------------
    def action_press(self, button: str) -> None:
        if self.bench:
            self.bench.press(button)

    def action_hold(self, button: str) -> None:
        if self.bench:
            self.bench.press(button, hold=HOLD)
            self.bench.note(f"holding {button.upper()} for {HOLD:g} s")

    def action_insert(self) -> None:
        if self.shelf is None:
            return
        choices = self.shelf.choices()
        labels = [c.label + (f" — {c.why_not}" if c.why_not else "") for c in choices]

        def chosen(index: int | None) -> None:
            if index is not None:
                self.run_worker(self._insert(choices[index]), exclusive=True, group="insert")

        self.push_screen(ChoiceScreen("Insert a cassette", labels,
                                      [not c.available for c in choices]), chosen)

    async def _insert(self, choice: Choice) -> None:
        assert self.shelf is not None and self.bench is not None
        self.bench.note(f"taking {choice.label} from the shelf")
        try:
            cassette = await asyncio.to_thread(self.shelf.take, choice)
        except Exception as exc:
            self.bench.note(f"could not take {choice.label}: {exc}")
            return
        if self.bench is not None:
            self.bench.insert(cassette)

    def action_eject(self) -> None:
        if self.bench and self.bench.eject() is None:
            self.bench.note("no cassette to eject")

    def action_flip(self) -> None:
        if self.bench:
            self.bench.flip()

    def action_fault(self) -> None:
        def chosen(index: int | None) -> None:
            if index is not None and self.bench:
                self.bench.fault(FAULTS[index])

        self.push_screen(ChoiceScreen("Inject a fault", list(FAULTS)), chosen)

    def action_headphones(self) -> None:
        """The simulated headphones ("Sim Cans") into pairing mode; hold PAIR to pair them."""
        bench = self.bench
        if bench is None:
            return
        headphones = getattr(bench.deck, "headphones", None)
        start_pairing = getattr(headphones, "start_pairing", None)
        if callable(start_pairing):
            start_pairing()
            bench.note("headphones: pairing mode — hold PAIR (B) to pair them")
        else:
            why = bench.player.headphones.unavailable or NOT_YET
            bench.note(f"headphones: no simulated Bluetooth ({why})")
            self.notify(f"No simulated Bluetooth headphones: {why}", title="headphones")

    def action_nr(self) -> None:
        """The B-type noise reduction on or off for the cassette in the well (PAIR+PLAY)."""
        bench = self.bench
        if bench is None:
            return
        on = bench.player.nr.toggle("panel")
        bench.note(f"B-type noise reduction {'on' if on else 'off'}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        name = event.button.id or ""
        if name.startswith("press-"):
            self.action_press(name.removeprefix("press-"))
        elif name.startswith("do-"):
            getattr(self, f"action_{name.removeprefix('do-')}")()
