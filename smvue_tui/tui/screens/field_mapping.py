"""Settings > CRM Field Mapping: choose which custom Opportunity fields are synced.

Connected, the custom fields come from ``describe("Opportunity")`` (an async worker, kept for
the screen's life; ``l`` reads them again); without a connection the saved mappings are shown.
A newly mapped field is filled on the next sync (``store/field_mapping.py``); ``y`` syncs now.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.store import field_mapping as fm
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.resume import KeepStyles, shown
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter

_WRITES = threading.Lock()
OFFLINE_NOTE = "Not connected: showing the fields already mapped. Connect to see all fields."


@dataclass
class FieldsDescribed(Message):
    fields: list[tuple[str, str, str]] | None  # None: could not ask Salesforce
    note: str


@dataclass
class FieldsLoaded(Message):
    rows: list[fm.FieldRow]


class FieldMappingScreen(KeepStyles, Screen[None]):
    DEFAULT_CSS = """
    FieldMappingScreen #fields-table { height: 1fr; }
    FieldMappingScreen #fields-note { padding: 0 1; }
    """
    BINDINGS = [
        Binding("space", "toggle_field", "Sync field on/off", id="fields_toggle"),
        Binding("l", "reload_fields", "Reload fields", id="fields_reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.described: list[tuple[str, str, str]] | None = None
        """The org's custom Opportunity fields (api name, label, type); None until read."""
        self.note = ""
        self.rows: list[fm.FieldRow] = []

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static("CRM Field Mapping", classes="title")
        yield Static("Custom Opportunity fields. Mapped fields are synced into SMVue; a newly "
                     "mapped field is filled on the next sync (y: Sync now).", classes="muted")
        yield DataTable(id="fields-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading…", id="fields-note", classes="muted")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (("Synced", "on"), ("Label", "label"), ("API name", "api"),
                           ("Type", "type"), ("Status", "status")):
            table.add_column(label, key=key)
        self.action_reload_fields()

    def on_screen_resume(self) -> None:
        self.load()

    def on_store_changed(self, message: StoreChanged) -> None:
        if shown(self):  # hidden (a dialog on top): on_screen_resume reads
            self.load()

    # --- reading ---------------------------------------------------------------------------

    def action_reload_fields(self) -> None:
        self.query_one("#fields-note", Static).update("Reading fields…")
        self.describe()

    @work(exclusive=True, group="fields-describe", exit_on_error=False,
          description="Reading Opportunity fields from Salesforce")
    async def describe(self) -> None:
        factory = self.app.services.client_factory
        if factory is None or not await asyncio.to_thread(lambda: self.app.connected):
            self.post_message(FieldsDescribed(None, OFFLINE_NOTE))
            return
        try:
            client = await asyncio.to_thread(factory)
            try:
                described = await client.describe("Opportunity")
            finally:
                await client.aclose()
        except SalesforceError as exc:
            self.post_message(FieldsDescribed(None, f"Could not read fields from Salesforce: "
                                                    f"{exc.describe()}. Showing mapped fields."))
            return
        except Exception:  # no connection at all; the message carries no secret
            self.post_message(FieldsDescribed(None, "Could not reach Salesforce. "
                                                    "Showing mapped fields."))
            return
        fields = fm.custom_fields(described)
        self.post_message(FieldsDescribed(fields, f"{len(fields)} custom fields in Salesforce"))

    @on(FieldsDescribed)
    def remember_fields(self, message: FieldsDescribed) -> None:
        if message.fields is not None or self.described is None:
            self.described = message.fields
        self.note = message.note
        self.load()

    @work(thread=True, exclusive=True, group="fields-load", exit_on_error=False,
          description="Reading field mappings")
    def load(self) -> None:
        with _WRITES:
            fm.mark_backfilled()
            rows = fm.field_rows(self.described)
        self.post_message(FieldsLoaded(rows))

    @on(FieldsLoaded)
    def show_rows(self, message: FieldsLoaded) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        self.rows = message.rows
        table.clear()
        for row in self.rows:
            table.add_row("✓" if row.enabled else "·", row.label, row.api_name, row.type,
                          row.status, key=row.api_name)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        empty = "" if self.rows else " No custom fields to map."
        self.query_one("#fields-note", Static).update((self.note or "") + empty)

    # --- writing ---------------------------------------------------------------------------

    def action_toggle_field(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            self.notify("No field to map here", severity="warning")
            return
        self.toggle(self.rows[min(table.cursor_row, len(self.rows) - 1)])

    @work(thread=True, group="fields-write", exit_on_error=False, description="Saving a mapping")
    def toggle(self, row: fm.FieldRow) -> None:
        try:
            with _WRITES:
                refetch = fm.toggle(row)
        except ValueError as exc:
            self._tell(str(exc), severity="error")
            return
        if refetch:
            self._tell(f"{row.label} is filled on the next sync. Press y to Sync now.")
        self.app.call_from_thread(self.load)

    def _tell(self, text: str, **kw: Any) -> None:
        self.app.call_from_thread(self.notify, text, **kw)
