"""The layout of every state file, as a schema: what `StateStore.load` accepts.

A file whose data does not fit its layout (another firmware's, a hand edit, a
damaged card) is moved aside like a corrupt one and the defaults are used. A
name must be listed here (exactly, or by its prefix before a ``-<id>``) to be
saved or loaded: a new kind of state comes with its layout.
"""

from __future__ import annotations

import base64
import binascii

from capstan.state.schema import (
    Bool,
    ListOf,
    MapOf,
    Null,
    Number,
    OneOf,
    Record,
    Schema,
    Text,
    Tuple,
    Where,
)

SECONDS = Number(-1e6, 1e6)  # a tape position or a time span, in seconds
MAYBE_SECONDS = OneOf(Null(), SECONDS)
TRIM = Number(-0.5, 0.5)  # a speed trim, as a fraction

_SIDE = Record({}, optional={
    "marks": ListOf(Tuple(SECONDS, Text(16, choices=("recorded", "detected", "manual"))),
                    10_000),
    "start": MAYBE_SECONDS, "end": MAYBE_SECONDS})

CASSETTE = Record({}, optional={
    "toc": Record({}, optional={"A": OneOf(Null(), _SIDE), "B": OneOf(Null(), _SIDE)}),
    "speed_trim": TRIM, "nr": Bool()})  # nr: B-type decoding on for this cassette

FINGERPRINT_BANDS = 16  # bytes per frame of a fingerprint (capstan.analysis.fingerprint)


def _fingerprints(text: str) -> bool:
    """Comma-separated base64 fingerprints, each of whole frames."""
    try:
        parts = [base64.b64decode(part, validate=True) for part in text.split(",")]
    except (binascii.Error, ValueError):
        return False
    return all(part and len(part) % FINGERPRINT_BANDS == 0 for part in parts)


FINGERPRINT = Where(Text(), _fingerprints, "fingerprints: base64 of whole frames, "
                    "separated by commas")

LAYOUTS: dict[str, Schema] = {
    # the transport's counter (capstan.deck.counter.TapeCounter.snapshot)
    "counter": Record({"cassette": Bool()}, optional={
        "length": OneOf(Null(), Text(8, pattern=r"C[0-9]{2,3}")),
        "calibrated": Bool(), "position": MAYBE_SECONDS,
        "played": Number(0, 1e9)}),
    # volume per output: the jack 0..1, headphones 0..127 (capstan.bluetooth.outputs)
    "volumes": MapOf(Number(0, 127), Text(64)),
    # paired headphones' addresses (capstan.bluetooth.player)
    "headphones": ListOf(Text(64), 1000),
    # the cassettes the player knows (capstan.cassettes)
    "cassettes": Record({"known": ListOf(Record({"id": Text(32, pattern=r"c[0-9]+"),
                                                 "fingerprint": FINGERPRINT}), 100_000),
                         "next": Number(1, 1e9, integer=True)}),
    "cassette": CASSETTE,  # cassette-current, cassette-c1, …: a TOC and a trim
    "speed-trim": Record({}, optional={"speed_trim": TRIM}),  # the deck's own
    "update-shown": Record({}, optional={"result": Text(128)}),  # capstan.update.leds
    # the B-type reference level per mechanism profile (capstan.audio.nr_switch)
    "nr-reference": MapOf(Record({"reference_dbfs": Number(-60, 0)},
                                 optional={"calibrated_at": Number(0, 1e12)}), Text(64)),
}


def layout(name: str) -> Schema | None:
    """The schema of the state file `name` (``cassette-c7`` → the cassette's), or None."""
    if name in LAYOUTS:
        return LAYOUTS[name]
    prefix = name.split("-", 1)[0]
    return LAYOUTS.get(prefix) if "-" in name else None
