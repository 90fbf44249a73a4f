"""Two parts of the Pipelines screen, as mixins kept out of its module: a search's hits on the
other tabs, and the stage-probability overrides. Both run their store reads in thread workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message

from smvue_tui.store import pipeline as pl
from smvue_tui.tui.screens.pipeline_modals import (
    Answer,
    ChoiceModal,
    FormModal,
    parse_probability,
)
from smvue_tui.tui.screens.pipeline_view import pct
from smvue_tui.tui.widgets.paged_table import PagedTable


class SearchElsewhere:
    """A search names the tabs (and hidden statuses) where it finds deals too."""

    filter: pl.DealFilter
    elsewhere: list[tuple[str, str, int]]
    query_one: Callable[..., Any]
    post_message: Callable[[Message], Any]
    _update_filter_line: Callable[..., None]

    @dataclass
    class _Elsewhere(Message):
        filter: pl.DealFilter
        found: list[tuple[str, str, int]]

    @work(thread=True, exclusive=True, group="pipelines-elsewhere", exit_on_error=False,
          description="searching the other pipelines")
    def _search_elsewhere(self, flt: pl.DealFilter) -> None:
        self.post_message(SearchElsewhere._Elsewhere(flt, pl.search_elsewhere(flt)))

    def on_search_elsewhere__elsewhere(self, message: _Elsewhere) -> None:
        """A search names the tabs (and hidden statuses) where it finds deals too; with none
        here, the empty list says where they are."""
        if message.filter != self.filter:
            return
        self.elsewhere = message.found
        self._update_filter_line()
        table = self.query_one("#deals", PagedTable)
        term = self.filter.search.strip()
        if message.found:
            where = ", ".join(f"{name} ({n:,})" for _, name, n in message.found)
            table.empty_text = f"No deal or account here matches {term!r}; found in {where}"
        else:
            table.empty_text = (f"No deal or account matches {term!r} in any pipeline "
                                "(w: why is a deal missing?)")
        table.refresh()



class StageOverrides:
    """e: pick a stage of the tab shown and set (or clear) SMVue's probability for it."""

    filter: pl.DealFilter
    app: Any
    _write: Callable[[Callable[[], None], str], None]

    def action_edit_probability(self) -> None:
        self._load_stages(self.filter.pipeline)

    @work(thread=True, exclusive=True, group="pipelines-stages", exit_on_error=False,
          description="reading stages")
    def _load_stages(self, pipeline: str) -> None:
        stages = list(pl.stage_probabilities(pipeline).values())  # this tab's, in its order
        self.app.call_from_thread(self._pick_stage, stages)

    def _pick_stage(self, stages: list[pl.StageProbability]) -> None:
        def label(s: pl.StageProbability) -> str:
            where = "SMVue override" if s.source == "override" else "Salesforce"
            return f"{s.stage}: {pct(s.probability) or '—'} ({where})"

        def picked(stage: pl.StageProbability | None) -> None:
            if stage is None:
                return
            hint = (f"Salesforce says {pct(stage.salesforce) or 'nothing'}. Blank restores it. "
                    "This changes SMVue's math only; Salesforce is never touched.")
            current = pct(stage.probability).rstrip("%") if stage.source == "override" else ""
            self.app.push_screen(
                FormModal(f"Probability for {stage.stage}", [("Percent (0–100)", current)],
                          parse_probability, hint=hint),
                lambda answer: self._save_override(stage.stage, answer))

        self.app.push_screen(ChoiceModal("Override which stage's probability?",
                                         [(s, label(s)) for s in stages]), picked)

    def _save_override(self, stage: str, answer: Answer[float | None] | None) -> None:
        if answer is not None:
            self._write(lambda: pl.set_stage_override(stage, answer.value),
                        f"{stage}: probability " + ("restored to Salesforce's"
                                                    if answer.value is None
                                                    else f"set to {answer.value:g}%"))

