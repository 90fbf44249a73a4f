"""The footer: the keys of the screen first, each shown whole or left for `?` and the palette.

Textual's ``Footer`` puts every shown key in one row and lets the ones that do not fit run off
the right edge (or under the palette key). ``KeysFooter`` keeps the keys in Textual's order —
the focused widget's, the screen's, then the app's global keys — for as long as they fit the
width, and always keeps the ``?`` key (the keys screen, which lists every key) and the palette
key (which runs every action). A key is therefore either shown whole or one step away.

The keys are composed again only when what they would show changes (keys, labels, enabled
state, width): Textual's ``Footer`` rebuilds every key each time the screen's bindings are
refreshed — on every screen switch and focus change — and building ~15 keys restyles each
of them twice, which was most of a screen switch's time.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ID = "help"
"""The id of the app's binding that opens the keys screen: always shown."""


class KeysFooter(Footer):
    """A ``Footer`` that drops, from the end, the keys that would not fit its width."""

    _shown: tuple[Any, ...] | None = None
    """What the keys were last composed from (None: no keys yet); see ``_wanted``."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        wanted = self._wanted()
        self._shown = wanted if widgets else None
        yield from self._fit(widgets, wanted[0])

    def _wanted(self) -> tuple[Any, ...]:
        """Everything ``compose`` shows depends on: the width and the screen's active keys."""
        keys = tuple((key, binding.key_display, binding.description, binding.action,
                      binding.show, binding.group, binding.id, enabled, tooltip)
                     for key, (_, binding, enabled, tooltip)
                     in self.screen.active_bindings.items())
        return (self.size.width or self.screen.size.width, self.compact,
                self.show_command_palette, keys)

    def bindings_changed(self, screen: Screen) -> None:
        if self._shown is not None and screen is self.screen and self._wanted() == self._shown:
            return  # the same keys at the same width: keep the ones on screen
        super().bindings_changed(screen)

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
        if self._shown is not None and event.size.width != self._shown[0]:
            self.call_after_refresh(self.recompose)
