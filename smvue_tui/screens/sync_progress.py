"""Sync progress (placeholder until its screen lands)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class SyncProgressScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Sync progress", classes="placeholder")
        yield Footer()
