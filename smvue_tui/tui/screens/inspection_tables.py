"""What the inspection screen's tabs show from a report: the changed deals, the deals at risk,
the figures per rep (the tables) and the report's charts. Filled again when the report arrives,
and when the screen is resized (``Bands``: the width they are laid out for)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, NamedTuple

from rich.cells import cell_len
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
    joined,
    kinds_text,
    money,
    owner_change,
    owner_labels,
    rep_columns,
    then_now,
)

# Columns below which names give way (short owner names, short headers): from here the wide
# layout's widest rows fit with a scrollbar beside (Reps 106 + 2, Changes 106 + 2).
NARROW = 110
WIDE = 140  # columns from which the At risk tab prints each flag's evidence
SCROLLBAR = 2  # columns a table's vertical scrollbar takes (Textual's default)
KIND_MIN = 9  # the widest change kind ("moved out", "new owner"): the Change column's least
ROWS = 500  # rows a table shows (biggest first); the rest are a line away in `inspect --json`
CHANGES_COLUMNS = ("Deal", "Owner", "Change", "Amount", "Close")
RISK_COLUMNS = ("Deal", "Owner", "Amount", "Why (enter: the deal and its evidence)")
NARROW_WHY = "Why (enter: evidence)"


class Bands(NamedTuple):
    """The width the tables are laid out for: below NARROW, from WIDE, and the columns."""

    narrow: bool
    wide: bool
    width: int

    @classmethod
    def of(cls, width: int) -> Bands:
        return cls(width < NARROW, width >= WIDE, width)


def refill(table: DataTable, fill: Callable[[], None], keep_cursor: bool = True) -> None:
    """``fill()`` the table again, its cursor kept on the same row (a report read again during
    a sync, a resize): not back at the top."""
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key \
        if keep_cursor and table.row_count else None
    fill()
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key), animate=False, scroll=True)


def fill_changes(table: DataTable, changed: list[dict[str, Any]], names: dict[str, str],
                 bands: Bands) -> None:
    # The columns made again: a DataTable's columns only ever grow, and those of a longer
    # period (or a wider screen) would push Close off an 80-column screen.
    table.clear(columns=True)
    table.add_columns(*CHANGES_COLUMNS)
    rows = sorted(changed, key=lambda d: -(d["now"]["amount"] or 0))[:ROWS]
    # Below NARROW names give way, so the close dates (the evidence of a push) stay.
    owner_width = 14 if bands.narrow else 18
    labels = owner_labels([*names.values(), *(d["owner"] or "" for d in rows)], owner_width,
                          bands.narrow)
    cells = [_change_cells(d, names, labels, owner_width) for d in rows]
    deal_width, kinds_width = _deal_and_kinds(rows, cells, bands)
    for d, (owner, amount, close) in zip(rows, cells, strict=True):
        kinds = kinds_text(d["kinds"], kinds_width)
        table.add_row(Text(clip(d["name"], deal_width)), Text(owner), kinds, amount, Text(close),
                      key=d["id"], height=max(owner.count("\n"), kinds.plain.count("\n")) + 1)
    if not rows:
        table.add_row(Text("No changes in this period", style="dim"), "", "", "", "")
    elif len(changed) > ROWS:
        _add_note(table, f"… {len(changed) - ROWS:,} smaller changes (smvue-tui inspect --json "
                  f"lists all)", deal_width)


def _change_cells(d: dict[str, Any], names: dict[str, str], labels: dict[str, str],
                  owner_width: int) -> tuple[str, Text, str]:
    """A changed deal's owner (who had it, when reassigned), amount then → now and close date
    (then → now when pushed or pulled in)."""
    then, now = d["then"] or {}, d["now"]
    close = now["close_date"] or ""
    if then.get("close_date") and then["close_date"] != close:
        close = f"{then['close_date'][5:]} → {close[5:]}"
    owner = labels[d["owner"] or ""]
    before = names.get(then.get("owner_id") or "")
    if "owner_changed" in d["kinds"] and before:  # who had it: "Bo P. → Cy Park"
        owner = owner_change(labels.get(before, before), owner, owner_width)
    return owner, then_now(then.get("amount"), now["amount"]), close


def _deal_and_kinds(rows: list[dict[str, Any]], cells: list[tuple[str, Text, str]],
                    bands: Bands) -> tuple[int, int]:
    """How wide the deal names and the change kinds may be: what the owner, amount and close
    columns, their gaps and a scrollbar leave of the screen. A deal's changes take more lines
    (one kind a line at the least) before its name is cut below 17 (32 when wide), so the
    widest row fits at 80: 17 + 14 + 9 + 15 + 13, the gaps and a scrollbar make 80."""
    widest = [max([cell_len(line) for c in cells for line in str(c[i]).split("\n")]
                  + [len(h)]) for i, h in enumerate(("Owner", "Amount", "Close"))]
    room = bands.width - SCROLLBAR - 2 * len(CHANGES_COLUMNS) - sum(widest)
    names = min(17 if bands.narrow else 32, max([cell_len(d["name"]) for d in rows] + [4]))
    deal = max(8, min(names, room - KIND_MIN))
    return deal, max(KIND_MIN, room - deal)


def fill_risk(table: DataTable, flagged: list[dict[str, Any]], names: dict[str, str],
              bands: Bands) -> None:
    table.clear(columns=True)  # as fill_changes
    table.add_columns(*RISK_COLUMNS[:3], NARROW_WHY if bands.narrow else RISK_COLUMNS[3])
    rows = flagged[:ROWS]  # most flags, then biggest, first
    # Below 140 columns a deal's reasons would run off the screen after the first: the rules
    # by name, and the evidence on the deal's screen (enter); each deal's on as many lines as
    # the room the other columns leave takes.
    deal_width = 17 if bands.narrow else 28  # as Changes: two common rules a line at 80
    # Owners named as on the other tabs: settled among every owner, not the flagged ones only.
    labels = owner_labels([*names.values(), *(d["owner"] or "" for d in rows)], 14,
                          bands.narrow)
    cells = [(clip(d["name"], deal_width), labels[d["owner"] or ""], money(d["amount"]))
             for d in rows]
    used = [max([cell_len(c[i]) for c in cells] + [len(h)])
            for i, h in enumerate(RISK_COLUMNS[:3])]
    room = max(len(NARROW_WHY), bands.width - SCROLLBAR - 2 * len(RISK_COLUMNS) - sum(used))
    for d, (name, owner, amount) in zip(rows, cells, strict=True):
        why = joined([(f["reason"] if bands.wide else RULE_LABELS.get(f["rule"], f["rule"]), "")
                      for f in d["flags"]], "; ", room)
        table.add_row(Text(name), Text(owner), Text(amount), why, key=d["id"],
                      height=why.plain.count("\n") + 1)
    if len(flagged) > ROWS:
        _add_note(table, f"… {len(flagged) - ROWS:,} more (smvue-tui inspect --json lists all)",
                  deal_width)


def _add_note(table: DataTable, words: str, width: int) -> None:
    """A last row saying what is left out, in the first column's width (on as many lines as
    it takes): one long line there would push the other columns off the screen."""
    lines = textwrap.wrap(words, width)
    table.add_row(Text("\n".join(lines), style="dim"), *[""] * (len(table.columns) - 1),
                  height=len(lines))


def fill_reps(table: DataTable, rows: list[dict[str, Any]], names: dict[str, str], period: str,
              bands: Bands) -> None:
    table.clear(columns=True)  # the headers name the period, which may have changed
    headers = rep_columns(period, bands.narrow)
    table.header_height = max(h.count("\n") + 1 for h in headers)  # a typed time: three
    table.add_columns(*headers)
    labels = owner_labels([*names.values(), *(p["name"] for p in rows)],
                          10 if bands.narrow else 18, bands.narrow)
    for p in rows:
        rate = "—" if p["win_rate_12m"] is None else f"{p['win_rate_12m']:.0%}"
        cycle = "—" if p["avg_cycle_days_12m"] is None else f"{p['avg_cycle_days_12m']:.0f}d"
        commit = p["forecast"]["this_quarter"]["Commit"]["amount"]
        name = labels[p["name"]]
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
