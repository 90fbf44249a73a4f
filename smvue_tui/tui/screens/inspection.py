"""Pipeline inspection: what changed over a period, the deals at risk and why, figures per rep,
and the quarter's waterfall and forecast categories as bar charts.

The report is ``inspection.report.inspect`` (the same dict ``smvue-tui inspect --json`` prints),
read in a thread worker; the screen only shows it. Keys: ``.`` the period, ``d`` changes since a
typed date or time, ``c`` the change kind, ``r`` the rep, ``enter`` opens the deal under the
cursor, ``1``–``5`` the tabs.

The periods are ``inspection.periods.PERIODS`` (``.`` goes round them from the last 7 days); the
labels are the report's own (``window.label``), so the screen and ``inspect`` say the same.

Charts are drawn with textual-plotext (plotext in a Textual widget, by Textualize): it follows
the app's theme and resizes with the terminal, where a hand-drawn bar of block characters would
need its own scaling and axis code; plotext's bar charts keep their labels at 80×24.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from smvue_tui.inspection.history import Past, sources, stage_info
from smvue_tui.inspection.periods import PERIODS, window
from smvue_tui.inspection.report import inspect
from smvue_tui.inspection.trend import Week, weekly
from smvue_tui.tui.messages import StoreChanged
from smvue_tui.tui.screens.deal_detail import DealDetailScreen
from smvue_tui.tui.screens.inspection_charts import MoneyPlot, draw_trend
from smvue_tui.tui.screens.inspection_tables import (
    CHANGES_COLUMNS,
    RISK_COLUMNS,
    Bands,
    draw_report,
    fill_changes,
    fill_reps,
    fill_risk,
    refill,
)
from smvue_tui.tui.screens.inspection_view import KIND_LABELS, owner_names, period_words, rep_line
from smvue_tui.tui.screens.pipeline_modals import Answer, FormModal
from smvue_tui.tui.screens.resume import (
    LatestRead,
    ReadOutcome,
    StoreReads,
    outcome_of,
    shown,
)
from smvue_tui.tui.widgets.app_header import app_header
from smvue_tui.tui.widgets.keys_footer import KeysFooter

FIRST_PERIOD = PERIODS.index("last-7d")  # as `inspect` with neither --since nor --period


@dataclass
class InspectionLoaded(Message):
    outcome: ReadOutcome[dict[str, Any]]  # busy: a sync held the write lock (read again later)


@dataclass
class TrendLoaded(Message):
    weeks: list[Week] | None  # None: not read (an error)


class InspectionScreen(StoreReads, Screen[None]):
    BINDINGS = [
        Binding("full_stop", "next_period", "Period", id="inspect_period"),
        Binding("d", "pick_since", "Since…", id="inspect_since"),
        Binding("c", "next_kind", "Change kind", id="inspect_kind"),
        Binding("r", "next_rep", "Rep", id="inspect_rep"),
        Binding("1", "tab('changes')", "Changes", show=False, id="inspect_tab_changes"),
        Binding("2", "tab('risk')", "At risk", show=False, id="inspect_tab_risk"),
        Binding("3", "tab('reps')", "Reps", show=False, id="inspect_tab_reps"),
        Binding("4", "tab('charts')", "Charts", show=False, id="inspect_tab_charts"),
        Binding("5", "tab('trend')", "Trend", show=False, id="inspect_tab_trend"),
    ]
    # A report is seconds of CPU on a big store, and a sync changes the store every second: a
    # store change reads no sooner than READ_GAP, nor READ_COST_FACTOR × the last read's time,
    # after the last read started (≤ 20 % of a core); a key the manager presses is not spaced.
    READ_GAP = 1.0
    READ_COST_FACTOR = 4.0
    DEFAULT_CSS = """
    InspectionScreen #inspect-summary { height: auto; padding: 0 1; }
    InspectionScreen TabbedContent { height: 1fr; }
    InspectionScreen ContentSwitcher { height: 1fr; }
    /* A rep's view at 80×24 leaves the two charts less than their minimum: the tab scrolls
       (a scrollbar says there is more) rather than growing past the screen's foot. */
    InspectionScreen TabPane { height: 1fr; overflow-y: auto; }
    InspectionScreen MoneyPlot { height: 1fr; min-height: 9; }
    InspectionScreen DataTable { height: 1fr; }
    """

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__()
        self.now = now  # fixed in tests; else the time of each read
        self.period = FIRST_PERIOD  # an index into PERIODS
        self.since: str | None = None  # a start the manager typed (d), over the preset period
        self.kind: str | None = None
        self.rep: str | None = None
        self.report: dict[str, Any] | None = None
        self.trend: list[Week] = []  # the weeks the Trend tab shows
        self.bands: Bands | None = None  # the widths the tables were laid out for
        self._view: tuple[Any, ...] | None = None  # (since, period, rep, kind) they show
        # One read at a time, one more for the changes during it: never an older report over
        # a newer one (a worker's thread cannot be stopped, only its result ignored).
        self.report_gate = LatestRead(self.READ_GAP, self.READ_COST_FACTOR)
        self.trend_gate = LatestRead(self.READ_GAP, self.READ_COST_FACTOR)
        self.trend_owed = False  # its read came due while the screen was hidden
        self.rep_order: list[str] = []  # r's round: every rep, from a report over all of them

    def compose(self) -> ComposeResult:
        yield app_header()
        yield Static("Loading…", id="inspect-summary")
        with TabbedContent(initial="changes"):
            with TabPane("Changes", id="changes"):
                yield DataTable(id="inspect-changes", cursor_type="row", zebra_stripes=True)
            with TabPane("At risk", id="risk"):
                yield DataTable(id="inspect-risk", cursor_type="row", zebra_stripes=True)
            with TabPane("Reps", id="reps"):
                # Two header lines: each figure's name over the time it covers.
                yield DataTable(id="inspect-reps", cursor_type="row", zebra_stripes=True,
                                header_height=2)
            with TabPane("Charts", id="charts"):
                yield MoneyPlot(id="inspect-waterfall")
                yield MoneyPlot(id="inspect-forecast")
            with TabPane("Trend", id="trend"):
                yield MoneyPlot(id="inspect-trend")
                yield MoneyPlot(id="inspect-by-rep")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#inspect-changes", DataTable).add_columns(*CHANGES_COLUMNS)
        self.query_one("#inspect-risk", DataTable).add_columns(*RISK_COLUMNS)
        self.query_one("#inspect-changes", DataTable).focus()

    def on_screen_resume(self) -> None:
        # Read when shown, never when built: the app builds this screen hidden after start-up
        # (WARM_UP_MODES), and the report is seconds of work on a big store.
        # After the first paint: the report's thread holds the GIL for most of its seconds,
        # and started here it would slow the paint that shows "Loading…".
        if (self.report is None and not self.report_gate.running) or self.changed_since_read():
            self.call_after_refresh(self.load)
        elif self.trend_owed:  # the report is current, the weeks drawn are not
            self.call_after_refresh(self.load_trend)

    def on_store_changed(self, message: StoreChanged) -> None:
        if shown(self):  # hidden (another mode, or a deal or dialog on top): read on resume
            self.load(spaced=True)

    def on_resize(self) -> None:
        if self.report is not None and Bands.of(self.size.width) != self.bands:
            self._fill(self.report)  # laid out for another width: the names and headers fit

    # --- reading ---------------------------------------------------------------------------

    def load(self, spaced: bool = False) -> None:
        """Read the report again, and the trend when its tab is shown. ``spaced``: a store
        change (``READ_GAP``); else a key, a resume or a retry, read as soon as the running
        read (if any) is done."""
        self.read_latest(self.report_gate, self._start_read, spaced)
        self.load_trend(spaced)

    def _start_read(self) -> None:
        if not shown(self):  # came due while another screen is shown: read on return
            self.report_gate.cancel()
            self.forget_read()
            return
        self.note_read()
        self._read(self.since, None if self.since else PERIODS[self.period], self.rep)

    @work(thread=True, group="inspection", exit_on_error=False,
          description="Inspecting the pipeline")
    def _read(self, since: str | None, period: str | None, rep: str | None) -> None:
        # ValueError, LookupError: a bad start or rep, bad [inspection] settings — said.
        outcome_of(lambda: inspect(self.app.services.config(), since=since, period=period,
                                   rep=rep, now=self._judged_at()),
                   lambda outcome: self.post_message(InspectionLoaded(outcome)),
                   said=(ValueError, LookupError))

    def _judged_at(self) -> datetime | None:
        """The time this screen judges by: its own fixed one, else the app's (tests fix both)."""
        return self.now or self.app.services.judged_at()

    def load_trend(self, spaced: bool = False) -> None:
        """The weekly trend replays a quarter of history: read only while its tab is shown."""
        if self.query_one(TabbedContent).active == "trend":
            self.read_latest(self.trend_gate, self._start_trend, spaced)

    def _start_trend(self) -> None:
        if not shown(self) or self.query_one(TabbedContent).active != "trend":
            self.trend_gate.cancel()  # read when the tab (or the screen) is shown again
            self.trend_owed = self.trend_owed or not shown(self)  # the screen: on resume
            return
        self.trend_owed = False
        self._read_trend(self.rep)

    @work(thread=True, group="inspection-trend", exit_on_error=False,
          description="Rebuilding the weekly pipeline")
    def _read_trend(self, rep: str | None) -> None:
        weeks = None
        try:
            when = self._judged_at() or datetime.now(UTC)
            weeks = weekly(Past(sources(), stage_info()), when, rep=rep)
        finally:  # always: it ends the read (trend_gate)
            self.post_message(TrendLoaded(weeks))

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.load_trend()

    @on(TrendLoaded)
    def show_trend(self, message: TrendLoaded) -> None:
        try:
            if message.weeks is not None:
                self.trend = message.weeks
                plot = self.query_one("#inspect-trend", MoneyPlot)
                draw_trend(plot, message.weeks)
                plot.refresh()
        finally:  # the next read may start, whatever befell this one
            self.read_done(self.trend_gate, self._start_trend)

    @on(InspectionLoaded)
    def show(self, message: InspectionLoaded) -> None:
        self.show_outcome(message.outcome, self.report_gate, self._start_read,
                          lambda: self._show(message.outcome), ("inspection", self._retry))

    def _show(self, outcome: ReadOutcome[dict[str, Any]]) -> None:
        summary = self.query_one("#inspect-summary", Static)
        if outcome.busy:  # what is shown stays; the words say why it is not new
            words = Text(f"Not read: {outcome.error}.", style="yellow")
            summary.update(words if self.report is None else Text.assemble(
                words, "\n", self._summary(self.report).split("\n")[0]))
            return
        if outcome.value is None:
            summary.update(Text(f"Cannot inspect: {outcome.error}", style="red"))
            return
        self.report = r = outcome.value
        if r["rep"] is None:
            self.rep_order = [p["owner_id"] for p in r["reps"]]
        self._fill(r)

    def _fill(self, r: dict[str, Any]) -> None:
        self.query_one("#inspect-summary", Static).update(self._summary(r))
        self.bands = bands = Bands.of(self.size.width)
        # The same view read again (a store change) or laid out again (a resize): the cursors
        # stay on their rows; another period, rep or kind starts at the top.
        view = (self.since, self.period, self.rep, self.kind)
        keep, self._view = view == self._view, view
        changed = [d for d in r["changes"]["deals"] if not self.kind or self.kind in d["kinds"]]
        table = self.query_one("#inspect-changes", DataTable)
        refill(table, lambda: fill_changes(table, changed, owner_names(r), bands), keep)
        risk = self.query_one("#inspect-risk", DataTable)
        refill(risk, lambda: fill_risk(risk, r["flags"]["deals"], owner_names(r), bands), keep)
        reps = self.query_one("#inspect-reps", DataTable)
        refill(reps, lambda: fill_reps(reps, r["reps"], owner_names(r), self.period_label(),
                                       bands), keep)
        draw_report(self.query_one("#inspect-waterfall", MoneyPlot),
                    self.query_one("#inspect-forecast", MoneyPlot),
                    self.query_one("#inspect-by-rep", MoneyPlot), r, self.period_label())

    def _retry(self) -> None:
        if shown(self):
            self.load()
        else:  # shown again later: read then (a store change counts as one)
            self.report = None

    def _summary(self, r: dict[str, Any]) -> Text:
        src = r["sources"]
        changed = [d for d in r["changes"]["deals"] if not self.kind or self.kind in d["kinds"]]
        label = self.period_label()
        text = Text(label[:1].upper() + label[1:], style="bold")
        text.append(f" · {r['rep']['name'] if r['rep'] else 'all reps'}")
        text.append(f" · {KIND_LABELS[self.kind] if self.kind else 'every change'}")
        text.append(f" · {len(changed)} changed · {len(r['flags']['deals'])} at risk")
        if r["rep"] and r["reps"]:  # one rep's view: their figures above every tab
            text.append("\n" + rep_line(r["reps"][0], self.period_label()), style="not bold")
        if not src["opportunity_history"]:
            text.append("\nNo OpportunityHistory in this org: changes come from what each sync "
                        "saw", style="dim")
        elif not src["complete"]:
            text.append("\nOwner changes before the first sync are not known", style="dim")
        return text

    # --- actions ---------------------------------------------------------------------------

    def period_label(self) -> str:
        """The period the report covers, as it names it ("last 7 days", "this quarter",
        "since 2026-11-01")."""
        if self.report is not None:
            return period_words(self.report["window"]["label"])
        try:
            return period_words(window(self.since, None if self.since else PERIODS[self.period],
                                       self._judged_at()).label)
        except ValueError:
            return f"since {self.since}"

    def action_next_period(self) -> None:
        if self.since:  # from a typed start back to the preset it replaced
            self.since = None
        else:
            self.period = (self.period + 1) % len(PERIODS)
        self.load()

    def action_pick_since(self) -> None:
        """Changes since a date or time the manager types (``inspect --since``'s forms)."""
        def check(values: list[str]) -> str:
            text = values[0].strip()
            try:
                window(text, now=self._judged_at())
            except ValueError as exc:  # the CLI's words, for a form: "The start must be …"
                raise ValueError(str(exc).replace("--since", "The start")) from None
            return text

        def picked(answer: Answer[str] | None) -> None:
            if answer is not None:
                self.since = answer.value
                self.load()

        self.app.push_screen(FormModal(
            "Changes since", [("A date, a time, or 7d / 24h / 2w", self.since or "")], check,
            hint="2026-11-01, 2026-11-01T09:00, 3d … (. goes back to the preset periods)"),
            picked)

    def action_next_kind(self) -> None:
        present = [k for k in KIND_LABELS if self.report and
                   self.report["changes"]["totals"][k]["count"]]
        order = [None, *present]
        self.kind = order[(order.index(self.kind) + 1) % len(order)] if self.kind in order \
            else None
        if self.report:
            self._fill(self.report)

    def action_next_rep(self) -> None:
        # The reps of the last report over everyone: a rep's own report lists only that rep.
        owners = [None, *self.rep_order]
        self.rep = owners[(owners.index(self.rep) + 1) % len(owners)] if self.rep in owners \
            else None
        self.load()

    def show_rep(self, owner_id: str) -> None:
        """One rep's view: their figures in the summary, their changes first."""
        self.action_tab("changes")
        if self.rep != owner_id:
            self.rep = owner_id
            self.load()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        table = {"changes": "#inspect-changes", "risk": "#inspect-risk",
                 "reps": "#inspect-reps"}.get(tab)
        if table:
            self.query_one(table, DataTable).focus()

    @on(DataTable.RowSelected)
    def open_deal(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if event.data_table.id in ("inspect-changes", "inspect-risk") and key:
            self.app.push_screen(DealDetailScreen(key))
        elif event.data_table.id == "inspect-reps" and key and key != self.rep:
            self.show_rep(key)  # a rep's row: that rep's view


def show_rep(app: Any, owner_id: str) -> None:
    """Open the inspection on one rep (from the team screen, or any screen that knows one)."""

    def focus() -> None:
        if isinstance(app.screen, InspectionScreen):
            app.screen.show_rep(owner_id)

    app.switch_mode("inspection")
    app.call_later(focus)
