"""`capstan status` for a person: what the player does, in words, minutes and seconds.

`describe(status)` turns the daemon's status (the JSON `capstan status --json`
prints) into lines of "label  what". Keys it does not know are shown too, in
words: never a raw JSON value, never "None".
"""

from __future__ import annotations

from typing import Any

TRANSPORT = {"no_cassette": "no cassette", "stopped": "stopped", "playing": "playing",
             "paused": "paused", "fast_forward": "fast forward", "rewind": "rewinding",
             "recording": "recording", "record_paused": "recording, paused",
             "ejecting": "ejecting"}
SHOWN = {"transport", "counter", "mode", "length", "calibrated", "remaining", "tape", "power",
         "board", "selftest", "healthy", "problems", "uptime", "state_writes", "socket",
         "state_dir", "nr", "keys"}


def clock(seconds: float) -> str:
    """A tape position: 1:02:03, 12:34 or 0:05."""
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    total = int(seconds + 0.5)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


def duration(seconds: float) -> str:
    """A span of time in words: 45 s, 12 min, 5 h 41 min."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if m else f"{h} h"


def words(value: Any) -> str:
    """Any status value in words (for keys without a line of their own)."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        parts = [f"{k.replace('_', ' ')} {words(v)}" for k, v in value.items() if v is not None]
        return ", ".join(parts) if parts else "nothing known"
    if isinstance(value, list | tuple):
        return ", ".join(words(v) for v in value) if value else "none"
    if isinstance(value, str) and value.isidentifier():
        return value.replace("_", " ")  # a name (fast_forward), not a path or an address
    return str(value)


def _tape(status: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    if status.get("transport") == "no_cassette":
        return lines
    counter = status.get("counter")
    length = status.get("length")
    if isinstance(counter, int | float):
        where = clock(counter)
        if length:
            where += " (exact)" if status.get("calibrated") else " (estimated)"
        else:
            where += " (time played: the length is not known yet)"
        lines.append(("Counter", where))
    what = f"a {words(length)}" if length else "length not known yet"
    remaining = status.get("remaining")
    if isinstance(remaining, int | float):
        what += f", {duration(remaining)} left on this side"
    lines.append(("Cassette", what))
    tape = status.get("tape")
    if isinstance(tape, dict):
        tracks = tape.get("tracks") or []
        track = tape.get("track")
        if tracks and isinstance(tracks, list):
            lines.append(("Track", f"{words(track)} of {len(tracks)} known" if track else
                          f"{len(tracks)} known"))
        else:
            lines.append(("Track", "no track marks known yet"))
        if tape.get("cassette"):
            lines.append(("Known as", words(tape["cassette"])))
        search = tape.get("search")
        if search:
            lines.append(("Searching", words(search)))
        wow = tape.get("wow_flutter")
        if wow:
            lines.append(("Wow and flutter", words(wow)))
        trim = tape.get("speed_trim_percent")
        if isinstance(trim, int | float) and trim:
            lines.append(("Speed trim", f"{trim:+.2f} %"))
        azimuth = tape.get("azimuth")
        if azimuth:
            lines.append(("Azimuth", words(azimuth)))
    return lines


def _digitizing(tape: Any) -> list[tuple[str, str]]:
    d = tape.get("digitizing") if isinstance(tape, dict) else None
    if not isinstance(d, dict):
        return []
    if not d.get("enabled"):
        return [("Digitizing", "off")]
    text = "on"
    if d.get("track"):
        text += f", writing track {words(d['track'])}"
    if d.get("take"):
        text += f" to {words(d['take'])}"
    elif d.get("directory"):
        text += f", into {words(d['directory'])}"
    return [("Digitizing", text)]


def _power(power: Any) -> list[tuple[str, str]]:
    if not isinstance(power, dict):
        return []
    parts = []
    percent = power.get("percent")
    supply = power.get("supply")
    if isinstance(percent, int | float):
        parts.append(f"{percent:.0f} %")
    elif power.get("gauge_known") is False:
        parts.append("charge unknown (no fuel gauge)")
    supply_words = {"battery": "on battery", "charging": "charging", "charged": "charged",
                    "input": "on USB power", "unknown": "power source not known yet"}
    if supply:
        parts.append(supply_words.get(str(supply), f"power: {words(supply)}"))
    remaining = power.get("remaining")
    if isinstance(remaining, int | float):
        parts.append(f"about {duration(remaining)} of play left")
    level = power.get("level")
    if level and level != "ok":
        parts.append(f"battery {words(level)}")
    faults = power.get("faults")
    if faults:
        parts.append(f"faults: {words(faults)}")
    return [("Power", ", ".join(parts) or "nothing known")]


def _noise_reduction(nr: Any) -> list[tuple[str, str]]:
    if not isinstance(nr, dict) or "on" not in nr:
        return []
    text = "B-type decoding on" if nr.get("on") else "off"
    level = nr.get("reference_dbfs")
    if isinstance(level, int | float):
        how = "calibrated" if nr.get("calibrated") else "the board's default"
        text += f" (reference level {level:.1f} dBFS, {how})"
    return [("Noise reduction", text)]


def describe(status: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines for a person, in the order one reads them."""
    transport = status.get("transport")
    lines = [("Player", TRANSPORT[transport] if isinstance(transport, str)
              and transport in TRANSPORT else words(transport))]
    if isinstance(status.get("keys"), list):  # a mechanism moved by hand: its keys
        down = " + ".join(str(k).upper() for k in status["keys"])
        lines.append(("Keys", f"{down} down on the mechanism" if down else
                      "none down (the mechanism's keys are pressed by hand)"))
    lines += _tape(status)
    lines += _digitizing(status.get("tape"))
    lines += _noise_reduction(status.get("nr"))
    lines += _power(status.get("power"))
    if "healthy" in status:
        problems = status.get("problems") or []
        lines.append(("Health", "healthy" if status["healthy"] else
                      "unhealthy: " + (words(problems) or "see the log")))
    if status.get("selftest"):
        lines.append(("Self-test", words(status["selftest"]).removeprefix("self-test ")
                      .removeprefix("self-test: ")))
    if status.get("board"):
        lines.append(("Board", "simulated" if status["board"] == "sim" else
                      "Raspberry Pi" if status["board"] == "pi" else words(status["board"])))
    if isinstance(status.get("uptime"), int | float):
        lines.append(("Running for", duration(status["uptime"])))
    for key, label in (("state_dir", "State in"), ("socket", "Socket")):
        if status.get(key):
            lines.append((label, words(status[key])))
    for key, value in status.items():
        if key not in SHOWN:
            lines.append((key.replace("_", " ").capitalize(), words(value)))
    return lines


def render(status: dict[str, Any]) -> str:
    lines = describe(status)
    width = max((len(label) for label, _ in lines), default=0)
    return "\n".join(f"{label:<{width}}  {text}" for label, text in lines)
