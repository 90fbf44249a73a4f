"""The Pipelines screen's two ties to the inspection, as a mixin kept out of its module: the
deal list's risk column (every flagged deal's rules, read in one worker) and ``R``, the selected
deal's owner in the inspection's rep view (as ``v`` on the team screen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message

from smvue_tui.inspection.report import flagged_rules
from smvue_tui.store import models as m
from smvue_tui.store.deals import ID_INDEX
from smvue_tui.tui.screens.pipeline_view import RiskMarks
from smvue_tui.tui.screens.resume import LatestRead, ReadOutcome, outcome_of, shown
from smvue_tui.tui.widgets.paged_table import PagedTable


class RiskFlags:
    """Reads the flags of the rows the deal list holds: when the screen is shown, when new rows
    arrive, and after each re-read of the store. One read at a time, spaced (``RISK_GAP``, and
    ``RISK_COST_FACTOR`` × what the last read took: live updates can change the store every
    second); a change during a read asks for one more, so the latest is always shown in the
    end. None while the screen is hidden; a store busy with a sync's write is retried."""

    RISK_GAP = 1.0  # seconds between the starts of two reads, at least
    RISK_COST_FACTOR = 4.0  # … and 4× the last read's time (≤ 20 % of a core, said the bench)

    app: Any
    query_one: Callable[..., Any]
    post_message: Callable[[Message], Any]
    notify: Callable[..., None]
    read_latest: Callable[[LatestRead, Callable[[], None]], None]
    show_outcome: Callable[..., None]

    @dataclass
    class _Flags(Message):
        read: frozenset[str]  # the deals read
        counts: ReadOutcome[dict[str, int]]  # those flagged → how many flags

    def init_risk(self) -> None:
        self.risk = RiskMarks()
        self.risk_stale = True  # the store changed since the last read (or none was made)
        self.risk_gate = LatestRead(self.RISK_GAP, self.RISK_COST_FACTOR)

    def load_risk(self) -> None:
        """The store changed, or the screen is shown: read the held rows' flags again."""
        self.risk_stale = True
        if shown(self):  # hidden (built hidden, another mode, a deal on top): read when shown
            self.read_latest(self.risk_gate, self._start_risk_read)

    def on_paged_table_rows_cached(self, message: PagedTable.RowsCached) -> None:
        if message.table.id != "deals":
            return
        held = _held(message.table)
        if held - self.risk.read:  # new rows (a scroll, a filter): read theirs (hidden: owed)
            self.load_risk()
        else:  # fewer rows (a filter): forget the flags of those no longer held
            self.risk.show(held, {d: n for d, n in self.risk.counts.items() if d in held})

    def _start_risk_read(self) -> None:
        held = _held(self.query_one("#deals", PagedTable))
        if not shown(self) or not held:  # hidden: read when shown; no rows: when they come
            self.risk_stale = self.risk_stale or not shown(self)  # owed: on_screen_resume
            self.risk_gate.cancel()
            return
        self.risk_stale = False
        self._read_risk(held)

    @work(thread=True, group="pipelines-risk", exit_on_error=False,
          description="reading risk flags")
    def _read_risk(self, ids: frozenset[str]) -> None:
        def counts() -> dict[str, int]:
            rules = flagged_rules(self.app.services.config(), self.app.services.judged_at(),
                                  ids=ids)
            return {deal: len(found) for deal, found in rules.items()}

        # Any failure is said (bad [inspection] settings, a store mid-migration), none raised.
        outcome_of(counts, lambda outcome: self.post_message(RiskFlags._Flags(ids, outcome)))

    def on_risk_flags__flags(self, message: _Flags) -> None:
        self.show_outcome(message.counts, self.risk_gate, self._start_risk_read,
                          lambda: self._show_risk(message), ("risk", self.load_risk))

    def _show_risk(self, message: _Flags) -> None:
        counts = message.counts
        if counts.busy:  # a sync's long write: keep what is shown, read again in a while
            self.notify(f"Risk flags: {counts.error}", severity="warning")
            self.risk_stale = True
        elif counts.value is None:
            self.notify(f"Could not read the risk flags: {counts.error}", severity="error")
        else:
            self.risk.show(message.read, counts.value)
            self.query_one("#deals", PagedTable).refresh()

    # --- R: the owner's rep view --------------------------------------------------------------

    def action_owner_view(self) -> None:
        row = self.query_one("#deals", PagedTable).cursor_value
        if row is None:
            self.notify("No deal selected", severity="warning")
            return
        self._find_owner(row[ID_INDEX])

    @work(thread=True, group="pipelines-owner", exit_on_error=False,
          description="finding the deal's owner")
    def _find_owner(self, deal_id: str) -> None:
        deal = m.Opportunity.get_or_none(m.Opportunity.id == deal_id)
        self.app.call_from_thread(self._show_owner, deal.owner_id if deal else None)

    def _show_owner(self, owner_id: str | None) -> None:
        if not owner_id:
            self.notify("This deal has no owner to inspect", severity="warning")
            return
        from smvue_tui.tui.screens.inspection import show_rep

        show_rep(self.app, owner_id)


def _held(table: PagedTable) -> frozenset[str]:
    """The Ids of the deals the table holds (its cached pages)."""
    return frozenset(str(row[ID_INDEX]) for row in table.cached_rows())
