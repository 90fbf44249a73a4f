"""One progress bar per Salesforce object, fed ``ProgressEvent``s (the sync's own counts, rate
and ETA: the bar's clock is never asked, so a test with a fixed clock draws the same)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.clock import Clock
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, ProgressBar

from smvue_tui.sync.progress import ProgressEvent

_PHASE = {"done": "done", "skipped": "skipped", "failed": "failed"}
# What a sales manager calls each Salesforce object.
LABELS = {
    "Opportunity": "Opportunities", "Account": "Accounts", "Contact": "Contacts",
    "OpportunityContactRole": "Contact roles", "OpportunityHistory": "Stage history",
    "OpportunityTeamMember": "Deal collaborators", "AccountTeamMember": "Account collaborators",
    "Event": "Meetings (Events)", "Task": "Tasks", "EmailMessage": "Emails", "User": "Users",
    "Lead": "Leads", "LeadHistory": "Lead history", "RecordType": "Pipelines (record types)",
    "OpportunityStage": "Stages", "Organization": "Organization",
}


_ORDER = {name: i for i, name in enumerate(LABELS)}


def _rank(sobject: str) -> int:
    return _ORDER.get(sobject, len(_ORDER))


def describe_event(event: ProgressEvent) -> str:
    """``1,234 / 5,000  820 rec/s  ETA 0:04`` (or done / skipped / failed)."""
    total = event.total
    if event.phase == "done":
        total = event.done if total is None else max(total, event.done)
    count = f"{event.done:,} / {total:,}" if total is not None else f"{event.done:,} / ?"
    if event.phase in _PHASE:
        return f"{count}  {_PHASE[event.phase]}"
    rate = f"{event.records_per_s:,.0f} rec/s"
    eta = f"ETA {clock_text(event.eta_s)}" if event.eta_s is not None else "ETA --"
    return f"{count}  {rate}  {eta}"


def clock_text(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


class ObjectProgress(Horizontal):
    """Name, bar and counts of one object."""

    DEFAULT_CSS = """
    ObjectProgress { height: 1; }
    ObjectProgress > .name { width: 26; }
    ObjectProgress > ProgressBar { width: 44; }
    ObjectProgress > .counts { width: 1fr; color: $text-muted; }
    ObjectProgress.-done > .name { color: $success; }
    ObjectProgress.-failed > .name, ObjectProgress.-skipped > .name { color: $warning; }
    """

    def __init__(self, sobject: str, clock: Clock | None = None) -> None:
        super().__init__(id=f"obj-{sobject}")
        self.sobject = sobject
        self._clock = clock
        self.latest: ProgressEvent | None = None  # shown once mounted
        self._drawn: ProgressEvent | None = None
        self._ready = False

    def on_mount(self) -> None:
        self._ready = True
        if self.latest is not None:
            self.show(self.latest)

    def compose(self) -> ComposeResult:
        yield Label(LABELS.get(self.sobject, self.sobject), classes="name")
        yield ProgressBar(total=None, show_eta=False, clock=self._clock)
        yield Label("waiting", classes="counts")

    def show(self, event: ProgressEvent) -> None:
        self.latest = event
        if not self._ready or event is self._drawn:
            return  # not mounted yet, or already drawn (the screen shown again)
        self._drawn = event
        bar = self.query_one(ProgressBar)
        total = event.total
        if event.phase != "running":
            total = max(total or 0, event.done, 1)
            bar.update(total=total, progress=total)
        elif total:
            bar.update(total=total, progress=min(event.done, total))
        for phase in ("done", "failed", "skipped"):
            self.set_class(event.phase == phase, f"-{phase}")
        self.query_one(".counts", Label).update(describe_event(event))


class SyncPanel(VerticalScroll):
    """The bars, in the order objects first report."""

    DEFAULT_CSS = "SyncPanel { height: auto; max-height: 1fr; }"

    def __init__(self, clock: Clock | None = None, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self._rows: dict[str, ObjectProgress] = {}

    def clear(self) -> None:
        self._rows.clear()
        self.remove_children()

    def show(self, event: ProgressEvent) -> None:
        row = self._rows.get(event.sobject)
        if row is None:
            row = self._rows[event.sobject] = ObjectProgress(event.sobject, self._clock)
            row.latest = event
            # Rows keep the order a sales manager reads them in (deals first), whatever
            # order the sync starts the objects in.
            earlier = [r for r in self._rows.values() if r is not row
                       and _rank(r.sobject) <= _rank(event.sobject)]
            if earlier:
                self.mount(row, after=max(earlier, key=lambda r: _rank(r.sobject)))
            else:
                self.mount(row, before=0 if len(self._rows) > 1 else None)
        else:
            row.show(event)

    def events_shown(self) -> dict[str, str]:
        """sobject → the counts text shown (for tests and screenshots)."""
        return {name: describe_event(row.latest) for name, row in self._rows.items()
                if row.latest is not None}
