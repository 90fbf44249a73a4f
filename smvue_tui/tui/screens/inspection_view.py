"""What the inspection screen's charts and tables print: change kinds in words and colour,
amounts then → now, short amounts (12.3k, 1.2M), short owner names, and a money y-axis with
round steps. plotext picks its own tick values for the few rows an 80×24
chart has and prints them exactly ("5666.7", "-133.3"), which reads as noise to a manager."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text

KIND_LABELS = {"new": "new", "won": "won", "lost": "lost", "moved_in": "moved in",
               "moved_out": "moved out", "pushed": "pushed", "pulled_in": "pulled in",
               "amount_up": "amount ▲", "amount_down": "amount ▼", "stage_forward": "stage ▲",
               "stage_back": "stage ▼", "owner_changed": "new owner"}
GOOD = {"new", "won", "moved_in", "pulled_in", "amount_up", "stage_forward"}


def money(value: float | None) -> str:
    """1.2M, 12.3k, 950; "—" for none."""
    if value is None:
        return "—"
    for size, unit in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{unit}"
    return f"{value:,.0f}"


def _step(span: float, parts: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × a power of ten) cutting ``span`` into about ``parts``."""
    raw = span / parts
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)


def money_ticks(values: Iterable[float], parts: int = 4) -> list[float]:
    """Round ticks from below the lowest value (or 0) to at or above the highest (or 0), about
    ``parts`` steps apart."""
    found = [v for v in values if v is not None and math.isfinite(v)]
    low, high = min([0.0, *found]), max([0.0, *found])
    if high == low:
        return [0.0, 1.0] if high == 0 else sorted({0.0, high})
    step = _step(high - low, parts)
    tick = math.floor(low / step) * step
    ticks = []
    while tick < high + step:
        ticks.append(tick)
        if tick >= high:
            break
        tick += step
    return [0.0 if abs(t) < step / 1e6 else t for t in ticks]  # no "-0"


def money_axis(plt: Any, values: Iterable[float], parts: int = 4) -> None:
    """The plot's y-axis on round money ticks, labelled 0, 2.5k, 5k … (and its limits)."""
    ticks = money_ticks(values, parts)
    plt.yticks(ticks, [money(t).replace(".0k", "k").replace(".0M", "M") for t in ticks])
    plt.ylim(ticks[0], ticks[-1])


def owner_names(report: dict[str, Any]) -> dict[str, str]:
    """Owner Id → name, from every row of the report that names one (a reassigned deal's
    earlier owner is named when the report has them as a rep or an owner elsewhere)."""
    names = {p["owner_id"]: p["name"] for p in report["reps"]}
    for row in (*report["changes"]["deals"], *report["flags"]["deals"]):
        if row["owner_id"] and row["owner"]:
            names.setdefault(row["owner_id"], row["owner"])
    return names


def rep_line(rep: dict[str, Any], period: str) -> str:
    """A rep's figures in one line (it wraps at 80 columns): the rep view's header."""
    rate = "—" if rep["win_rate_12m"] is None else f"{rep['win_rate_12m']:.0%}"
    cycle = "—" if rep["avg_cycle_days_12m"] is None else f"{rep['avg_cycle_days_12m']:.0f} d"
    commit = rep["forecast"]["this_quarter"]["Commit"]["amount"]
    return (f"Open {money(rep['open_amount'])} ({rep['open_count']} deals) · weighted "
            f"{money(rep['weighted'])} · commit this quarter {money(commit)} · "
            f"{period}: won {rep['won_in_period']['count']}, lost "
            f"{rep['lost_in_period']['count']} · 12 months: win rate {rate}, cycle {cycle} · "
            f"{rep['activities_14d']} activities in 14 days · {rep['flagged_deals']} flagged")


def owner_labels(names: Iterable[str], width: int, short: bool) -> dict[str, str]:
    """Each owner's name as a column ``width`` cells wide shows it, no two alike: "Harper W."
    when ``short`` (a narrow screen), else the whole name. Where two would read alike (short,
    or cut to the width) they take the next form each has: more of the last name ("Lucas Ma.",
    "Lucas Mo."), the whole name, the first name's initial and the last name ("M. Rep07") —
    those that fit the width before those it would cut ("Alexandra…" names nobody)."""
    forms = {name: _fitting_first(_forms(name, short), width) for name in set(names)}
    chosen = dict.fromkeys(forms, 0)
    while True:
        shown = {name: clip(forms[name][i], width) for name, i in chosen.items()}
        seen = Counter(shown.values())
        alike = [name for name, label in shown.items()
                 if seen[label] > 1 and chosen[name] + 1 < len(forms[name])]
        if not alike:  # all apart (or the same name twice: nothing tells them apart)
            return shown
        for name in alike:
            chosen[name] += 1


def _fitting_first(forms: list[str], width: int) -> list[str]:
    return sorted(forms, key=lambda form: cell_len(form) > width)  # stable: in order else


def _forms(name: str, short: bool) -> list[str]:
    first, _, last = name.partition(" ")
    if not last:
        return [name]
    shorter = [f"{first} {last[:k]}." for k in range(1, len(last))]
    initial = f"{first[0]}. {last}"
    return [*shorter, name, initial] if short else [name, initial, *shorter]


