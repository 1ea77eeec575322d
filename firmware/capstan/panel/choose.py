"""A modal list to pick one thing from: a cassette off the shelf, a fault to inject."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ChoiceScreen(ModalScreen[int | None]):
    """Returns the index of the option picked (enter or a click), or None (escape)."""

    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "cancel", "cancel")]
    AUTO_FOCUS = "OptionList"

    def __init__(self, title: str, labels: list[str], disabled: list[bool] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.labels = labels
        self.unavailable = disabled or [False] * len(labels)

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Label(f"[b]{self.title_text}[/b]  (enter to pick, escape to cancel)")
            yield OptionList(*[Option(label, id=str(i), disabled=off)
                               for i, (label, off) in enumerate(zip(self.labels, self.unavailable,
                                                                    strict=True))])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        enabled = [i for i, off in enumerate(self.unavailable) if not off]
        if enabled:
            options.highlighted = enabled[0]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
