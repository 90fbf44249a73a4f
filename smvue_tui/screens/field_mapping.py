"""CRM field mapping (placeholder until its screen lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class FieldMappingScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("CRM field mapping", classes="placeholder")
        yield Footer()
