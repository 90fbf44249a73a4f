"""The inspection screen's charts, drawn into textual-plotext plots: the close period's waterfall,
the forecast categories, the weekly trend and the pipeline by rep.

The waterfall is a bridge: Start and End stand on zero, every step between floats from the
running total before it to the total after it (up green, down red), and each bar's amount is
printed above it on the chart's upper axis — a step of a few thousand beside a start of a
million is one row of blocks, but its figure still reads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rich.console import RenderResult
from textual_plotext import PlotextPlot

from smvue_tui.inspection.trend import Week
from smvue_tui.tui.screens.inspection_view import money, money_axis

WATERFALL = (("start", "Start"), ("new", "New"), ("moved_in", "In"), ("moved_out", "Out"),
             ("won", "Won"), ("lost", "Lost"), ("changed", "Chg"), ("end", "End"))
TOTALS = {"start", "end"}
COLOURS = {"total": "blue", "up": "green", "down": "red"}


class MoneyPlot(PlotextPlot):
    """A plot whose y-axis is money on round steps, as many as its height holds: a tick every
    second row at most, so no two land on one row (plotext then prints either, by chance)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.money: list[float] = []
        self.chrome = 4  # rows that are not the plot's area: title, axes, tick labels

    def set_money(self, values: list[float], chrome: int = 4) -> None:
        self.money, self.chrome = values, chrome

    def render(self) -> RenderResult:
        if self.money:  # drawn while hidden, sized only now
            rows = self.size.height - self.chrome
            money_axis(self.plt, self.money, parts=max(1, min(4, rows // 2)))
        return super().render()


class Bar(NamedTuple):
    label: str
    low: float  # where the bar starts (0 for Start and End, the running total for a step)
    high: float
    amount: str  # printed above it: "1.2M" for a total, "+12k" / "−3k" for a step
    kind: str  # total | up | down


def signed(value: float) -> str:
    """+12.3k, −3k, 0 (a step's amount; money()'s short forms)."""
    text = money(abs(value)).replace(".0k", "k").replace(".0M", "M")
    return text if value == 0 else ("+" if value > 0 else "−") + text


def waterfall_bars(fall: dict[str, float]) -> list[Bar]:
    """The waterfall's bars in order: Start and End from zero; each step from the total before
    it to the total after it."""
    bars, level = [], 0.0
    for key, label in WATERFALL:
        value = fall[key]
        if key in TOTALS:
            level = value
            bars.append(Bar(label, 0.0, value, signed(value).lstrip("+"), "total"))
            continue
        before, level = level, level + value
        kind = "up" if value > 0 else "down" if value < 0 else "total"
        bars.append(Bar(label, min(before, level), max(before, level), signed(value), kind))
    return bars


def draw_waterfall(plot: MoneyPlot, fall: dict[str, float], title: str) -> None:
    bars = waterfall_bars(fall)
    plt = plot.plt
    plt.clear_figure()
    plt.title(title)
    xs = list(range(1, len(bars) + 1))
    for x, bar in zip(xs, bars, strict=True):
        if bar.high != bar.low:  # a zero step draws nothing (its "0" above says so)
            # hd: half-block rows, so a step floats at twice the terminal's row resolution
            plt.bar([x], [bar.high], minimum=bar.low, marker="hd", width=0.7,
                    color=COLOURS[bar.kind], reset_ticks=False)
    # Amounts on the upper axis, one above each bar. plotext prints an axis's ticks only
    # when something is drawn against it: an invisible point far below the chart.
    plt.scatter([xs[0], xs[-1]], [-1e18, -1e18], xside="upper", marker=" ")
    for side, labels in (("lower", [b.label for b in bars]), ("upper", [b.amount for b in bars])):
        plt.xticks(xs, labels, xside=side)
        plt.xlim(0.5, len(bars) + 0.5, xside=side)
    plot.set_money([v for b in bars for v in (b.low, b.high)], chrome=5)  # + the amounts' row


def draw_forecast(plot: MoneyPlot, this_q: dict[str, Any], next_q: dict[str, Any]) -> None:
    plt = plot.plt
    plt.clear_figure()
    plt.title("Forecast categories: this quarter and next")
    names = list(this_q)
    plt.multiple_bar(names, [[this_q[n]["amount"] for n in names],
                             [next_q[n]["amount"] for n in names]],
                     labels=["this quarter", "next quarter"])
    plot.set_money([c[n]["amount"] for c in (this_q, next_q) for n in names])


def draw_by_rep(plot: MoneyPlot, reps: list[dict[str, Any]]) -> None:
    plt = plot.plt
    plt.clear_figure()
    plt.title("Open and weighted pipeline by rep")
    top = sorted(reps, key=lambda p: -p["open_amount"])[:8]
    names = [p["name"].split()[0][:8] for p in top]
    plt.multiple_bar(names, [[p["open_amount"] for p in top],
                             [p["weighted"] for p in top]], labels=["open", "weighted"])
    plot.set_money([p["open_amount"] for p in top])


def draw_trend(plot: MoneyPlot, weeks: list[Week]) -> None:
    plt = plot.plt
    plt.clear_figure()
    # No legend (it hid the lines' start at 80×24): weighted is never above open.
    plt.title("Open pipeline (upper line) and weighted (lower), week by week")
    xs = list(range(len(weeks)))  # numbers: plotext reads text x values as dates
    plt.plot(xs, [w.open for w in weeks])
    plt.plot(xs, [w.weighted for w in weeks])
    plt.xticks(xs[::3], [weeks[i].ending.strftime("%m-%d") for i in xs[::3]])
    plot.set_money([w.open for w in weeks])
