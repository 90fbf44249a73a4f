"""What the inspection screen's tabs show from a report: the changed deals, the deals at risk,
the figures per rep (the tables) and the report's charts. Filled again when the report arrives,
and when the screen's width crosses a band the tables are laid out for (``Bands``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from rich.text import Text
from textual.widgets import DataTable

from smvue_tui.inspection.flags import RULE_LABELS
from smvue_tui.tui.screens.inspection_charts import (
    MoneyPlot,
    draw_by_rep,
    draw_forecast,
    draw_waterfall,
)
from smvue_tui.tui.screens.inspection_view import (
    clip,
    kinds_text,
    money,
    rep_columns,
    short_name,
    then_now,
)

NARROW = 100  # columns below which names give way (short owner names, short headers)
WIDE = 140  # columns from which the At risk tab prints each flag's evidence
ROWS = 500  # rows a table shows (biggest first); the rest are a line away in `inspect --json`
CHANGES_COLUMNS = ("Deal", "Owner", "Change", "Amount", "Close")
RISK_COLUMNS = ("Deal", "Owner", "Amount", "Why (enter: the deal and its evidence)")


class Bands(NamedTuple):
    """The widths the tables are laid out for: below NARROW, from WIDE."""

    narrow: bool
    wide: bool

    @classmethod
    def of(cls, width: int) -> Bands:
        return cls(width < NARROW, width >= WIDE)


def refill(table: DataTable, fill: Callable[[], None], keep_cursor: bool = True) -> None:
    """``fill()`` the table again, its cursor kept on the same row (a report read again during
    a sync, a resize): not back at the top."""
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key \
        if keep_cursor and table.row_count else None
    fill()
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key), animate=False, scroll=True)


def fill_changes(table: DataTable, rows: list[dict[str, Any]], names: dict[str, str],
                 bands: Bands) -> None:
    # The columns made again: a DataTable's columns only ever grow, and those of a longer
    # period (or a wider screen) would push Close off an 80-column screen.
    table.clear(columns=True)
    table.add_columns(*CHANGES_COLUMNS)
    rows = sorted(rows, key=lambda d: -(d["now"]["amount"] or 0))
    # Below 100 columns names give way, so the close dates (the evidence of a push) stay.
    deal_width = 18 if bands.narrow else 32
    for d in rows[:ROWS]:
        then, now = d["then"] or {}, d["now"]
        close = now["close_date"] or ""
        if then.get("close_date") and then["close_date"] != close:
            close = f"{then['close_date'][5:]} → {close[5:]}"
        owner = short_name(d["owner"] or "") if bands.narrow else d["owner"] or ""
        before = names.get(then.get("owner_id") or "")
        if "owner_changed" in d["kinds"] and before:  # who had it: "Bo → Cy Park"
            owner = f"{before.split()[0]} → {owner}"
        table.add_row(Text(clip(d["name"], deal_width)), Text(clip(owner, 18)),
                      kinds_text(d["kinds"]), then_now(then.get("amount"), now["amount"]),
                      Text(close), key=d["id"])
    if not rows:
        table.add_row(Text("No changes in this period", style="dim"), "", "", "", "")
    elif len(rows) > ROWS:
        table.add_row(Text(f"… {len(rows) - ROWS:,} smaller changes (smvue-tui inspect "
                           f"--json lists all)", style="dim"), "", "", "", "")


def fill_risk(table: DataTable, rows: list[dict[str, Any]], bands: Bands) -> None:
    table.clear(columns=True)  # as fill_changes
    table.add_columns(*RISK_COLUMNS)
    # Below 140 columns a deal's reasons would run off the screen after the first: the rules
    # by name, and the evidence on the deal's screen (enter).
    for d in rows[:ROWS]:  # most flags, then biggest, first
        why = "; ".join(f["reason"] if bands.wide else RULE_LABELS.get(f["rule"], f["rule"])
                        for f in d["flags"])
        table.add_row(Text(clip(d["name"], 28)), Text(clip(d["owner"] or "", 14)),
                      Text(money(d["amount"])), Text(why), key=d["id"])
    if len(rows) > ROWS:
        table.add_row(Text(f"… {len(rows) - ROWS:,} more (smvue-tui inspect --json lists "
                           f"all)", style="dim"), "", "", "")


def fill_reps(table: DataTable, rows: list[dict[str, Any]], period: str, bands: Bands) -> None:
    table.clear(columns=True)  # the headers name the period, which may have changed
    table.add_columns(*rep_columns(period, bands.narrow))
    for p in rows:
        rate = "—" if p["win_rate_12m"] is None else f"{p['win_rate_12m']:.0%}"
        cycle = "—" if p["avg_cycle_days_12m"] is None else f"{p['avg_cycle_days_12m']:.0f}d"
        commit = p["forecast"]["this_quarter"]["Commit"]["amount"]
        name = clip(short_name(p["name"]), 10) if bands.narrow else clip(p["name"], 18)
        table.add_row(Text(name), money(p["open_amount"]),
                      money(p["weighted"]), money(commit), str(p["won_in_period"]["count"]),
                      str(p["lost_in_period"]["count"]), rate, cycle,
                      str(p["activities_14d"]), str(p["flagged_deals"]), key=p["owner_id"])


def draw_report(waterfall: MoneyPlot, forecast: MoneyPlot, by_rep: MoneyPlot,
                r: dict[str, Any], period: str) -> None:
    """The report's charts (the weekly trend is a read of its own)."""
    draw_waterfall(waterfall, r["changes"]["waterfall"], f"This quarter's open pipeline, {period}")
    draw_forecast(forecast, r["forecast"]["this_quarter"]["total"],
                  r["forecast"]["next_quarter"]["total"])
    draw_by_rep(by_rep, r["reps"])
    for plot in (waterfall, forecast, by_rep):
        plot.refresh()
