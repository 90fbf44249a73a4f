"""What the Pipelines screen draws: the deal list's columns, tab ids and the totals table."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from smvue_tui.store import pipeline as pl
from smvue_tui.store.deals import DEAL_COLUMNS, money
from smvue_tui.tui.widgets.paged_table import Column


def pct(value: Any) -> str:
    """35% (no decimals unless given); blank for None; 80%* for an SMVue override."""
    if value is None:
        return ""
    return f"{value:g}%" + ("*" if getattr(value, "override", False) else "")


DEAL_TABLE_COLUMNS = [  # 115 cells at 120 columns; text columns narrow to fit 80
    Column("name", "Deal", 28, min_width=14), Column("account", "Account", 20, min_width=9),
    Column("stage", "Stage", 18, min_width=9), Column("amount", "Amount", 11, "right", money),
    Column("currency", "Cur", 3, sortable=False), Column("close_date", "Close", 10),
    Column("owner", "Owner", 14, min_width=8), Column("probability", "Prob", 5, "right", pct),
]
assert [c.key for c in DEAL_TABLE_COLUMNS] == list(DEAL_COLUMNS)


def tab_id(key: str) -> str:
    """A widget id for a pipeline key (record type Ids are safe; the two specials are not)."""
    return {pl.ALL_DEALS: "pl-all", pl.NO_RECORD_TYPE: "pl-none"}.get(key, f"pl-{key}")


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
    table.add_column("Amount", justify="right")
    table.add_column("Risk-adjusted", justify="right")
    groups = summary.by_stage if stage else summary.by_rep
    for g in groups + summary.totals:
        cells = [Text(g.label, style="bold" if any(g is t for t in summary.totals) else "")]
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
