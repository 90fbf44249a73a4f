"""The header every screen shows: the app, then which org's store is open."""

from __future__ import annotations

from textual.widgets import Header

# Textual's default icon (⭘) is missing from common terminal fonts and drew a box; ≡ is in all
# of them and says what a click on it does (open the command palette).
ICON = "≡"


def app_header() -> Header:
    return Header(icon=ICON)
