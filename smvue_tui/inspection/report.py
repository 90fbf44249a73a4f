"""The whole inspection as one plain dict: what ``smvue-tui inspect --json`` prints and the
inspection screen shows. The keys are documented in the README (Inspection → JSON).
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from smvue_tui.inspection import forecast as fc
from smvue_tui.inspection.changes import Changes, DealChangeRow, Tally, changes
from smvue_tui.inspection.flag_rows import FlagsElsewhere, flag_section
from smvue_tui.inspection.flags import deal_flags, flags, recent_flags
from smvue_tui.inspection.history import DealState, Past, sources, stage_info
from smvue_tui.inspection.periods import close_periods, sf_stamp, window
from smvue_tui.inspection.reps import RepFigures, find_rep, owner_names, rep_figures
from smvue_tui.inspection.settings import inspection_settings


def _state(state: DealState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {"stage": state.stage, "amount": state.amount, "close_date": state.close_date,
            "owner_id": state.owner_id, "forecast_category": state.forecast,
            "is_closed": state.is_closed, "is_won": state.is_won}


def _deal_row(row: DealChangeRow, names: dict[str, str]) -> dict[str, Any]:
    now = row.deal.now
    return {"id": row.deal.id, "name": row.deal.name, "owner_id": now.owner_id,
            "owner": names.get(now.owner_id or "", now.owner_id),
            "currency": row.deal.currency, "kinds": row.kinds,
            "then": _state(row.then), "now": _state(now)}


def _tally(t: Tally, key: str) -> dict[str, Any]:
    return {key: t.key, "name": t.label, "counts": t.counts, "amount_then": t.amount_then,
            "amount_now": t.amount_now}


def _changes(found: Changes, names: dict[str, str]) -> dict[str, Any]:
    return {"totals": found.totals,
            "deals": [_deal_row(r, names) for r in found.deals],
            "by_rep": [_tally(t, "owner_id") for t in found.by_rep],
            "by_stage": [_tally(t, "stage") for t in found.by_stage],
            "waterfall": found.waterfall}


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The report makes a few hundred thousand small dicts and tuples and no cycles; the cyclic
    collector's passes over them, as they pile up, were a quarter of its time at 100,000 deals
    (refcounting still frees everything)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def inspect(config: dict[str, Any], *, since: str | None = None, period: str | None = None,
            rep: str | None = None, now: datetime | None = None,
            elsewhere: FlagsElsewhere | None = None,
            keep: list[Any] | None = None) -> dict[str, Any]:
    """The inspection of the bound store. Raises SettingsError, PeriodError or RepNotFound
    (ValueError/LookupError with a message for the user) on bad input. ``elsewhere``: another
    process making the flags section beside this one (``cli/inspect_flags``; made here when it
    cannot) — the report is then on its way out as JSON, and its changes are JSON already
    (made while that process finishes). ``keep``: what the report read on the way (the
    replay's deals and steps) is put there instead of being freed as it returns — for a caller
    that ends the process next (``cli/inspect``: ~35 ms at 100,000 deals)."""
    with no_cycle_collection():
        return _inspect(config, since, period, rep, now or datetime.now(UTC), elsewhere,
                        keep)


def _inspect(config: dict[str, Any], since: str | None, period: str | None, rep: str | None,
             now: datetime, elsewhere: FlagsElsewhere | None,
             keep: list[Any] | None) -> dict[str, Any]:
    settings = inspection_settings(config)
    win = window(since, period, now)
    rep_id = find_rep(rep) if rep else None
    src = sources()
    past = Past(src, stage_info())
    # The deals touched since the earliest stamp the report needs, read once for all parts.
    past.prime(min(win.stamp, sf_stamp(now - timedelta(days=settings.recent_days))))
    recent = None
    if elsewhere is not None:  # its last two rules from here, first: the rest is made there
        recent = recent_flags(past, settings, now, rep_id)
        elsewhere.send_recent(recent)
    names = owner_names()
    this_q, next_q = close_periods(now.date())
    found = changes(win, this_q, past, names, rep_id)
    forecasts = {p.name: (p, fc.forecast(p, rep_id)) for p in (this_q, next_q)}
    figures = rep_figures(now.date(), rep_id)
    changed: Any = _changes(found, names)
    if elsewhere is not None:  # the biggest part as JSON now, while the other process ends
        changed = orjson.Fragment(orjson.dumps(changed, option=orjson.OPT_SORT_KEYS))
    reps = _reps(figures, forecasts, found)
    # Last, what the flags section holds: made elsewhere, it comes as late as it can.
    section = ((elsewhere.collect() if elsewhere else None)
               or flag_section(past, settings, now, rep_id, names,
                               None if recent is None else lambda: recent))
    for row in reps:
        row["flagged_deals"] = section.per_rep.get(row["owner_id"], 0)
    if keep is not None:
        keep.append((past, found, recent))

    complete = bool(src.log_since and src.log_since <= win.start.isoformat())
    return {
        "generated_at": now.isoformat(),
        "window": {"label": win.label, "start": win.start.isoformat(),
                   "end": win.end.isoformat()},
        "close_period": {"name": this_q.name, "first": this_q.first.isoformat(),
                         "last": this_q.last.isoformat()},
        "rep": {"owner_id": rep_id, "name": names.get(rep_id, rep_id)} if rep_id else None,
        "sources": {"opportunity_history": src.history,
                    "history_fields": list(src.history_fields),
                    "change_log_since": src.log_since, "complete": complete},
        "changes": changed,
        "forecast": {name: {"first": p.first.isoformat(), "last": p.last.isoformat(),
                            "total": fc.total(rollups),
                            "by_rep": rollups}
                     for name, (p, rollups) in forecasts.items()},
        "flags": {"settings": settings.__dict__, "counts": section.counts,
                  "deals": section.rows},
        "reps": reps,
    }


def _reps(figures: dict[str, RepFigures], forecasts: dict[str, tuple[Any, dict]],
          found: Changes) -> list[dict[str, Any]]:
    """The report's rows per rep, but their flagged deals (the flags section's count)."""
    moved: dict[str, dict[str, dict[str, float]]] = {}
    for row in found.deals:
        for kind in ("won", "lost"):
            if kind in row.kinds:
                cell = moved.setdefault(row.deal.now.owner_id or "", {}).setdefault(
                    kind, {"count": 0, "amount": 0.0})
                cell["count"] += 1
                cell["amount"] += row.deal.now.amount or 0.0
    return [{
        "owner_id": owner, "name": f.name, "open_count": f.open_count,
        "open_amount": f.open_amount, "weighted": f.weighted,
        "forecast": {name: rollups.get(owner, fc.empty())
                     for name, (_, rollups) in forecasts.items()},
        "won_in_period": moved.get(owner, {}).get("won", {"count": 0, "amount": 0.0}),
        "lost_in_period": moved.get(owner, {}).get("lost", {"count": 0, "amount": 0.0}),
        "won_12m": f.won_12m, "lost_12m": f.lost_12m, "won_amount_12m": f.won_amount_12m,
        "win_rate_12m": f.win_rate_12m, "avg_cycle_days_12m": f.avg_cycle_days_12m,
        "activities_14d": f.activities_14d}
        for owner, f in sorted(figures.items(), key=lambda kv: kv[1].name.lower())]


def deal_risks(deal_id: str, config: dict[str, Any],
               now: datetime | None = None) -> list[dict[str, str]]:
    """One open deal's flags (``rule``, ``reason``), for the deal screen; [] when none."""
    past = Past(sources(), stage_info(), open_only=True)  # flags are of open deals only
    return [{"rule": f["rule"], "reason": f["reason"]}
            for f in deal_flags(deal_id, past, inspection_settings(config), now)]


def flagged_rules(config: dict[str, Any], now: datetime | None = None,
                  ids: Collection[str] | None = None) -> dict[str, list[str]]:
    """Every flagged open deal's Id (of ``ids`` only, when given: the rows a table shows) → its
    flags' rules in ``RULES`` order: the pipeline table's compact risk column (the reasons stay
    on the deal screen, ``deal_risks``)."""
    with no_cycle_collection():
        found = flags(Past(sources(), stage_info(), open_only=True),
                      inspection_settings(config), now, ids=ids)
    return {deal: [f["rule"] for f in fl] for deal, fl in found.items()}
