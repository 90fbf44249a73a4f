"""Pipelines: one tab per record type, the team's deals grouped by stage or rep, and the deal list.

The screen is thin: ``store/pipeline.py`` does the math and ``store/deals.py`` the paging, both
in thread workers; results come back as messages. The deal list is a ``PagedTable`` so 100,000
deals paint as fast as 100.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from smvue_tui.store import pipeline as pl
from smvue_tui.store.deals import DEAL_COLUMNS, DealSource
from smvue_tui.store.rollup import rep_choices, rollup
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.not_connected import empty_store_text, nothing_synced
from smvue_tui.tui.screens.pipeline_extras import SearchElsewhere, StageOverrides
from smvue_tui.tui.screens.pipeline_modals import (
    Answer,
    ChoiceModal,
    FormModal,
    parse_range,
)
from smvue_tui.tui.screens.pipeline_risk import RiskFlags
from smvue_tui.tui.screens.pipeline_view import deal_table_columns, summary_table, tab_id
from smvue_tui.tui.screens.resume import KeepStyles, StoreReads, shown
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter
from smvue_tui.tui.widgets.paged_table import PagedTable
from smvue_tui.tui.widgets.store_write import write_in_background

FIRST_PAGE = 100  # rows per page of the deal list; more than a tall terminal shows
NO_MATCH = "No deals match these filters"
STATUS_LABELS = {"open": "Open", "won": "Won", "lost": "Lost", "all": "All"}


class PipelinesScreen(SearchElsewhere, StageOverrides, RiskFlags, StoreReads, KeepStyles,
                      Screen[None]):
    # Focus the deal list as the screen opens (a focus change later recomposes the footer).
    AUTO_FOCUS = "#deals"
    # The footer shows the daily keys; "?" lists every key, [ ] d v included.
    BINDINGS = [
        Binding("slash", "search", "Search", id="pipelines_search"),
        Binding("r", "pick_rep", "Rep", id="pipelines_rep"),
        Binding("o", "cycle_status", "Open/won/lost", id="pipelines_status"),
        Binding("c", "pick_period", "Close period", id="pipelines_period"),
        Binding("g", "toggle_grouping", "By stage/rep", id="pipelines_grouping"),
        Binding("e", "edit_probability", "Stage %", id="pipelines_probability"),
        Binding("d", "make_default", "Default pipeline", show=False, id="pipelines_default"),
        Binding("R", "owner_view", "Owner's rep view", show=False, id="pipelines_rep_view"),
        Binding("right_square_bracket", "next_tab(1)", "Next pipeline", show=False,
                id="pipelines_next"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous pipeline", show=False,
                id="pipelines_previous"),
        Binding("escape", "clear_search", "Clear search", show=False,
                id="pipelines_clear_search"),
    ]

    # Tests pin "today" so close periods are deterministic.
    today: Callable[[], date] = staticmethod(date.today)

    @dataclass
    class _Setup(Message):
        pipelines: list[pl.Pipeline]
        team_mapped: bool
        fiscal_start: int
        preload: tuple[DealSource, int | None, list[tuple]] | None = None
        nothing_synced: bool = False

    @dataclass
    class _Summary(Message):
        filter: pl.DealFilter
        summary: pl.Summary

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filter = pl.DealFilter()
        self.pipelines: list[pl.Pipeline] = []
        self.period = "any"
        self.fiscal_start = 1
        self.grouping = "stage"
        self.team_mapped = False
        self.summary: pl.Summary | None = None
        self.rep_name = ""
        self._ready = False
        self._building_tabs = False
        self.nothing_synced = False
        self.elsewhere: list[tuple[str, str, int]] = []  # the search's hits on other tabs
        self.init_risk()

    def compose(self) -> ComposeResult:
        # Read the first page while the screen is still being built: it is ready by first paint.
        self.note_read()
        self._load_setup(first_page=FIRST_PAGE)
        yield app_header()
        yield Tabs(id="pipeline-tabs")
        yield Static("", id="pipeline-notice", classes="notice")
        yield Static("", id="pipeline-filters", classes="muted")
        yield Input(placeholder="Search deal or account name…", id="deal-search")
        yield Static("Loading…", id="pipeline-summary")
        yield PagedTable(deal_table_columns(self.risk), id="deals", sort=DealSource().sort,
                         page_size=FIRST_PAGE, empty_text=NO_MATCH)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#deal-search").display = False

    # --- loading -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="pipelines-setup", exit_on_error=False,
          description="reading pipelines")
    def _load_setup(self, first_page: int = 0) -> None:
        """Pipelines, team and fiscal year; the first time also the default pipeline's first
        ``first_page`` deals, so the table paints without waiting for a second round trip."""
        found = pl.pipelines()
        preload = None
        if first_page:
            flt = replace(self.filter, pipeline=pl.default_pipeline(found).key)
            source = DealSource(flt)
            preload = (source, None, source.fetch(0, first_page))  # the table counts next
        self.post_message(self._Setup(found, pl.team_is_mapped(), pl.fiscal_start_month(),
                                      preload, nothing_synced()))

    def on_pipelines_screen__setup(self, message: _Setup) -> None:
        self.nothing_synced = message.nothing_synced
        table = self.query_one("#deals", PagedTable)
        table.empty_text = (empty_store_text(self.app.connected)  # type: ignore[attr-defined]
                            if self.nothing_synced else NO_MATCH)
        self.team_mapped = message.team_mapped
        self.fiscal_start = message.fiscal_start
        old_keys = [p.key for p in self.pipelines]
        self.pipelines = message.pipelines
        current = self.filter.pipeline
        if message.preload is not None:
            current = message.preload[0].filter.pipeline
        elif current not in [p.key for p in self.pipelines]:
            current = pl.default_pipeline(self.pipelines).key
        self._ready = True
        self.filter = replace(self.filter, pipeline=current)
        table = self.query_one("#deals", PagedTable)
        wanted = DealSource(self.filter, table.sort or DealSource().sort)
        if message.preload is not None and message.preload[0] == wanted:
            source, count, rows = message.preload
            table.set_source(source, preloaded=(count, rows))
            self._show_notice()
            # Totals, tabs and flags after the rows are on screen: the first paint waits for
            # nothing.
            self.call_after_refresh(self._load_summary, self.filter)
        else:  # a StoreChanged re-read, or keys pressed before the first page arrived
            self._apply_filter(keep_cursor=message.preload is None)
        if message.preload is None:  # a re-read: the flags too (the first rows ask for theirs)
            self.call_after_refresh(self.load_risk)
        # Mounting tabs awaits; a worker keeps that from holding up this screen's messages.
        self.call_after_refresh(self.run_worker, self._sync_tabs(old_keys, current),
                                group="pipelines-tabs", exclusive=True, exit_on_error=False,
                                description="pipeline tabs")

    async def _sync_tabs(self, old_keys: list[str], current: str) -> None:
        tabs = self.query_one(Tabs)
        self._building_tabs = True  # activations while mounting are not the user's
        try:
            if [p.key for p in self.pipelines] != old_keys:
                await tabs.clear()
                for p in self.pipelines:
                    await tabs.add_tab(Tab(Text(self._tab_label(p)), id=tab_id(p.key)))
            else:
                for p in self.pipelines:
                    tabs.query_one(f"#{tab_id(p.key)}", Tab).label = Text(self._tab_label(p))
            tabs.active = tab_id(current)
        finally:
            self._building_tabs = False

    @staticmethod
    def _tab_label(p: pl.Pipeline) -> str:
        return f"★ {p.name}" if p.is_default else p.name

    def _show_notice(self) -> None:
        notice = self.query_one("#pipeline-notice", Static)
        # No deals at all: nothing to focus yet (the table says why there are none).
        quiet = self.team_mapped or self.nothing_synced
        notice.update("" if quiet else
                      "Showing all deals. Map your team (t) to focus on your reps.")
        notice.display = not quiet
        self._update_filter_line()

    def _apply_filter(self, keep_cursor: bool = False) -> None:
        """Show the current filter: the notice, the filter line, totals and the deal list."""
        self._show_notice()
        table = self.query_one("#deals", PagedTable)
        source = DealSource(self.filter, table.sort or DealSource().sort)
        if keep_cursor and table.source == source:
            table.reload()
        else:
            table.set_source(source, keep_cursor=keep_cursor)
        self._load_summary(self.filter)

    def _update_filter_line(self, count: int | None = None) -> None:
        f = self.filter
        period = pl.PERIOD_LABELS[self.period]
        if self.period == "custom":
            period = f"{f.close_from or '…'} to {f.close_to or '…'}"
        parts = [f"Rep: {self.rep_name or 'All'}", f"Status: {STATUS_LABELS[f.status]}",
                 f"Close: {period}"]
        if f.search:
            parts.append(f"Search: {f.search!r}")
        table = self.query_one("#deals", PagedTable)
        count = table.row_count if count is None and table.loaded else count
        if count is not None:
            parts.append(f"{count:,} deals")
        if f.search and self.elsewhere:
            parts.append("also in " + ", ".join(f"{name} ({n:,})"
                                                for _, name, n in self.elsewhere))
        # Text, not markup: the search term is whatever the user typed ("[" included).
        self.query_one("#pipeline-filters", Static).update(Text(" · ".join(parts)))

    @work(thread=True, exclusive=True, group="pipelines-summary", exit_on_error=False,
          description="pipeline totals")
    def _load_summary(self, flt: pl.DealFilter) -> None:
        summary = pl.summarize(flt)
        summary.teams = rollup(summary.by_rep)  # the by-rep view's manager rollup
        self.post_message(self._Summary(flt, summary))

    def on_pipelines_screen__summary(self, message: _Summary) -> None:
        if message.filter != self.filter:
            return  # a newer filter's totals are on their way
        self.summary = message.summary
        self._render_summary()

    def _render_summary(self) -> None:
        if self.summary is not None:
            # nothing synced: the deal list alone says why (not twice)
            self.query_one("#pipeline-summary", Static).update(summary_table(
                self.summary, self.grouping, "" if self.nothing_synced else NO_MATCH))

    @on(PagedTable.DataLoaded, "#deals")
    def _deals_loaded(self, event: PagedTable.DataLoaded) -> None:
        self._update_filter_line(event.count)
        self.elsewhere = []
        if self.filter.search.strip():
            self._search_elsewhere(self.filter)
        elif not self.nothing_synced:
            event.table.empty_text = NO_MATCH

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # say what failed; never a traceback page
            self.notify(f"Could not finish {event.worker.description}: {event.worker.error}",
                        severity="error")

    def on_store_changed(self, message: StoreChanged) -> None:
        if shown(self):  # hidden (a deal or a dialog on top): read on resume
            self._reread()

    def on_screen_resume(self) -> None:
        if self.changed_since_read():  # while hidden: a sync, the team mapped
            self._reread()
        elif self.risk_stale:
            self.load_risk()

    def _reread(self) -> None:
        self.note_read()
        self._load_setup()  # re-reads pipelines, then refreshes totals and rows in place

    # --- tabs, filters, search ---------------------------------------------------------------

    @on(Tabs.TabActivated, "#pipeline-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if (not self._ready or self._building_tabs or event.tab is None
                or event.tab.id != event.tabs.active):
            return  # set-up, or a stale activation while the tabs were rebuilt
        key = next((p.key for p in self.pipelines if tab_id(p.key) == event.tab.id), None)
        if key is not None and key != self.filter.pipeline:
            self.filter = replace(self.filter, pipeline=key, rep=None)
            self.rep_name = ""
            self._apply_filter()

    def action_next_tab(self, step: int) -> None:
        tabs = self.query_one(Tabs)
        tabs.action_next_tab() if step > 0 else tabs.action_previous_tab()

    def action_cycle_status(self) -> None:
        order = list(STATUS_LABELS)
        status = order[(order.index(self.filter.status) + 1) % len(order)]
        self.filter = replace(self.filter, status=status)
        self._apply_filter()

    def action_toggle_grouping(self) -> None:
        self.grouping = "rep" if self.grouping == "stage" else "stage"
        self._render_summary()

    def action_search(self) -> None:
        search = self.query_one("#deal-search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#deal-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.filter = replace(self.filter, search=event.value)
        self._apply_filter()

    @on(Input.Submitted, "#deal-search")
    def _search_done(self, event: Input.Submitted) -> None:
        self.query_one("#deals").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":  # no search open: esc is the App's (back to Connect)
            return self.query_one("#deal-search", Input).display
        return True

    def action_clear_search(self) -> None:
        search = self.query_one("#deal-search", Input)
        if search.value:
            search.value = ""  # Input.Changed re-applies the filter
        search.display = False
        self.query_one("#deals").focus()

    def action_pick_rep(self) -> None:
        self._load_reps(self.filter)

    @work(thread=True, exclusive=True, group="pipelines-reps", exit_on_error=False,
          description="reading reps")
    def _load_reps(self, flt: pl.DealFilter) -> None:
        choices = rep_choices(flt)  # managers' teams first, then every rep
        self.app.call_from_thread(self._show_reps, choices)

    def _show_reps(self, choices: list[tuple[str | None, str]]) -> None:
        current = next((i for i, (v, _) in enumerate(choices) if v == self.filter.rep), 0)

        def picked(value: str | None) -> None:
            if value is None:
                return  # cancelled
            rep = value or None
            self.rep_name = dict(choices).get(rep, "") if rep else ""
            self.filter = replace(self.filter, rep=rep)
            self._apply_filter()

        # ChoiceModal answers None on escape, so "All reps" travels as "".
        options = [(v or "", label) for v, label in choices]
        self.app.push_screen(ChoiceModal("Show deals of", options, current), picked)

    def action_pick_period(self) -> None:
        choices = [(p, pl.PERIOD_LABELS[p] + ("…" if p == "custom" else "")) for p in pl.PERIODS]
        current = pl.PERIODS.index(self.period)
        self.app.push_screen(ChoiceModal("Close date", choices, current), self._period_picked)

    def _period_picked(self, period: str | None) -> None:
        if period is None:
            return
        if period == "custom":
            f = self.filter
            self.app.push_screen(FormModal(
                "Custom close period", [("From (YYYY-MM-DD, blank: open)", str(f.close_from or "")),
                                        ("To (YYYY-MM-DD, blank: open)", str(f.close_to or ""))],
                parse_range), self._custom_range)
            return
        start, end = pl.period_range(period, self.today(), self.fiscal_start)
        self.period = period
        self.filter = replace(self.filter, close_from=start, close_to=end)
        self._apply_filter()

    def _custom_range(self, answer: Answer[tuple[date | None, date | None]] | None) -> None:
        if answer is None:
            return
        self.period = "custom"
        start, end = answer.value
        self.filter = replace(self.filter, close_from=start, close_to=end)
        self._apply_filter()

    # --- the default pipeline ---------------------------------------------------------------

    def action_make_default(self) -> None:
        if not self._ready:
            return  # the pipelines are not known yet
        key = self.filter.pipeline
        name = next((p.name for p in self.pipelines if p.key == key), "This pipeline")
        self._write(lambda: pl.set_default_pipeline(key), f"{name} is now the default pipeline")

    def _write(self, change: Callable[[], None], done: str) -> None:
        write_in_background(self, change, done, frozenset({"smvue"}))

    # --- opening a deal ------------------------------------------------------------------------

    @on(PagedTable.RowSelected, "#deals")
    def _open_deal(self, event: PagedTable.RowSelected) -> None:
        from smvue_tui.tui.screens.deal_detail import DealDetailScreen

        self.app.push_screen(DealDetailScreen(event.row[len(DEAL_COLUMNS)]))
