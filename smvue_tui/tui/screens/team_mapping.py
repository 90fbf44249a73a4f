"""Team Member Mapping: choose the reps you coach, their role and manager; import new owners.

``n`` continues to the pipelines; in the first-time flow (connect → sync → team) a line under
the table says so as soon as one rep is selected.

The table lists every Salesforce user who owns deals (and every team member). All store work
runs in thread workers (``store/team.py``); writes are serialized by one lock and announced with
``StoreChanged`` (this screen reloads; the pipelines catch up when shown). A reload whose rows
are those on screen leaves the table alone, and coming back to this screen reads nothing
unless the store changed meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Select, Static

from smvue_tui.store import team
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.not_connected import empty_store_text
from smvue_tui.tui.screens.resume import KeepStyles, StoreReads, shown
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter
from smvue_tui.tui.widgets.words import plural

_WRITES = threading.Lock()  # one team write at a time, in key-press order


def _team_changed() -> StoreChanged:
    """What a team write announces (the App forwards it: this screen reloads)."""
    return StoreChanged(frozenset({"TeamMember"}))


@dataclass
class TeamLoaded(Message):
    rows: list[team.TeamRow]
    managers: list[tuple[str, int]]  # (name, member id)


def _role_bindings() -> list[Binding]:
    return [Binding(str(n), f"set_role('{role}')", role, id=f"team_role_{role.lower()}",
                    show=False) for n, role in enumerate(team.ROLES, start=1)]


class TeamMappingScreen(StoreReads, KeepStyles, Screen[None]):
    DEFAULT_CSS = """
    TeamMappingScreen #team-table { height: 1fr; }
    TeamMappingScreen .hint, TeamMappingScreen #team-summary { padding: 0 1; }
    TeamMappingScreen #team-next { padding: 0 1; color: $success; text-style: bold; }
    """
    BINDINGS = [
        Binding("n", "continue", "Continue to pipelines", id="team_continue"),
        Binding("space", "toggle_rep", "Select rep", id="team_toggle"),
        Binding("r", "cycle_role", "Role", id="team_role"),
        Binding("m", "cycle_manager", "Manager", id="team_manager"),
        Binding("c", "import_crm", "Import from CRM", id="team_import"),
        Binding("a", "add_member", "Add member", id="team_add"),
        Binding("v", "rep_view", "Rep view", id="team_rep_view", show=False),
        *_role_bindings(),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[team.TeamRow] = []
        """What the table shows, in order (filled by the load worker)."""
        self.managers: list[tuple[str, int]] = []
        self.first_run = False
        """Arrived from the first-time flow (connect → initial sync → team): say what is next."""

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static("Team Member Mapping", classes="title")
        yield Static("Salesforce users who own Opportunities. Select the reps you coach "
                     "(space), choose their role (r or 1–7) and manager (m).",
                     classes="muted hint")
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading…", id="team-summary", classes="muted")
        yield Static("", id="team-next")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in zip(COLUMN_LABELS, COLUMN_KEYS, strict=True):
            table.add_column(label, key=key)
        self.load()

    def on_screen_resume(self) -> None:
        if self.changed_since_read():
            self.load()
        else:  # the rows on screen are current; the first-time line may not be
            self.show_next(sum(r.coached for r in self.rows))

    def on_screen_suspend(self) -> None:
        if self.app.current_mode != "team":  # left for another screen, not a dialog on top
            self.first_run = False

    def on_store_changed(self, message: StoreChanged) -> None:
        if shown(self):  # hidden (a dialog on top): read on resume (changed_since_read)
            self.load()

    # --- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        self.note_read()
        self._read()

    @work(thread=True, exclusive=True, group="team-load", exit_on_error=False,
          description="Reading the team")
    def _read(self) -> None:
        with _WRITES:
            managers = [(t.name, t.id) for t in team.manager_choices()]
            rows = team.team_rows()
        self.post_message(TeamLoaded(rows, managers))

    @on(TeamLoaded)
    def show_rows(self, message: TeamLoaded) -> None:
        self.managers = message.managers
        if message.rows != self.rows:
            self._fill(message.rows)
        reps = sum(r.coached for r in self.rows)
        owners = sum(1 for r in self.rows if r.deals)
        new = sum(1 for r in self.rows if r.is_new)
        text = (f"{owners} deal owner{'s' * (owners != 1)} · "
                f"{reps} rep{'s' * (reps != 1)} selected")
        if not self.rows:  # nobody owns a deal: nothing synced yet
            text = empty_store_text(self.app.connected)  # type: ignore[attr-defined]
        if new:
            text += f" · {new} not yet in the team (c imports them)"
        self.query_one("#team-summary", Static).update(text)
        self.show_next(reps)

    def _fill(self, rows: list[team.TeamRow]) -> None:
        """Show ``rows``: the same people in the same order change only the cells that differ
        (the table keeps what it drew); otherwise the rows are replaced, keeping the cursor on
        the same person."""
        table = self.query_one(DataTable)
        old, self.rows = self.rows, rows
        if [r.key for r in old] == [r.key for r in rows]:
            for before, row in zip(old, rows, strict=True):
                for column, was, value in zip(COLUMN_KEYS, _cells(before), _cells(row),
                                              strict=True):
                    if value != was:
                        table.update_cell(row.key, column, value, update_width=True)
            return
        keep = self.current_key() if old else None
        table.clear()
        for row in rows:
            table.add_row(*_cells(row), key=row.key)
        if keep is not None and any(r.key == keep for r in rows):
            table.move_cursor(row=table.get_row_index(keep))

    def show_next(self, reps: int) -> None:
        """In the first-time flow, once a rep is selected: which key leads on."""
        line = self.query_one("#team-next", Static)
        line.display = self.first_run and reps > 0
        if not line.display:
            return
        key = next((self.app.get_key_display(active.binding)
                    for active in self.active_bindings.values()
                    if active.binding.id == "team_continue"), "n")
        line.update(f"Next: press {key} to continue to your team's pipelines.")

    def current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)].key

    # --- writing ---------------------------------------------------------------------------

    @work(thread=True, group="team-write", exit_on_error=False, description="Saving the team")
    def write(self, change: Callable[[], Any],
              done: str | Callable[[Any], str] | None = None) -> None:
        try:
            with _WRITES:
                result = change()
        except team.TeamError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        if done:
            text = done(result) if callable(done) else done.format(result=result)
            self.app.call_from_thread(self.notify, text)
        self.app.post_message(_team_changed())

    def _on_current(self, change: Callable[[str], Any]) -> None:
        key = self.current_key()
        if key is None:
            self.notify("No one to change yet: nobody owns deals", severity="warning")
            return
        self.write(lambda: change(key))

    def action_continue(self) -> None:
        self.first_run = False
        self.app.switch_mode("pipelines")

    def action_toggle_rep(self) -> None:
        self._on_current(team.toggle_coached)

    def action_cycle_role(self) -> None:
        def cycle(key: str) -> Any:
            role = next((r.role for r in self.rows if r.key == key), None)
            return team.set_role(key, team.next_role(role))
        self._on_current(cycle)

    def action_set_role(self, role: str) -> None:
        self._on_current(lambda key: team.set_role(key, role))

    def action_cycle_manager(self) -> None:
        self._on_current(team.cycle_manager)

    def action_import_crm(self) -> None:
        self.write(team.import_from_crm,
                   done=lambda n: f"Imported {plural(n, 'new user')} from Salesforce"
                   if n else "Everyone who owns deals is in the team already")

    def action_rep_view(self) -> None:
        """The selected person in the inspection: their changes, deals at risk, figures."""
        row = next((r for r in self.rows if r.key == self.current_key()), None)
        if row is None or row.by_hand:
            self.notify("Only Salesforce users own deals to inspect", severity="warning")
            return
        from smvue_tui.tui.screens.inspection import show_rep

        show_rep(self.app, row.key)

    def action_add_member(self) -> None:
        self.app.push_screen(AddMemberScreen(self.managers), self._added)

    def _added(self, member_id: int | None) -> None:
        if member_id is not None:
            self.notify("Team member added")
            self.app.post_message(_team_changed())


COLUMN_LABELS = ("Rep", "Name", "Role", "Manager", "Deals", "Open amount", "Status")
COLUMN_KEYS = ("rep", "name", "role", "manager", "deals", "amount", "status")


def _cells(row: team.TeamRow) -> tuple[str, ...]:
    """A row's cells, in ``COLUMN_KEYS`` order."""
    return ("✓" if row.coached else "·", row.name, row.role or "", row.manager_name or "",
            str(row.deals), team.format_amount(row.open_amount) if row.deals else "",
            _status(row))


