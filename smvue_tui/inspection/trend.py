"""Open and weighted pipeline week by week over the last quarter, rebuilt from the past.

The totals now are summed over the store; each earlier week's are now's less what every deal
touched since then added (its contribution now less its contribution then, from
OpportunityHistory and the change log — ``history.state_at``). Deals nobody touched count
alike in every week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smvue_tui.inspection.history import DealState, Past, state_at
from smvue_tui.inspection.periods import sf_stamp
from smvue_tui.inspection.reps import rep_figures
from smvue_tui.store.pipeline import stage_probabilities


@dataclass(frozen=True)
class Week:
    ending: datetime
    open: float
    weighted: float


def weekly(past: Past, now: datetime, weeks: int = 13, rep: str | None = None) -> list[Week]:
    """One point per week from ``weeks`` weeks ago to now (oldest first)."""
    return pipeline_at(past, [now - timedelta(weeks=k) for k in range(weeks, -1, -1)], now, rep)


def pipeline_at(past: Past, points: list[datetime], now: datetime,
                rep: str | None = None) -> list[Week]:
    """The open and weighted pipeline at each of ``points`` (oldest first, none after now)."""
    figures = rep_figures(now.date(), rep).values()
    open_now = sum(f.open_amount for f in figures)
    weighted_now = sum(f.weighted for f in figures)
    probs = {name: sp.probability for name, sp in stage_probabilities().items()}

    def share(state: DealState | None, own: float | None) -> tuple[float, float]:
        """(open amount, weighted) a deal in ``state`` adds to the pipeline."""
        if state is None or state.is_closed or (rep and state.owner_id != rep):
            return 0.0, 0.0
        amount, prob = state.amount or 0.0, probs.get(state.stage or "")
        return amount, amount * ((own or 0.0) if prob is None else prob) / 100

    ids = sorted(row[0] for row in past.touched(sf_stamp(points[0])))
    deals, steps = past.deals(ids), past.steps(ids)
    now_share = {i: share(d.now, d.probability) for i, d in deals.items()}
    out = []
    for when in points:
        stamp = sf_stamp(when)
        open_delta = weighted_delta = 0.0
        for deal_id, deal in deals.items():
            then = None if deal.created > stamp else state_at(deal, steps[deal_id], stamp,
                                                              past.stages)
            a_then, w_then = share(then, deal.probability)
            open_delta += now_share[deal_id][0] - a_then
            weighted_delta += now_share[deal_id][1] - w_then
        out.append(Week(when, open_now - open_delta, weighted_now - weighted_delta))
    return out
