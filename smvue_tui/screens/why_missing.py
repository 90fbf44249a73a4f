"""Why is this deal missing? (placeholder until its screen lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static


class WhyMissingScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="why_close")]

    def compose(self) -> ComposeResult:
        yield Static("Why is this deal missing?", classes="placeholder")
