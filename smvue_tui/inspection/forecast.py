"""Forecast categories (Closed, Commit, Best Case, Pipeline, Omitted) of the deals closing in a
period, per rep: the deal's ForecastCategoryName, else its stage's (OpportunityStage)."""

from __future__ import annotations

from collections import defaultdict

from smvue_tui.inspection.periods import ClosePeriod
from smvue_tui.store import inspection_queries as q

CATEGORIES = ("Closed", "Commit", "Best Case", "Pipeline", "Omitted")
# ForecastCategory API values, for orgs (or rows) that only send those.
_API_NAMES = {"Forecast": "Commit", "BestCase": "Best Case", "Pipeline": "Pipeline",
              "Closed": "Closed", "Omitted": "Omitted"}

Rollup = dict[str, dict[str, float]]  # category → {"count", "amount"}


def empty() -> Rollup:
    return {c: {"count": 0, "amount": 0.0} for c in CATEGORIES}


def category(name: str | None) -> str:
    return _API_NAMES.get(name or "", name or "Pipeline")


def forecast(period: ClosePeriod, rep: str | None = None) -> dict[str, Rollup]:
    """Owner Id → category → count and amount, of deals closing in ``period``."""
    out: dict[str, Rollup] = defaultdict(empty)
    for owner, name, count, amount in q.forecast_rows(period.first.isoformat(),
                                                      period.last.isoformat(), rep):
        cell = out[owner or ""].setdefault(category(name), {"count": 0, "amount": 0.0})
        cell["count"] += count
        cell["amount"] += amount
    return dict(out)


def total(rollups: dict[str, Rollup]) -> Rollup:
    out = empty()
    for rollup in rollups.values():
        for name, cell in rollup.items():
            slot = out.setdefault(name, {"count": 0, "amount": 0.0})
            slot["count"] += cell["count"]
            slot["amount"] += cell["amount"]
    return out
