"""Sync progress: one bar per object, API calls against the daily limit, errors with remedies.

The sync belongs to the App; this screen only watches it (``app.sync_events``) and redraws from
``app.last_progress``/``app.last_report`` when shown again, so leaving it stops nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.clock import Clock
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from smvue_tui.sync.progress import is_complete
from smvue_tui.sync.status import load_usage, short_time, usage_line
from smvue_tui.tui.messages import SyncFinished, SyncProgress, SyncStarted
from smvue_tui.tui.screens.resume import KeepStyles
from smvue_tui.tui.screens.team_mapping import TeamMappingScreen
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter
from smvue_tui.tui.widgets.sync_panel import SyncPanel

LEAVE_HINT = "You can leave this screen: the sync keeps running."
INITIAL_HINT = " Initial sync: small orgs take 2–3 minutes, large ones 10–20."


def hint_for(running: str | None) -> str:
    """The hint belongs to a running sync (the initial one's with how long it takes)."""
    if running is None:
        return ""
    return LEAVE_HINT + (INITIAL_HINT if running == "initial" else "")


LIVE_FETCH = "webhook"  # the sync kind of a live mode's fetch by Id


class SyncProgressScreen(KeepStyles, Screen[None]):
    DEFAULT_CSS = """
    SyncProgressScreen #sync-box { margin: 1 2; height: auto; max-height: 1fr; }
    SyncProgressScreen #sync-api { margin-bottom: 1; }
    SyncProgressScreen #sync-errors { margin-top: 1; color: $warning; }
    SyncProgressScreen #sync-hint { margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "continue", "Continue to team mapping", id="sync_continue"),
    ]

    def __init__(self, clock: Clock | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self.status_text = ""
        self.api_text = ""
        self.errors_text = ""
        self._calls = 0  # API calls of the sync shown
        self._saved_usage: dict[str, Any] | None = None  # from an earlier session's sync
        self._shown_kind: str | None = None  # the kind of the sync on screen
        self._drawn_report: Any = None
        """The finished sync's report shown (drawn once, not on every return here)."""

    def compose(self) -> ComposeResult:
        yield app_header()
        with Vertical(id="sync-box", classes="panel"):
            yield Static("Salesforce sync", id="sync-title", classes="title")
            yield Static("", id="sync-status")
            yield Static("", id="sync-api", classes="muted")
            yield SyncPanel(clock=self._clock, id="sync-panel")
            yield Static("", id="sync-errors")
            yield Static("", id="sync-hint", classes="muted")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.app.sync_events.subscribe(self, self._on_sync_event)  # type: ignore[attr-defined]
        self._redraw()
        self._load_saved_usage()

    @work(thread=True, group="sync-usage", exit_on_error=False,
          description="reading the saved API usage")
    def _load_saved_usage(self) -> None:
        """The reading saved after an earlier session's sync (a file: not on the UI thread)."""
        saved = load_usage(self.app.services.paths)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._show_saved_usage, saved)

    def _show_saved_usage(self, saved: dict[str, Any] | None) -> None:
        self._saved_usage = saved
        if saved and self.api_text:
            self._set_api(self._calls)

    def on_screen_resume(self) -> None:
        self._redraw()

    # --- what the App reports ---------------------------------------------------------------

    def _live_over_first_run(self, kind: str | None) -> bool:
        """A live mode's fetch (a "webhook" sync: CDC events, Outbound Messages) while the
        initial sync is on screen: it must not replace it and take its Enter away (the demo
        org's changes arrive every few seconds, right after the initial sync)."""
        return kind == LIVE_FETCH and self._first_run()

    def _on_sync_event(self, message: Any) -> None:
        app: Any = self.app
        kind = (message.kind if isinstance(message, SyncStarted) else
                message.report.kind if isinstance(message, SyncFinished) else
                app.coordinator.running)
        if self._live_over_first_run(kind):
            return
        if isinstance(message, SyncStarted):
            self.query_one(SyncPanel).clear()
            self._set_status(f"{message.kind.capitalize()} sync running…")
            self._shown_kind = message.kind
            self._set_hint(message.kind)
            self._set_errors([])
        elif isinstance(message, SyncProgress):
            self.query_one(SyncPanel).show(message.event)
            self._set_status(self._running_text())
            self._set_api(message.event.api_calls)
        elif isinstance(message, SyncFinished):
            self._set_hint(None)
            self._finished(message.report)
            self._load_saved_usage()  # the reading the sync saved: the one the card shows

    def _redraw(self) -> None:
        """Everything the App knows now (after returning to this screen)."""
        app: Any = self.app
        if self._live_over_first_run(app.coordinator.running or getattr(app.last_report,
                                                                         "kind", None)):
            return
        panel = self.query_one(SyncPanel)
        for message in list(app.last_progress.values()):
            panel.show(message.event)
        running = app.coordinator.running
        if running:
            self._shown_kind = running
        self._set_hint(running)
        if running:
            self._set_status(self._running_text(running))
            calls = max((p.event.api_calls for p in app.last_progress.values()), default=0)
            self._set_api(calls)
        elif app.last_report is not None:
            if app.last_report is not self._drawn_report:  # else: on screen already
                self._finished(app.last_report)
        else:
            self._set_status("No sync has run yet in this session. Press y to sync now.")

    def _running_text(self, kind: str | None = None) -> str:
        app: Any = self.app
        kind = kind or app.coordinator.running or "initial"
        events = [p.event for p in app.last_progress.values()]
        done = sum(1 for e in events if is_complete(e))
        return f"{kind.capitalize()} sync running… {done} of {len(events)} objects finished"

    def _finished(self, report: Any) -> None:
        self._drawn_report = report
        self._shown_kind = report.kind
        stored = sum(report.counts.values())
        if report.status == "ok":
            text = (f"{report.kind.capitalize()} sync finished: {stored:,} records stored in "
                    f"{report.seconds:.0f} s.")
            if self._first_run():
                text += " Press Enter to map your team."
        elif report.status == "paused":
            when = short_time(report.resumes_at) if report.resumes_at else \
                "midnight Pacific Time"
            text = f"paused: API limit — resumes at {when}"
        elif report.status == "cancelled":
            text = "Sync cancelled — the next sync resumes where this one stopped."
        else:
            text = "Sync failed — see below. Press y to try again (Sync Now)."
        self._set_status(text)
        self._set_api(report.api_calls)
        self._set_errors(report.errors)

    # --- drawing -------------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#sync-status", Static).update(text)

    def _set_api(self, calls: int) -> None:
        app: Any = self.app
        self._calls = calls
        # While a sync runs, its live reading; else the saved one, which Integrations shows too.
        usage = getattr(app.sync_client, "usage", None)
        reading = self._saved_usage
        if usage is not None and usage.max:
            when = usage.updated_at or datetime.now(UTC)
            reading = {"used": usage.used, "max": usage.max, "updated_at": when.isoformat()}
        text = f"API calls used by this sync: {calls:,}"
        if reading:
            text += f"\nOrg API usage: {usage_line(reading)}"
        self.api_text = text
        self.query_one("#sync-api", Static).update(text)

    def _set_hint(self, running: str | None) -> None:
        hint = self.query_one("#sync-hint", Static)
        hint.update(hint_for(running))
        hint.display = running is not None
        self.refresh_bindings()

    def _set_errors(self, errors: list[dict[str, str]]) -> None:
        lines = []
        for error in errors:
            where = f"{error['object']}: " if error.get("object") else ""
            lines.append(f"[b]{escape(where + error.get('message', ''))}[/b]")
            if error.get("remedy"):
                lines.append(f"  What to do: {escape(error['remedy'])}")
        self.errors_text = "\n".join(lines)
        widget = self.query_one("#sync-errors", Static)
        widget.update(self.errors_text)
        widget.display = bool(lines)

    # --- keys ----------------------------------------------------------------------------------

    def _first_run(self) -> bool:
        """The sync shown (running, or the last one) is the initial one: Enter continues to
        team mapping."""
        return self._shown_kind == "initial"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue":
            return self._first_run()  # after any other sync, Enter means nothing here
        return True

    def action_continue(self) -> None:
        app: Any = self.app
        first_run = self._first_run()
        app.switch_mode("team")
        if isinstance(app.screen, TeamMappingScreen):
            app.screen.first_run = first_run  # the first-time flow: team says what is next
