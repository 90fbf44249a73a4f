"""One deal: its fields, account hierarchy, contact roles, collaborators, activity, stage history,
and the manager's own notes and action items (kept forever; no sync touches them).

Reads and writes run in thread workers over ``store/deals.py``; the screen only renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from smvue_tui.store import deals as dl
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.pipeline_modals import Answer, ConfirmModal, FormModal, NoteModal
from smvue_tui.tui.screens.resume import (
    LatestRead,
    ReadOutcome,
    StoreReads,
    outcome_of,
    shown,
)
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter
from smvue_tui.tui.widgets.store_write import write_in_background


def _grid(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))  # Text: Salesforce values are not markup
    return table


def _table(headers: list[str], rows: list[list[str]], empty: str,
           no_wrap: int = 0) -> Table | Text:
    """A plain table; its first ``no_wrap`` columns (dates, kinds) never wrap."""
    if not rows:
        return Text(empty, style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for i, h in enumerate(headers):
        table.add_column(h, no_wrap=i < no_wrap, min_width=None if i < no_wrap else 8)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _risk_text(risks: list[dict[str, str]]) -> Text:
    """The deal's risk flags with their evidence ("" when none)."""
    if not risks:
        return Text("")
    text = Text("At risk\n", style="bold red")
    for risk in risks:
        text.append(f"• {risk['reason']}\n", style="red")
    return text


def _section(title: str, body: Any) -> Group:
    return Group(Text(title, style="bold underline"), body, Text(""))


def hierarchy(d: dl.DealDetail) -> Text:
    """The account's parents (root first), the account, and its children, as an indented tree."""
    if d.account is None:
        return Text("No account", style="dim")
    text = Text()
    depth = 0
    for _, name in d.ancestors:
        text.append("  " * depth + ("└ " if depth else "") + name + "\n")
        depth += 1
    text.append("  " * depth + ("└ " if depth else "") + d.account[1] + "  ◀ this deal\n",
                style="bold")
    for _, name in d.children:
        text.append("  " * (depth + 1) + "└ " + name + "\n")
    return text


def info_sections(d: dl.DealDetail) -> Group:
    roles = [[r.name + (" ★" if r.is_primary else ""), r.role, r.title, r.email]
             for r in d.contact_roles]
    people = [[c.name + (" (team)" if c.team_member else ""), c.role, c.on]
              for c in d.collaborators]
    history = [list(h) for h in d.stage_history]
    parts = [_section("Deal", _grid(d.fields))]
    if d.custom_fields:
        parts.append(_section("Custom fields", _grid(d.custom_fields)))
    parts += [
        _section("Account hierarchy", hierarchy(d)),
        _section("Contact roles (★ primary)", _table(["Contact", "Role", "Title", "Email"],
                                                      roles, "No contact roles")),
        _section("Collaborators", _table(["User", "Role", "On"], people, "No collaborators")),
        _section("Stage history", _table(["Date", "Stage", "Amount", "Close"], history,
                                         "No stage history (history tracking may be off)",
                                         no_wrap=1)),
    ]
    return Group(*parts)


def note_line(note: Any) -> Text:
    """A note in the list: its date (the last edit's, said so) before its first line."""
    written = (note.updated_at or note.created_at or "")[:10]
    edited = note.updated_at and note.created_at and note.updated_at[:16] != note.created_at[:16]
    text = Text(f"{written}{' ✎' if edited else ''}  ", style="dim")
    text.append(note.body.splitlines()[0][:80] + (" …" if "\n" in note.body else ""))
    if getattr(note, "author", ""):  # a team store: whose note it is
        text.append(f"  — {note.author}", style="dim")
    return text


def activity_section(d: dl.DealDetail) -> Group:
    """When, kind and subject; a status only when it says something (not "Completed")."""
    rows = []
    for a in d.activities:
        subject = a.subject + (" (account)" if a.on_account else "")
        if a.status and a.status != "Completed":
            subject += f" [{a.status}]"
        rows.append([a.when, a.kind, subject])
    return _section("Activity (newest first)", _table(["When", "Kind", "Subject"], rows,
                                                      "No activity synced", no_wrap=2))