def then_now(then: float | None, now: float | None) -> Text:
    """Amount then → now, green when it went up, red when down."""
    if then is None or then == now:
        return Text(money(now))
    style = "green" if (now or 0) > then else "red"
    return Text(f"{money(then)} → {money(now)}", style=style)


def kinds_text(kinds: list[str], width: int = 0) -> Text:
    """The change kinds in words and colour, ", " between them; ``width``: a new line before
    a kind that would pass it (a deal with four changes stays in its column)."""
    return joined([(KIND_LABELS[k], "green" if k in GOOD else "yellow" if k == "owner_changed"
                    else "red") for k in kinds], ", ", width)


def joined(parts: list[tuple[str, str]], sep: str, width: int = 0) -> Text:
    """Words (each in its style) one after another, ``sep`` between; ``width``: a new line
    before words that would pass it (where no separator is needed)."""
    text = Text()
    line = 0
    for i, (words, style) in enumerate(parts):
        if i and width and line + cell_len(sep) + cell_len(words) > width:
            text.append("\n")
            line = 0
        elif i:
            text.append(sep)
            line += cell_len(sep)
        text.append(words, style=style)
        line += cell_len(words)
    return text


def owner_change(before: str, owner: str, width: int) -> str:
    """Who had a reassigned deal and who has it: "Bo → Cy Park" on one line when it fits
    ``width``, else on two ("Bartholomew →" over "Cy Park"), neither line cut short of a
    name it has room for."""
    one = f"{before} → {owner}"
    if cell_len(one) <= width:
        return one
    return f"{clip(before, width - 2)} →\n{clip(owner, width)}"


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells of the screen (a CJK character takes two), an
    ellipsis saying when it was cut."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + "…"


_SPAN = re.compile(r"^last (\d+)([hdw])$")
_UNITS = {"h": "hour", "d": "day", "w": "week"}


def period_words(label: str) -> str:
    """A report window's label (``inspection.periods``: "last 7d", "this quarter",
    "since 2026-11-01") in words: "last 7 days", "this quarter", "since 2026-11-01"."""
    match = _SPAN.match(label)
    if not match:
        return label
    n = int(match[1])
    return f"last {n} {_UNITS[match[2]]}{'' if n == 1 else 's'}"


_SINCE = re.compile(r"^since \d{4}-(\d\d-\d\d)(?:[T ](\d\d:\d\d))?")


_SHORT_UNITS = {"hours": "h", "hour": "h", "days": "d", "day": "d", "weeks": "wk", "week": "wk"}
# Week, month and quarter to date: the sales words for "this week" (to now), at 6 columns.
_TO_DATE = {"this week": "WTD", "this month": "MTD", "this quarter": "QTD"}
NARROW_PERIOD = 6  # columns a narrow Reps header gives the period (the widest figure's)


def period_short(words: str, narrow: bool = False) -> str:
    """A period in a column's width: "7 days", "this week", "this qtr", "since 11-01",
    "since 11-01 09:00" (a typed time, to the minute). ``narrow`` (below 110 columns): at most
    ``NARROW_PERIOD`` columns a line — "14 d", "WTD", "QTD", "≥11-01", and a typed time on a
    line of its own ("≥11-01" over "09:00")."""
    since = _SINCE.match(words)
    if since:  # the year (and any seconds) are on the summary line above
        if narrow:
            return f"≥{since[1]}" + (f"\n{since[2]}" if since[2] else "")
        return f"since {since[1]}" + (f" {since[2]}" if since[2] else "")
    if words.startswith("last "):
        span = words[5:]
        if narrow and len(span) > NARROW_PERIOD:
            n, _, unit = span.partition(" ")
            return f"{n} {_SHORT_UNITS.get(unit, unit)}"
        return span
    if narrow:
        return _TO_DATE.get(words, words)
    return words.replace("quarter", "qtr")


def rep_columns(period: str, narrow: bool = False) -> list[str]:
    """The Reps tab's headers, two lines each: the figure over the time it covers (won and
    lost in the screen's period, win rate and cycle over 12 months, activities over 14 days,
    commit this quarter, the rest now). ``narrow`` (below 110 columns): long names shortened
    (the flagged deals as ⚑, the Risk column's mark) and the period in six columns, so every
    column fits at 80 with a scrollbar beside; a typed time makes three lines."""
    short = period_short(period, narrow)
    won, lost = "Won", "Lost"
    if not narrow and short.startswith("since ") and " " in short[6:]:  # a time: "since"
        won, lost, short = "Won since", "Lost since", short[6:]  # up a line, no wider
    return [f"{name}\n{when}" for name, when in (
        ("Rep", ""), ("Open", "now"), ("Wtd" if narrow else "Weighted", "now"),
        ("Commit", "this Q" if narrow else "this qtr"), (won, short), (lost, short),
        ("Win %", "12 mo"), ("Cycle", "12 mo"), ("Acts", "14 d" if narrow else "14 days"),
        ("⚑" if narrow else "Flagged", "now"))]