def _status(row: team.TeamRow) -> str:
    notes = []
    if row.by_hand:
        notes.append("added by hand")
    elif not row.is_active:
        notes.append("inactive")
    if row.is_new:
        notes.append("new")
    return ", ".join(notes)


class AddMemberScreen(ModalScreen[int | None]):
    """A small form: someone who owns no deals yet (name, email, role, manager)."""

    DEFAULT_CSS = """
    AddMemberScreen { align: center middle; }
    AddMemberScreen > #member-form { width: 64; height: auto; background: $panel; }
    AddMemberScreen .error { color: $error; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="team_form_save"),
        Binding("escape", "cancel", "Cancel", id="team_form_cancel"),
    ]

    def __init__(self, managers: list[tuple[str, int]]) -> None:
        super().__init__()
        self.managers = managers

    def compose(self) -> ComposeResult:
        with Vertical(id="member-form", classes="panel"):
            yield Static("Add a team member", classes="title")
            yield Label("Name")
            yield Input(id="member-name", placeholder="Full name")
            yield Label("Email")
            yield Input(id="member-email", placeholder="name@company.com (optional)")
            yield Label("Role")
            yield Select([(r, r) for r in team.ROLES], value="AE", allow_blank=False,
                         id="member-role")
            yield Label("Manager")
            yield Select(self.managers, value=self.managers[0][1] if self.managers
                         else Select.NULL, id="member-manager")
            yield Static("", id="member-error", classes="error")
            yield Static("ctrl+s saves · escape cancels", classes="muted")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def action_save(self) -> None:
        manager = self.query_one("#member-manager", Select).value
        self.save(self.query_one("#member-name", Input).value,
                  self.query_one("#member-email", Input).value,
                  str(self.query_one("#member-role", Select).value),
                  manager if isinstance(manager, int) else None)

    @work(thread=True, exclusive=True, group="team-form", exit_on_error=False,
          description="Adding a team member")
    def save(self, name: str, email: str, role: str, manager_id: int | None) -> None:
        try:
            with _WRITES:
                member = team.add_member(name, email, role, manager_id)
        except team.TeamError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self.dismiss, member.id)

    def _error(self, text: str) -> None:
        self.query_one("#member-error", Static).update(text)
