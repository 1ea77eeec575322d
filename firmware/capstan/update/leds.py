"""The last update's result on the LEDs, once, at the first start after it (docs/updates.md).

A player has no screen: besides UPDATE-RESULT.txt on the card, the daemon shows
the outcome for ten seconds after its start:

| outcome | LED | pattern |
| --- | --- | --- |
| INSTALLED | status (green) | fast blink |
| ROLLED BACK | REC (red) | fast blink |
| REFUSED | REC (red) | slow blink |
| NOT YET (not enough charge) | charge (amber) | slow blink |
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from capstan.devices import leds as lp
from capstan.events import Event, EventBus
from capstan.update.ledger import outcome_of

SHOW_FOR = 10.0  # s
PATTERNS = {
    "INSTALLED": ("status", lp.blink(0.25)),
    "ROLLED BACK": ("rec", lp.blink(0.25)),
    "REFUSED": ("rec", lp.blink(1.0)),
    "NOT YET": ("charge", lp.blink(1.0)),
}


@dataclass(frozen=True)
class UpdateShown(Event):
    type: ClassVar[str] = "update"
    what: str  # the outcome, as in UPDATE-RESULT.txt


def show_update_result(leds: Mapping[str, lp.LedPlayer], bus: EventBus, text: str | None,
                       store: Any) -> str | None:
    """Flash the last update's outcome on the player's LEDs (`leds`, by role) if it has not
    been shown yet; returns it (or None). `text`: UPDATE-RESULT.txt as the caller read it,
    off the loop (`ledger.read_result`), None when there is none; `store` remembers what
    was shown."""
    outcome = outcome_of(text)
    if outcome is None:
        return None
    digest = hashlib.sha256((text or "").encode()).hexdigest()
    if store.load("update-shown", {}).get("result") == digest:
        return None
    led, pattern = PATTERNS[outcome]
    leds[led].flash(pattern, SHOW_FOR)
    bus.publish(UpdateShown(outcome))
    store.save("update-shown", {"result": digest})
    return outcome
