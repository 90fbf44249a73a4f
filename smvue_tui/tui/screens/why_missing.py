"""Why is this deal missing? A modal: type a deal name or Id, read why it is not shown.

The reasons come from ``store/why_missing.py``, checked against the Pipelines screen's current
filter (its ``filter`` attribute, when that screen exists; else the default pipeline's open
deals). Connected, Salesforce is asked too (queryAll, so deleted deals are found) to tell
"not in the org" from "deleted" from "closed before the lookback".
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.store import models as m
from smvue_tui.store import pipeline as pl
from smvue_tui.store import why_missing as wm
from smvue_tui.tui.widgets.keys_footer import KeysFooter


@dataclass
class Explained(Message):
    findings: list[wm.Finding]
    note: str = ""


def current_filter(app: Any) -> pl.DealFilter | None:
    """The Pipelines screen's filter (its ``filter``), if that screen was opened."""
    stacks = [app.screen_stack]
    with suppress(KeyError):  # the Pipelines screen was never opened
        stacks.append(app.get_screen_stack("pipelines"))
    for stack in stacks:
        for screen in reversed(stack):
            for name in ("deal_filter", "filter"):  # PipelinesScreen keeps it as ``filter``
                flt = getattr(screen, name, None)
                if isinstance(flt, pl.DealFilter):
                    return flt
    return None


def default_filter() -> pl.DealFilter:
    return pl.DealFilter(pipeline=pl.default_pipeline(pl.pipelines()).key)


def describe_filter(flt: pl.DealFilter) -> str:
    names = {p.key: p.name for p in pl.pipelines()}
    parts = [names.get(flt.pipeline, flt.pipeline or "All deals"), f"{flt.status} deals"]
    if flt.team_only and pl.team_is_mapped():
        parts.append("team only")
    if flt.rep:
        user = m.SfUser.get_or_none(m.SfUser.id == flt.rep)
        parts.append(f"rep {user.name if user else flt.rep}")
    if flt.close_from or flt.close_to:
        parts.append(f"closing {flt.close_from or '…'} to {flt.close_to or '…'}")
    if flt.search.strip():
        parts.append(f'search "{flt.search.strip()}"')
    return "Pipeline view: " + " · ".join(parts)


def render_findings(findings: list[wm.Finding], note: str = "") -> Text:
    text = Text()
    for finding in findings:
        text.append(finding.name, style="bold")
        if finding.deal_id:
            text.append(f"  {finding.deal_id}", style="dim")
        text.append("\n")
        if not finding.reasons:
            text.append("  ✓ It is in the pipeline view\n", style="green")
        for reason in finding.reasons:
            text.append(f"  • {reason.cause}\n")
            text.append(f"    → {reason.remedy}\n", style="italic")
        text.append("\n")
    if note:
        text.append(note, style="dim")
    return text


class WhyMissingScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    WhyMissingScreen { align: center middle; }
    WhyMissingScreen > #why-box { width: 96; max-width: 100%; height: 80%;
                                  border: round $primary;
                                  background: $panel; padding: 0 1; }
    WhyMissingScreen #why-results { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="why_close")]

    def __init__(self, flt: pl.DealFilter | None = None) -> None:
        super().__init__()
        self.flt = flt
        """The view to explain against; None: the Pipelines screen's (or the default)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="why-box"):
            yield Static("Why is this deal missing?", classes="title")
            yield Input(placeholder="Deal name (or part of it) or Opportunity Id, then enter",
                        id="why-query")
            yield Static("", id="why-view", classes="muted")
            with VerticalScroll(id="why-results"):
                yield Static("", id="why-text")
            yield Static("enter: look up · escape: close", classes="muted")
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.flt is None:
            self.flt = current_filter(self.app)
        self.show_view()

    @work(thread=True, exclusive=True, group="why-view", exit_on_error=False,
          description="Reading the pipeline view")
    def show_view(self) -> None:
        if self.flt is None:
            self.flt = default_filter()
        text = describe_filter(self.flt)
        self.app.call_from_thread(self.query_one("#why-view", Static).update, text)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            self.query_one("#why-text", Static).update("Type a deal name or Opportunity Id.")
            return
        self.query_one("#why-text", Static).update("Looking it up…")
        self.look_up(query)

    @work(exclusive=True, group="why-missing", exit_on_error=False,
          description="Explaining a missing deal")
    async def look_up(self, query: str) -> None:
        flt = self.flt or await asyncio.to_thread(default_filter)
        today = datetime.now(UTC).date()
        remote, note = await self._ask_salesforce(query)
        findings = await asyncio.to_thread(wm.explain, query, flt, remote, today)
        self.post_message(Explained(findings, note))

    async def _ask_salesforce(self, query: str) -> tuple[list[dict[str, Any]] | None, str]:
        factory = self.app.services.client_factory
        if factory is None or not await asyncio.to_thread(lambda: self.app.connected):
            return None, "Not connected: Salesforce was not asked."
        try:
            client = await asyncio.to_thread(factory)
            try:
                records = await client.query_all_records(wm.remote_soql(query),
                                                         include_deleted=True)
            finally:
                await client.aclose()
        except SalesforceError as exc:
            return None, f"Could not ask Salesforce: {exc.describe()}"
        except Exception:  # no connection at all; the message carries no secret
            return None, "Could not reach Salesforce."
        return records, "Salesforce was asked too (deleted deals included)."

    @on(Explained)
    def show(self, message: Explained) -> None:
        self.query_one("#why-text", Static).update(render_findings(message.findings,
                                                                   message.note))
