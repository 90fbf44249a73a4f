"""What changed over a window: per deal (then → now, and the kinds of change) and in totals per
rep and per stage, plus the close period's waterfall (start → new, moved in/out, won, lost,
amount changes → end).

A deal's *kinds* (``KINDS``): new, won, lost, moved_in / moved_out (of the close period),
pushed / pulled_in (close date later / earlier), amount_up / amount_down, stage_forward /
stage_back (between open stages), owner_changed. Compared is the deal at the window's start
with the deal now, so a close date pushed and pulled back again within the window is no change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smvue_tui.inspection.history import Deal, DealState, Past, state_at
from smvue_tui.inspection.periods import ClosePeriod, Window
from smvue_tui.store import inspection_queries as q

KINDS = ("new", "won", "lost", "moved_in", "moved_out", "pushed", "pulled_in", "amount_up",
         "amount_down", "stage_forward", "stage_back", "owner_changed")


@dataclass
class DealChangeRow:
    deal: Deal
    then: DealState | None  # None: created within the window
    kinds: list[str]


@dataclass
class Tally:
    """Counts per kind, and the amounts then → now, of one group of changed deals."""

    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)
    amount_then: float = 0.0
    amount_now: float = 0.0

    def add(self, kinds: list[str], amount_then: float, amount_now: float) -> None:
        """One changed deal: its kinds of change and its amounts then → now."""
        counts = self.counts
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
        self.amount_then += amount_then
        self.amount_now += amount_now


@dataclass
class Changes:
    window: Window
    close_period: ClosePeriod
    deals: list[DealChangeRow]
    totals: dict[str, dict[str, float]]  # kind → {"count", "amount"}
    by_rep: list[Tally]
    by_stage: list[Tally]
    waterfall: dict[str, float]


def deal_kinds(deal: Deal, then: DealState | None, period: ClosePeriod,
               stages: dict[str, tuple[int, bool, bool]]) -> list[str]:
    now = deal.now
    kinds = []
    if then is None:
        kinds.append("new")
    if now.is_won and not (then and then.is_won):
        kinds.append("won")
    if now.is_closed and not now.is_won and not (then and then.is_closed and not then.is_won):
        kinds.append("lost")
    if then is None:
        return kinds
    was_in, is_in = period.holds(then.close_date), period.holds(now.close_date)
    if is_in and not was_in:
        kinds.append("moved_in")
    if was_in and not is_in:
        kinds.append("moved_out")
    if then.close_date and now.close_date and now.close_date != then.close_date:
        kinds.append("pushed" if now.close_date > then.close_date else "pulled_in")
    if (now.amount or 0.0) != (then.amount or 0.0):
        kinds.append("amount_up" if (now.amount or 0.0) > (then.amount or 0.0)
                     else "amount_down")
    if now.stage != then.stage and not now.is_closed and not then.is_closed:
        old, new = stages.get(then.stage or ""), stages.get(now.stage or "")
        if old and new and old[0] != new[0]:
            kinds.append("stage_forward" if new[0] > old[0] else "stage_back")
    if now.owner_id != then.owner_id:
        kinds.append("owner_changed")
    return kinds


def _open_in(state: DealState | None, period: ClosePeriod, rep: str | None) -> bool:
    return (state is not None and not state.is_closed and period.holds(state.close_date)
            and (rep is None or state.owner_id == rep))


def _waterfall(rows: list[DealChangeRow], period: ClosePeriod,
               rep: str | None) -> dict[str, float]:
    """The close period's open pipeline (``rep``'s, when given) at the window's start → now,
    step by step. The end is summed over the store; the start is the end less every changed
    deal's step (deals that did not change are in both alike). For one rep, a deal reassigned
    to them moves in, one reassigned away moves out."""
    end = q.open_amount_closing(period.first.isoformat(), period.last.isoformat(), rep)
    steps_ = dict.fromkeys(("new", "moved_in", "moved_out", "won", "lost", "changed"), 0.0)
    for row in rows:
        was, now = _open_in(row.then, period, rep), _open_in(row.deal.now, period, rep)
        before = (row.then.amount or 0.0) if row.then else 0.0
        after = row.deal.now.amount or 0.0
        if not was and now:
            steps_["new" if row.then is None else "moved_in"] += after
        elif was and not now:
            closed = row.deal.now.is_closed and (rep is None or row.deal.now.owner_id == rep)
            kind = ("won" if closed and row.deal.now.is_won else "lost" if closed
                    else "moved_out")
            steps_[kind] -= before
        elif was and now:
            steps_["changed"] += after - before
    return {"start": end - sum(steps_.values()), **steps_, "end": end}


def changes(win: Window, period: ClosePeriod, past: Past, owner_names: dict[str, str],
            rep: str | None = None) -> Changes:
    """Every deal that changed within ``win`` (only ``rep``'s, then or now, when given)."""
    stamp, stages = win.stamp, past.stages
    ids = sorted(row[0] for row in past.touched(stamp))
    deals = past.deals(ids)
    by_deal = past.steps(ids)
    rows = []
    for deal_id in ids:
        deal = deals[deal_id]
        then = None if deal.created > stamp else state_at(deal, by_deal.get(deal_id, []), stamp,
                                                          stages)
        if rep and rep not in (deal.now.owner_id, then.owner_id if then else None):
            continue
        kinds = deal_kinds(deal, then, period, stages)
        if kinds:
            rows.append(DealChangeRow(deal, then, kinds))
    totals: dict[str, dict[str, float]] = {k: {"count": 0, "amount": 0.0} for k in KINDS}
    reps: dict[str, Tally] = {}
    stage_tallies: dict[str, Tally] = {}
    for row in rows:
        before = (row.then.amount or 0.0) if row.then else 0.0
        after = row.deal.now.amount or 0.0
        for kind in row.kinds:
            cell = totals[kind]
            cell["count"] += 1
            cell["amount"] += after - before if kind.startswith("amount_") else after
        owner, stage = row.deal.now.owner_id or "", row.deal.now.stage or ""
        by_rep, by_stage = reps.get(owner), stage_tallies.get(stage)
        if by_rep is None:  # made once per rep and stage, not per row
            by_rep = reps[owner] = Tally(owner, owner_names.get(owner, owner or "(no owner)"))
        if by_stage is None:
            by_stage = stage_tallies[stage] = Tally(stage, stage or "(no stage)")
        by_rep.add(row.kinds, before, after)
        by_stage.add(row.kinds, before, after)
    order = {name: info[0] for name, info in stages.items()}
    return Changes(
        win, period, rows, totals,
        sorted(reps.values(), key=lambda t: t.label.lower()),
        sorted(stage_tallies.values(), key=lambda t: (order.get(t.key, 10_000), t.label)),
        _waterfall(rows, period, rep))
