"""What a screen redoes when it is shown again (a mode switch back to it): only what changed.

``StoreReads``: the App counts every ``StoreChanged`` in ``store_generation`` and forwards the
message to the screens of the current mode only; a screen of another mode notes the generation
as each read starts and, on resume, reads again only if it moved.

``KeepStyles``: Textual restyles every widget of a resumed screen. Nothing a screen's styles
depend on changes while it is hidden — a new theme or stylesheet is applied by ``switch_mode``
itself (``refresh_css`` when the screen's CSS is out of date) — but the restyle makes a
``DataTable`` drop every line it drew and render each cell again (tens of ms per switch).

A new screen counts as styled as it is made: Textual styles its widgets as they are registered,
with the stylesheet of the moment (as for a pushed screen). Otherwise the first switch to a
mode re-parses every stylesheet source and restyles every installed screen, twice (Textual's
``switch_mode`` sees a screen that never had a ``refresh_css``) — 60–130 ms of a screen's
first visit.
"""

from __future__ import annotations

from typing import Any

from textual import events


class StoreReads:
    """Mixin for a Screen: ``note_read()`` as a store read starts, ``changed_since_read()``
    on resume."""

    _read_generation: int | None = None

    app: Any

    def note_read(self) -> None:
        self._read_generation = self.app.store_generation

    def changed_since_read(self) -> bool:
        return self._read_generation != self.app.store_generation


class KeepStyles:
    """Mixin for a Screen (before ``Screen`` in the bases): resume without restyling when the
    screen's CSS is up to date."""

    app: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            current = getattr(self.app, "_css_update_count", None)
        except RuntimeError:  # made outside an app (NoActiveAppError): the normal restyle
            current = None
        if current is not None:
            self._css_update_count = current

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        current = getattr(self.app, "_css_update_count", None)
        if current is not None and getattr(self, "_css_update_count", None) == current:
            event.refresh_styles = False
