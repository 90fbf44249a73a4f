"""Figures per rep (deal owner): open and weighted pipeline, won/lost and win rate and average
sales cycle over the last 12 months, activities logged in the last 14 days.

Weighted = amount × the stage's probability as the Pipelines screen uses it (the manager's
override, else Salesforce's default for the stage, else the deal's own Probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from smvue_tui.store import inspection_queries as q
from smvue_tui.store.pipeline import owner_names, stage_probabilities

ACTIVITY_DAYS = 14
CYCLE_DAYS = 365


class RepNotFound(LookupError):
    """--rep named nobody, or several people (the message lists them)."""


@dataclass
class RepFigures:
    owner_id: str
    name: str
    open_count: int = 0
    open_amount: float = 0.0
    weighted: float = 0.0
    won_12m: int = 0
    lost_12m: int = 0
    won_amount_12m: float = 0.0
    avg_cycle_days_12m: float | None = None
    activities_14d: int = 0

    @property
    def win_rate_12m(self) -> float | None:
        closed = self.won_12m + self.lost_12m
        return self.won_12m / closed if closed else None


def find_rep(name: str) -> str:
    """The SF user Id of the deal owner called ``name`` (exact, else a unique part of a name,
    case-insensitive)."""
    names = owner_names()
    owners = q.deal_owners()
    wanted = name.strip().lower()
    if name.strip() in owners:
        return name.strip()
    candidates = {u: names.get(u, u) for u in owners}
    exact = [u for u, n in candidates.items() if n.lower() == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [u for u, n in candidates.items() if wanted and wanted in n.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise RepNotFound(f"no deal owner is called {name!r}")
    listed = ", ".join(sorted(candidates[u] for u in partial)[:8])
    raise RepNotFound(f"{name!r} matches several deal owners: {listed} — say which")


def rep_figures(today: date, rep: str | None = None) -> dict[str, RepFigures]:
    """Owner Id → figures, for every owner of a stored deal (or ``rep`` alone)."""
    names = owner_names()
    probs = stage_probabilities()
    out: dict[str, RepFigures] = {}

    def fig(owner: str | None) -> RepFigures:
        key = owner or ""
        return out.setdefault(key, RepFigures(key, names.get(key, key or "(no owner)")))

    for owner, stage, count, amount, own_weighted in q.open_by_owner_stage(rep):
        f = fig(owner)
        sp = probs.get(stage or "")
        f.open_count += count
        f.open_amount += amount
        f.weighted += (amount * sp.probability / 100 if sp and sp.probability is not None
                       else own_weighted / 100)
    since = (today - timedelta(days=CYCLE_DAYS)).isoformat()
    for owner, won, count, amount, cycle in q.closed_by_owner(since, today.isoformat(), rep):
        f = fig(owner)
        if won:
            f.won_12m, f.won_amount_12m, f.avg_cycle_days_12m = count, amount, cycle
        else:
            f.lost_12m = count
    first = (today - timedelta(days=ACTIVITY_DAYS)).isoformat()
    for owner, count in q.activities_by_owner(first, today.isoformat(), rep):
        if owner in out or rep:  # people who own no deal are not reps here
            fig(owner).activities_14d = count
    return out
