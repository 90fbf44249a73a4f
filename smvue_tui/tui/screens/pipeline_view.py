"""What the Pipelines screen draws: the deal list's columns, tab ids and the totals table."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.table import Table
from rich.text import Text

from smvue_tui.store import pipeline as pl
from smvue_tui.store.deals import DEAL_COLUMNS, ID_INDEX, money
from smvue_tui.tui.widgets.paged_table import Column


def pct(value: Any) -> str:
    """35% (no decimals unless given); blank for None; 80%* for an SMVue override."""
    if value is None:
        return ""
    return f"{value:g}%" + ("*" if getattr(value, "override", False) else "")


def _at(key: str) -> int:
    return DEAL_COLUMNS.index(key)


class RiskMarks:
    """The deal list's risk column: the flag count of each deal the table holds (its cached
    pages, a few thousand rows at most), read for those rows in a worker
    (``inspection.report.flagged_rules(ids=…)``) and looked up by Id as rows paint. Nothing is
    kept for the rest of the store; the reasons are on the deal screen."""

    def __init__(self) -> None:
        self.read: frozenset[str] = frozenset()  # the deals whose flags were read
        self.counts: dict[str, int] = {}  # flagged deal Id → how many flags

    def show(self, read: frozenset[str], counts: dict[str, int]) -> None:
        self.read, self.counts = read, counts

    def cell(self, deal_id: object) -> str:
        if str(deal_id) not in self.read:
            return "…"  # not read yet (a new page, before its flags arrive)
        found = self.counts.get(str(deal_id))
        return f"⚑{found}" if found else ""

    def style(self, deal_id: object) -> str:
        found = self.counts.get(str(deal_id), 0)
        return "bold red" if found > 1 else "yellow" if found else ""


# 120 cells at 120 columns; text columns narrow to fit 80 with a scrollbar (their minimums,
# the risk column and the gaps make 78). Amounts carry their currency (the
# deal's, or the org's), so no column stands empty in a single-currency org.
DEAL_TABLE_COLUMNS = [
    Column("name", "Deal", 28, min_width=13, index=_at("name")),
    Column("account", "Account", 20, min_width=8, index=_at("account")),
    Column("stage", "Stage", 18, min_width=9, index=_at("stage")),
    Column("amount", "Amount", 14, "right", money, index=_at("amount")),
    Column("close_date", "Close", 10, index=_at("close_date")),
    Column("owner", "Owner", 14, min_width=8, index=_at("owner")),
    Column("probability", "Prob", 5, "right", pct, index=_at("probability")),
]
assert {c.key for c in DEAL_TABLE_COLUMNS} <= set(DEAL_COLUMNS)


def deal_table_columns(marks: RiskMarks) -> list[Column]:
    """The deal list's columns with the risk column last: "⚑2" (yellow for one flag, red for
    more), blank for none, "…" until the flags are read. Not sortable (no SQL column)."""
    return [*DEAL_TABLE_COLUMNS, Column("risk", "Risk", 4, "right", marks.cell, index=ID_INDEX,
                                        sortable=False, style=marks.style)]


def tab_id(key: str) -> str:
    """A widget id for a pipeline key (record type Ids are safe; the two specials are not)."""
    return {pl.ALL_DEALS: "pl-all", pl.NO_RECORD_TYPE: "pl-none"}.get(key, f"pl-{key}")


def _rep_rows(summary: pl.Summary) -> list[pl.Group]:
    """By rep: each manager's team total (bold) above its reps (indented), then everyone else."""
    if summary.teams is None:
        return summary.by_rep
    teams, loose = summary.teams
    rows: list[pl.Group] = []
    for team in teams:
        rows += team.totals
        rows += [replace(g, label=f"  {g.label}") for g in team.reps]
    return rows + loose


def summary_table(summary: pl.Summary, by: str,
                  empty: str = "No deals match these filters") -> Table:
    """The grouped totals as a Rich table: one row per group and currency, totals per currency."""
    multi = summary.multi_currency
    stage = by == "stage"
    title = (f"By {by} · risk-adjusted = amount × stage probability ({pl.RISK_LABEL})"
             + (" · * SMVue override" if stage else ""))
    table = Table(box=None, padding=(0, 1), expand=False, show_edge=False, title=title,
                  title_justify="left", title_style="dim")
    table.add_column("Stage" if stage else "Rep", min_width=18)
    if stage:
        table.add_column("Prob", justify="right")
    table.add_column("Deals", justify="right")
    if multi:
        table.add_column("Cur")
    one = summary.currency  # a single currency: said once, in the headings
    table.add_column(f"Amount {one}" if one else "Amount", justify="right")
    table.add_column(f"Risk-adjusted {one}" if one else "Risk-adjusted", justify="right")
    groups = summary.by_stage if stage else _rep_rows(summary)
    for g in groups + summary.totals:
        bold = any(g is t for t in summary.totals) or g.key.startswith(pl.TEAM_PREFIX)
        cells = [Text(g.label, style="bold" if bold else "")]
        if stage:
            mark = "*" if g.probability_source == "override" else ""
            cells.append(Text(pct(g.probability) + mark))
        cells.append(Text(str(g.count)))
        if multi:
            cells.append(Text(g.currency or ""))
        cells += [Text(money(g.amount)), Text(money(g.risk_adjusted))]
        table.add_row(*cells, end_section=g is groups[-1] if groups else False)
    if not groups and empty:
        table.add_row(empty)
    return table