class DealDetailScreen(StoreReads, Screen[None]):
    FLAGS_GAP = 1.0  # a store change reads the flags no sooner than this after the last read
    FLAGS_COST_FACTOR = 4.0  # … nor 4× what that read took (a sync changes the store each second)
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="deal_back"),
        Binding("n", "add_note", "Note", id="deal_add_note"),
        Binding("a", "add_action", "Action item", id="deal_add_action"),
        Binding("x", "toggle_action", "Done/undo", id="deal_toggle_action"),
        Binding("delete", "delete_note", "Delete note", id="deal_delete_note"),
        Binding("u", "copy_url", "Copy Salesforce link", id="deal_copy_url"),
    ]

    @dataclass
    class _Loaded(Message):
        detail: dl.DealDetail | None
        error: str = ""

    def __init__(self, deal_id: str) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.detail: dl.DealDetail | None = None
        self.risks: list[dict[str, str]] = []  # the flags shown (from the last good read)
        # One flags read at a time, one more for the changes during it: never an older over a
        # newer.
        self.flags_gate = LatestRead(self.FLAGS_GAP, self.FLAGS_COST_FACTOR)

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static("Loading…", id="deal-title", classes="title")
        # Side by side when wide; stacked and scrolled as one when narrow (App.-narrow).
        with VerticalScroll(id="deal-body"):
            with VerticalScroll(id="deal-info"):
                yield Static("", id="deal-flags")  # the inspection's risk flags, when any
                yield Static("", id="deal-sections")
            with Vertical(id="deal-work"):
                yield Label("Notes (n: new · enter: edit · delete: remove)", classes="title")
                yield OptionList(id="deal-notes")
                yield Label("Action items (a: new · x: done/undo)", classes="title")
                yield OptionList(id="deal-actions")
                with VerticalScroll(id="deal-activity-scroll"):
                    yield Static("", id="deal-activity")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#deal-notes").focus()
        self.query_one("#deal-flags").display = False
        self._read_all(spaced=False)

    def on_screen_resume(self) -> None:
        if self.changed_since_read():  # the store changed under a dialog (a note being typed)
            self._read_all(spaced=False)

    def _read_all(self, spaced: bool) -> None:
        self.note_read()
        self._load()
        self.load_flags(spaced)

    def load_flags(self, spaced: bool = True) -> None:
        self.read_latest(self.flags_gate, self._read_flags, spaced)

    @work(thread=True, group="deal-flags", exit_on_error=False,
          description="checking the deal's risks")
    def _read_flags(self) -> None:
        from smvue_tui.inspection.report import deal_risks

        # ValueError: [inspection] in config.toml is wrong — said on the screen.
        outcome_of(lambda: deal_risks(self.deal_id, self.app.services.config(),
                                      self.app.services.judged_at()),
                   lambda read: self.app.call_from_thread(self._show_flags, read),
                   said=(ValueError,), fault="the flags could not be read")

    def _show_flags(self, read: ReadOutcome[list[dict[str, str]]]) -> None:
        self.show_outcome(read, self.flags_gate, self._read_flags, lambda: self._flags(read),
                          ("deal-flags", lambda: self.load_flags(spaced=False)))

    def _flags(self, read: ReadOutcome[list[dict[str, str]]]) -> None:
        box = self.query_one("#deal-flags", Static)
        if read.busy:  # the flags shown stay, under words saying why they are not new
            box.update(Text.assemble((f"Not read: {read.error}", "yellow"),
                                     "\n" if self.risks else "", _risk_text(self.risks)))
            box.display = True
        elif read.value is None:
            box.update(Text(f"Cannot check this deal's risks: {read.error}", style="red"))
            box.display = True
        else:
            self.risks = read.value
            box.update(_risk_text(read.value))
            box.display = bool(read.value)

    @work(thread=True, exclusive=True, group="deal-detail", exit_on_error=False,
          description="reading a deal")
    def _load(self) -> None:
        try:
            self.post_message(self._Loaded(dl.deal_detail(self.deal_id)))
        except dl.DealNotFound as exc:
            self.post_message(self._Loaded(None, str(exc)))

    def on_deal_detail_screen__loaded(self, message: _Loaded) -> None:
        self.detail = d = message.detail
        if d is None:
            title = self.query_one("#deal-title", Static)
            title.update(Text(f"This deal is gone: {message.error}"))
            return
        account = f" — {d.account[1]}" if d.account else ""
        title = Text(d.name + account)
        if d.url:  # a terminal hyperlink (OSC 8): ctrl/cmd-click opens the deal in Salesforce
            title.append("  ")
            title.append("Open in Salesforce ↗", style=Style(link=d.url, underline=True))
        self.query_one("#deal-title", Static).update(title)
        self.query_one("#deal-sections", Static).update(info_sections(d))
        self.query_one("#deal-activity", Static).update(activity_section(d))
        # Text, not str: a note may hold "[...]", which OptionList would read as markup.
        self._fill("#deal-notes", [Option(note_line(n), id=f"note-{n.id}") for n in d.notes],
                   "No notes yet")
        self._fill("#deal-actions", [Option(Text(("[x] " if a.done else "[ ] ") + a.text
                                                 + (f"  (due {a.due_date})" if a.due_date
                                                    else "")
                                                 + (f"  — {a.author}" if a.author else "")),
                                            id=f"action-{a.id}") for a in d.action_items],
                   "No action items")

    def action_copy_url(self) -> None:
        if self.detail is None or not self.detail.url:
            self.notify("No Salesforce link: connect to Salesforce first", severity="warning")
            return
        self.app.copy_to_clipboard(self.detail.url)  # OSC 52: works over SSH in most terminals
        self.notify(self.detail.url, title="Salesforce link copied")

    def _fill(self, selector: str, options: list[Option], empty: str) -> None:
        """Replace a list's options, keeping the highlighted position."""
        lst = self.query_one(selector, OptionList)
        keep = lst.highlighted
        lst.clear_options()
        lst.add_options(options or [Option(empty, id="empty", disabled=True)])
        if options:
            lst.highlighted = min(keep or 0, len(options) - 1)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # say what failed; never a traceback page
            self.notify(f"Could not finish {event.worker.description}: {event.worker.error}",
                        severity="error")

    def on_store_changed(self, message: StoreChanged) -> None:
        if shown(self):  # hidden under a dialog: read on resume
            self._read_all(spaced=True)

    # --- notes and action items --------------------------------------------------------------

    def _selected_id(self, selector: str, prefix: str) -> int | None:
        lst = self.query_one(selector, OptionList)
        if lst.highlighted is None:
            return None
        option_id = lst.get_option_at_index(lst.highlighted).id or ""
        return int(option_id[len(prefix):]) if option_id.startswith(prefix) else None

    def action_add_note(self) -> None:
        if self.detail is None:
            return  # the deal is gone (or still loading)
        def save(body: str | None) -> None:
            if body is not None:
                self._write(lambda: dl.add_note(self.deal_id, body), "Note added")

        self.app.push_screen(NoteModal("New note"), save)

    @on(OptionList.OptionSelected, "#deal-notes")
    def _edit_note(self, event: OptionList.OptionSelected) -> None:
        note_id = self._selected_id("#deal-notes", "note-")
        note = next((n for n in (self.detail.notes if self.detail else []) if n.id == note_id),
                    None)
        if note is None:
            return

        def save(body: str | None) -> None:
            if body is not None:
                self._write(lambda: dl.update_note(note.id, body), "Note saved")

        self.app.push_screen(NoteModal("Edit note", note.body), save)

    def action_delete_note(self) -> None:
        note_id = self._selected_id("#deal-notes", "note-")
        if note_id is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._write(lambda: dl.delete_note(note_id), "Note deleted")

        self.app.push_screen(ConfirmModal("Delete this note?"), confirmed)

    def action_add_action(self) -> None:
        if self.detail is None:
            return  # the deal is gone (or still loading)
        def validate(values: list[str]) -> tuple[str, str]:
            text, due = values
            if not text.strip():
                raise ValueError("an action item needs some text")
            dl.parse_due(due)
            return text, due

        def save(answer: Answer[tuple[str, str]] | None) -> None:
            if answer is not None:
                text, due = answer.value
                self._write(lambda: dl.add_action_item(self.deal_id, text, due),
                            "Action item added")

        self.app.push_screen(FormModal("New action item", [("What", ""),
                                                           ("Due (YYYY-MM-DD, optional)", "")],
                                       validate), save)

    def action_toggle_action(self) -> None:
        item_id = self._selected_id("#deal-actions", "action-")
        item = next((a for a in (self.detail.action_items if self.detail else [])
                     if a.id == item_id), None)
        if item is not None:
            self._write(lambda: dl.set_action_item_done(item.id, not item.done),
                        "Action item reopened" if item.done else "Action item done")

    def _write(self, change: Callable[[], Any], done: str) -> None:
        write_in_background(self, change, done, frozenset({"Note", "ActionItem"}))
