"""The footer: the keys of the screen first, each shown whole or left for `?` and the palette.

Textual's ``Footer`` puts every shown key in one row and lets the ones that do not fit run off
the right edge (or under the palette key). ``KeysFooter`` keeps the keys in Textual's order —
the focused widget's, the screen's, then the app's global keys — for as long as they fit the
width, and always keeps the ``?`` key (the keys screen, which lists every key) and the palette
key (which runs every action). A key is therefore either shown whole or one step away.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ID = "help"
"""The id of the app's binding that opens the keys screen: always shown."""


class KeysFooter(Footer):
    """A ``Footer`` that drops, from the end, the keys that would not fit its width."""

    _fitted_width: int | None = None
    """The width the keys were last fitted to (None: no keys yet)."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        width = self.size.width or self.screen.size.width
        if widgets:
            self._fitted_width = width
        yield from self._fit(widgets, width)

    def _fit(self, widgets: list[Widget], width: int) -> list[Widget]:
        pinned = [w for w in widgets if not isinstance(w, FooterKey) or self._pinned(w)]
        used = sum(self._cells(w) for w in pinned)
        kept: list[Widget] = []
        for widget in widgets:
            if widget in pinned:
                continue
            used += self._cells(widget)
            if used > width:
                break  # this key and the rest: behind ? and the palette
            kept.append(widget)
        return kept + pinned

    def _pinned(self, key: FooterKey) -> bool:
        if key.has_class("-command-palette"):
            return True
        active = self.screen.active_bindings.get(key.key)
        return active is not None and active.binding.id == HELP_ID

    def _cells(self, widget: Widget) -> int:
        if not isinstance(widget, FooterKey):
            return 0
        # Footer's CSS: " key description " (compact: "key description" and a margin).
        return cell_len(widget.key_display) + cell_len(widget.description) + \
            (2 if self.compact else 3)

    def on_resize(self, event: events.Resize) -> None:
        if self._fitted_width is not None and event.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
