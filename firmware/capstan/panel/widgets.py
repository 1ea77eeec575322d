"""The panel's read-outs, each a Static that redraws itself from the bench."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from capstan.panel.bench import Bench
from capstan.panel.sound import FLOOR_DB
from capstan.panel.window import Reel, ReelSpin, draw_window

TAPE_TYPES = {"I": "Type I (normal)", "II": "Type II (chrome)", "IV": "Type IV (metal)"}
LED_COLOURS = {"status": "green", "rec": "red", "bt": "dodger_blue1", "charge": "orange1"}
NOT_YET = "not available yet"


class Readout(Static):
    """A Static that only redraws (and relayouts) when what it shows changed."""

    _shown: Text | None = None

    def show_text(self, text: Text) -> None:
        if text != self._shown:
            self._shown = text
            self.update(text)


def clock(seconds: float) -> str:
    s = round(max(seconds, 0.0))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60:02d}:{s % 60:02d}"


class CassetteWindow(Readout):
    """Both reels, to scale, turning at the rpm the simulated tachometers turn at."""

    def on_mount(self) -> None:
        self.supply = ReelSpin()
        self.take_up = ReelSpin()
        self._still: tuple[Any, ...] | None = None

    def show(self, bench: Bench, dt: float) -> None:
        m = bench.deck.motion
        c = bench.cassette
        if c is None:
            self.supply.advance(0.0, dt)
            self.take_up.advance(0.0, dt)
            self.show_text(Text("\n\n\n      (no cassette: press i to insert one)\n", "grey50"))
            return
        self.supply.advance(m.supply.rpm, dt)
        self.take_up.advance(m.take_up.rpm, dt)
        still = (self.supply.angle, self.take_up.angle, c.position, m.spill, c.name, c.side,
                 m.supply.rpm, m.take_up.rpm)
        if still == self._still:
            return
        self._still = still
        hub = bench.description.mechanism.hub_radius
        on_take_up = c.position
        on_supply = c.duration - c.position - m.spill
        art = draw_window(Reel(hub, c.pack_radius(on_supply), self.supply.angle),
                          Reel(hub, c.pack_radius(on_take_up), self.take_up.angle))
        art.append("\n")
        art.append(f" supply {abs(m.supply.rpm):5.1f} rpm", "grey70")
        art.append(" " * 14)
        art.append(f"take-up {abs(m.take_up.rpm):5.1f} rpm", "grey70")
        if m.spill > 0:
            art.append(f"\n ⚠ {m.spill * bench.description.mechanism.nominal_speed:.2f} m of "
                       "tape pulled out (stalled reel)", "bold red")
        self.show_text(art)
        tab = "tab present" if c.tab_present() else "tab broken out (protected)"
        self.border_title = f"{c.name or c.directory.name} · side {c.side}"
        self.border_subtitle = f"{c.length} · {TAPE_TYPES.get(c.tape_type, c.tape_type)} · {tab}"


class Transport(Readout):
    """The transport state, the counter and what is left of the side."""

    def show(self, bench: Bench) -> None:
        p = bench.player
        c = bench.cassette
        state = p.deck.state.value.replace("_", " ").upper()
        t = Text()
        t.append(f"{state}\n", "bold reverse" if state != "STOPPED" else "bold")
        arrow = {"forward": "▶", "backward": "◀", "still": "■"}[p.deck.direction]
        t.append("side       ", "grey70")
        t.append(f"{p.deck.side} {arrow} {p.deck.direction}\n", "bold")
        if p.keys:  # a mechanism moved by hand: the keys down, as their leaf switches say
            down = " + ".join(k.upper() for k in sorted(p.keys_down())) or "none"
            t.append("keys       ", "grey70")
            t.append(f"{down}", "bold")
            t.append("  (mechanical, latched by hand)\n", "grey50")
        t.append("counter    ", "grey70")
        t.append(f"{clock(p.counter)}\n", "bold")
        remaining = p.tape_counter.remaining  # the firmware's estimate, once it has one
        if isinstance(remaining, int | float):
            t.append("remaining  ", "grey70")
            t.append(f"{clock(remaining)}\n", "bold")
        if c is not None:
            lead = bench.description.mechanism.leader
            t.append("tape left  ", "grey70")
            t.append(f"{clock(max(c.duration - lead - c.position, 0.0))}", "bold")
            t.append("  (simulator)\n", "grey50")
            t.append("speed      ", "grey70")
            t.append(f"{bench.deck.motion.speed:+.2f}× nominal\n")
        t.append("volume     ", "grey70")
        t.append(f"{_volume(p):.0%}\n")
        t.append("NR         ", "grey70")
        t.append("B on" if getattr(getattr(p, "audio", None), "nr_on", False) else "off",
                 "bold" if getattr(getattr(p, "audio", None), "nr_on", False) else "")
        self.show_text(t)


def _volume(player: Any) -> float:
    audio = getattr(player, "audio", None)
    return float(getattr(audio, "volume", 0.0) or 0.0)


class Leds(Readout):
    def show(self, bench: Bench) -> None:
        t = Text()
        for role in bench.description.leds:
            level = float(bench.deck.outputs.get(f"led_{role}", 0.0))
            colour = LED_COLOURS.get(role, "white")
            t.append("●" if level > 0.02 else "○", colour if level > 0.02 else "grey35")
            t.append(f" {role.upper():<7}", "bold" if level > 0.5 else "grey70")
        self.show_text(t)


class Mechanism(Readout):
    """What the firmware drives: motor, solenoids, relay, and what the tape does."""

    def show(self, bench: Bench) -> None:
        o = bench.deck.outputs
        m = bench.deck.motion
        reverse = " reverse" if o.get("motor_reverse") else ""
        parts = [f"motor {o.get('motor', 0.0):.0%}{reverse}",
                 "head on tape" if o.get("head_solenoid") else "head off",
                 "idler in" if o.get("wind_idler") else "idler out",
                 "REC relay on" if o.get("record_relay") else "relay off",
                 "line-in" if o.get("adc_mux") else "playhead",
                 "DAC on" if o.get("dac_unmute") else "DAC muted"]
        t = Text(" · ".join(parts))
        if m.strain:
            t.append("  motor straining", "bold red")
        if m.stalled:
            t.append(f"  stalled: {', '.join(sorted(m.stalled))}", "bold red")
        self.show_text(t)


class Meters(Readout):
    """Peak (bar) and RMS (figure), −60..0 dBFS: the firmware's own meters on the tape's
    signal (the audio chain's, when it has them) and what the jack plays (the panel's tee)."""

    WIDTH = 30

    def show(self, bench: Bench) -> None:
        rows: list[tuple[str, list[float], list[float]]] = []
        chain = getattr(getattr(bench.player, "audio", None), "meters", None)
        if chain is not None and hasattr(chain, "peak_dbfs"):
            rows.append(("tape", list(chain.peak_dbfs), list(chain.rms_dbfs)))
        rows.append(("jack", bench.meter.peak_db, bench.meter.rms_db))
        if getattr(bench, "bluetooth", None) is not None:  # what the headphones are sent
            hp = bench.headphones_meter
            rows.append(("bt", hp.peak_db, hp.rms_db))
        t = Text()
        for source, peaks, rmss in rows:
            for ch, name in enumerate("LR"):
                if ch >= len(peaks):
                    break
                peak, rms = max(peaks[ch], FLOOR_DB), max(rmss[ch], FLOOR_DB)
                t.append(f"{source if ch == 0 else '':<5}{name} ", "bold")
                n = round((peak - FLOOR_DB) / -FLOOR_DB * self.WIDTH)
                for i in range(self.WIDTH):
                    db = FLOOR_DB + (i + 1) * -FLOOR_DB / self.WIDTH
                    colour = "red" if db > -3 else "yellow" if db > -12 else "green"
                    t.append("█" if i < n else "·", colour if i < n else "grey23")
                t.append(f" {peak:6.1f} pk {rms:6.1f} rms dBFS\n")
        t.rstrip()
        self.show_text(t)


class Power(Readout):
    """Battery and charger as the firmware reads them, once a power service is wired."""

    def show(self, bench: Bench) -> None:
        st = _status(bench.player, "power")
        t = Text()
        t.append("battery  ", "grey70")
        percent, volts = st.get("percent"), st.get("voltage")
        t.append(f"{percent:.0f} %" if isinstance(percent, int | float) else "—")
        if isinstance(volts, int | float):
            t.append(f" {volts:.2f} V")
        t.append("   charger  ", "grey70")
        t.append(str(st.get("supply") or "—"))
        left = st.get("remaining")
        if isinstance(left, int | float):
            t.append("   left  ", "grey70")
            t.append(clock(left))
        self.show_text(t)


class Headphones(Readout):
    """Bluetooth headphones as the firmware sees them (``player.headphones.status()``), and
    the simulated headphones' own state (pairing mode) marked as the simulator's."""

    def show(self, bench: Bench) -> None:
        st = _status(bench.player, "headphones", "bluetooth")
        t = Text()
        t.append("Bluetooth  ", "grey70")
        if not st:
            t.append(NOT_YET, "grey50")
        elif st.get("available") is False:
            t.append("unavailable: ", "bold")
            t.append(str(st.get("why_not") or "no Bluetooth"), "grey70")
        else:
            names = _names(bench)
            connected = st.get("connected")
            if connected:
                t.append(f"connected {names.get(connected, connected)}", "bold dodger_blue1")
                battery = (st.get("battery") or {}).get(connected)
                if isinstance(battery, int | float):
                    t.append(f"  battery {battery:.0f} %")
            else:
                t.append("no headphones connected")
            if st.get("pairing"):
                t.append("  pairing window open", "bold dodger_blue1")
            known = [names.get(a, a) for a in st.get("known") or []]
            t.append("\npaired     ", "grey70")
            t.append(", ".join(known) if known else "none")
            t.append("   output  ", "grey70")
            t.append(str(st.get("active_output") or "jack"))
            world = getattr(bench, "bluetooth", None)
            waiting = sorted(getattr(world, "in_pairing_mode", ()))
            if waiting:
                t.append(f"\n{', '.join(names.get(a, a) for a in waiting)} in pairing mode",
                         "bold")
                t.append("  (simulator)", "grey50")
        self.show_text(t)


def _names(bench: Bench) -> dict[str, str]:
    """Address -> name of the simulated headphones (the firmware's status has addresses)."""
    world = getattr(bench, "bluetooth", None)
    return {a: str(h.get("name", a)) for a, h in getattr(world, "headphones", {}).items()}


def _status(player: Any, *names: str) -> dict[str, Any]:
    """The status() of the first service of `names` the player has; {} while none is wired."""
    for name in names:
        service = getattr(player, name, None)
        status = getattr(service, "status", None)
        if callable(status):
            try:
                out = status()
            except Exception:
                return {}
            return out if isinstance(out, dict) else {}
    return {}
