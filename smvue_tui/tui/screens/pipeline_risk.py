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
from smvue_tui.tui.widgets.paged_table import PagedTable


class RiskFlags:
    """Reads the flags when the screen is shown and after each re-read of the store; one read at
    a time (a change during a read asks for one more), none while the screen is hidden."""

    app: Any
    is_current: bool
    query_one: Callable[..., Any]
    post_message: Callable[[Message], Any]
    notify: Callable[..., None]

    @dataclass
    class _Flags(Message):
        counts: dict[str, int]  # flagged deal Id → how many flags (ints: 100,000 stay small)
        error: str = ""

    def init_risk(self) -> None:
        self.risk = RiskMarks()
        self.risk_stale = True  # shown "…" until the first read
        self._risk_running = False
        self._risk_again = False

    def load_risk(self) -> None:
        self.risk_stale = True
        if not self.is_current:
            return  # built hidden, or another mode shown: read when shown (on_screen_resume)
        if self._risk_running:
            self._risk_again = True
            return
        self._risk_running = True
        self.risk_stale = False
        self._read_risk()

    @work(thread=True, group="pipelines-risk", exit_on_error=False,
          description="reading risk flags")
    def _read_risk(self) -> None:
        try:
            rules = flagged_rules(self.app.services.config(), self.app.services.judged_at())
            counts = {deal: len(found) for deal, found in rules.items()}
        except Exception as exc:  # bad [inspection] settings, a store mid-migration: said
            self.post_message(RiskFlags._Flags({}, str(exc.args[0] if exc.args else exc)))
            return
        self.post_message(RiskFlags._Flags(counts))

    def on_risk_flags__flags(self, message: _Flags) -> None:
        self._risk_running = False
        if message.error:
            self.notify(f"Could not read the risk flags: {message.error}", severity="error")
        self.risk.counts = message.counts
        self.query_one("#deals", PagedTable).refresh()
        if self._risk_again:
            self._risk_again = False
            self.load_risk()

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
