"""Risk flags on open deals, each a rule with its threshold (``settings.py``) and a reason that
carries its evidence: "close date pushed 3 times: 05-01 → 06-15 → 07-30 → 09-01".

Rules (``RULES``): no_activity, close_date_past, pushed, stage_age, no_primary_contact,
single_threaded, amount_dropped, stage_moved_back. Each is one SQL pass over the store (or over
the changed deals only), so flagging 100,000 deals stays well under a second.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from smvue_tui.inspection.history import (
    P,
    Past,
    Sources,
    db,
    log_steps,
    state_at,
    table,
    touched_since,
)
from smvue_tui.inspection.periods import sf_stamp
from smvue_tui.inspection.settings import InspectionSettings
from smvue_tui.store import models as m

RULES = ("no_activity", "close_date_past", "pushed", "stage_age", "no_primary_contact",
         "single_threaded", "amount_dropped", "stage_moved_back")


class Flag(NamedTuple):  # a tuple: tens of thousands are made per report
    rule: str
    reason: str


def _open_where(rep: str | None) -> tuple[str, list[Any]]:
    if rep:
        return f'o."IsClosed" = 0 AND o."OwnerId" = {P()}', [rep]
    return 'o."IsClosed" = 0', []


def _days(later: date, earlier: str) -> int:
    return (later - date.fromisoformat(earlier[:10])).days


def _close_past(today: date, rep: str | None) -> dict[str, str]:
    where, args = _open_where(rep)
    sql = (f'SELECT o."Id", o."CloseDate" FROM {table(m.Opportunity)} o WHERE {where} '
           f'AND o."CloseDate" < {P()}')
    return {i: f"close date {d} is {_days(today, d)} days past"
            for i, d in db().execute_sql(sql, [*args, today.isoformat()])}


def _no_activity(today: date, days: int, rep: str | None) -> dict[str, str]:
    """Open deals whose last activity (or creation, when none) is more than ``days`` ago."""
    where, args = _open_where(rep)
    cutoff = (today - timedelta(days=days)).isoformat()
    sql = (f'SELECT o."Id", MAX(COALESCE(a.last, \'\'), COALESCE(o."LastActivityDate", \'\')), '
           f'substr(o."CreatedDate", 1, 10) FROM {table(m.Opportunity)} o LEFT JOIN '
           f'(SELECT "WhatId" AS deal, MAX(substr("_OccurredAt", 1, 10)) AS last '
           f'FROM {table(m.Activity)} GROUP BY "WhatId") a ON a.deal = o."Id" WHERE {where}')
    found = {}
    for deal, last, created in db().execute_sql(sql, args):
        if last and last < cutoff:
            found[deal] = f"no activity in {_days(today, last)} days (last: {last})"
        elif not last and created and created < cutoff:
            found[deal] = f"no activity logged since it was created on {created}"
    return found


def _contacts(settings: InspectionSettings, rep: str | None) -> dict[str, list[Flag]]:
    where, args = _open_where(rep)
    sql = (f'SELECT o."Id", COUNT(DISTINCT r."ContactId"), MAX(COALESCE(r."IsPrimary", 0)), '
           f'MIN(c."Name") FROM {table(m.Opportunity)} o '
           f'LEFT JOIN {table(m.OpportunityContactRole)} r ON r."OpportunityId" = o."Id" '
           f'LEFT JOIN {table(m.Contact)} c ON c."Id" = r."ContactId" '
           f'WHERE {where} GROUP BY o."Id"')
    found: dict[str, list[Flag]] = defaultdict(list)
    for deal, contacts, primary, name in db().execute_sql(sql, args):
        if settings.no_primary_contact and not primary:
            found[deal].append(Flag("no_primary_contact", "no primary contact role"
                                    if contacts else "no contact roles at all"))
        if settings.single_threaded and contacts == 1:
            found[deal].append(Flag("single_threaded",
                                    f"single-threaded: one contact ({name or 'unnamed'})"))
    return found


def _dates(seq: list[str]) -> str:
    """05-01 → 06-15 (years shown only when the dates span more than one)."""
    years = {d[:4] for d in seq}
    return " → ".join(d[5:10] if len(years) == 1 else d[:10] for d in seq)


def _pushes(past: Past, times: int, rep: str | None) -> dict[str, str]:
    """Open deals whose close date moved later at least ``times`` times (all of their history,
    or all the change log saw)."""
    where, args = _open_where(rep)
    open_ids = [r[0] for r in db().execute_sql(
        f'SELECT o."Id" FROM {table(m.Opportunity)} o WHERE {where}', args)]
    if "CloseDate" in past.src.history_fields:
        sql = (f'SELECT deal FROM (SELECT "_ParentId" AS deal, "CloseDate" AS d, LAG("CloseDate") '
               f'OVER (PARTITION BY "_ParentId" ORDER BY "CreatedDate", "Id") AS prev '
               f'FROM {table(m.StageHistory)} WHERE "_sobject" = \'OpportunityHistory\' AND '
               f'"_ParentId" IN (SELECT "Id" FROM {table(m.Opportunity)} WHERE "IsClosed" = 0)) '
               f'WHERE d > prev GROUP BY deal HAVING COUNT(*) >= {P()}')
    else:
        sql = (f'SELECT opportunity_id FROM {table(m.DealChange)} WHERE '
               f'json_extract(changes, \'$.CloseDate[1]\') > '
               f'json_extract(changes, \'$.CloseDate[0]\') GROUP BY opportunity_id '
               f'HAVING COUNT(*) >= {P()}')
    candidates = sorted({r[0] for r in db().execute_sql(sql, [times])} & set(open_ids))
    found = {}
    for deal, deal_steps in past.steps(candidates).items():
        moves = [s for s in deal_steps if s.field == "CloseDate" and s.old and s.new]
        pushed = sum(1 for s in moves if s.new > s.old)
        if pushed >= times:
            seq = [moves[0].old, *(s.new for s in moves)]
            found[deal] = f"close date pushed {pushed} times: {_dates(seq)}"
    return found


Stats = tuple[dict[str, tuple[float, int]], dict[str, tuple[str, str]]]


def _stints_from_history() -> Stats:
    """(stage → (median days of the finished stints there, how many), deal → its open-ended
    stint (stage, since)): one pass over OpportunityHistory in its (deal, time, Id) index order
    (store v7), so SQLite neither sorts nor windows it; the stints are cut here."""
    sql = (f'SELECT "_ParentId", "StageName", "CreatedDate", julianday(substr("CreatedDate", 1, '
           f'19)) FROM {table(m.StageHistory)} '
           f'WHERE "_sobject" = \'OpportunityHistory\' ORDER BY "_ParentId", "CreatedDate", "Id"')
    done: dict[str, list[float]] = defaultdict(list)
    current: dict[str, tuple[str, str]] = {}
    deal = stage = at = None
    day = 0.0  # ``at`` as a Julian day
    for row_deal, row_stage, row_at, row_day in db().execute_sql(sql):
        if row_deal != deal:
            if deal is not None:
                current[deal] = (stage, at)
            deal, stage, at, day = row_deal, row_stage, row_at, row_day
        elif row_stage != stage:  # a new stint: the one before is finished
            done[stage].append(row_day - day)
            stage, at, day = row_stage, row_at, row_day
    if deal is not None:
        current[deal] = (stage, at)
    return {st: (statistics.median(d), len(d)) for st, d in done.items()}, current


def _stints_from_log() -> Stats:
    sql = (f"SELECT DISTINCT opportunity_id FROM {table(m.DealChange)} "
           f"WHERE json_extract(changes, '$.StageName') IS NOT NULL")
    ids = [r[0] for r in db().execute_sql(sql)]
    done: dict[str, list[float]] = defaultdict(list)
    current: dict[str, tuple[str, str]] = {}
    for deal, deal_steps in log_steps(ids).items():
        moves = [s for s in deal_steps if s.field == "StageName"]
        for a, b in itertools.pairwise(moves):
            done[a.new].append((_when(b.at) - _when(a.at)).total_seconds() / 86400)
        if moves:
            current[deal] = (moves[-1].new, moves[-1].at)
    return {stage: (statistics.median(d), len(d)) for stage, d in done.items()}, current


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp[:19]).replace(tzinfo=UTC)


def _stage_age(src: Sources, factor: float, minimum: int, now: datetime,
               rep: str | None) -> dict[str, str]:
    stats, current = _stints_from_history() if src.history else _stints_from_log()
    medians = {stage: median for stage, (median, n) in stats.items() if n >= minimum}
    where, args = _open_where(rep)
    found = {}
    for deal, stage in db().execute_sql(
            f'SELECT o."Id", o."StageName" FROM {table(m.Opportunity)} o WHERE {where}', args):
        stint, median = current.get(deal), medians.get(stage)
        if not stint or stint[0] != stage or not median:
            continue
        days = (now - _when(stint[1])).total_seconds() / 86400
        if days > factor * median:
            found[deal] = (f"in {stage} for {days:.0f} days; the org's median there is "
                           f"{median:.0f} days (limit {factor:g}×)")
    return found


def _recent(past: Past, settings: InspectionSettings, now: datetime,
            rep: str | None) -> dict[str, list[Flag]]:
    """Amount dropped and stage moved back within the last ``recent_days``."""
    stamp, stages = sf_stamp(now - timedelta(days=settings.recent_days)), past.stages
    deals = {i: d for i, d in past.deals(sorted(touched_since(stamp, past.src))).items()
             if not d.now.is_closed and (rep is None or d.now.owner_id == rep)}
    by_deal = past.steps(sorted(deals))
    found: dict[str, list[Flag]] = defaultdict(list)
    for deal_id, deal in deals.items():
        # A deal younger than the window is compared with how it was created (all steps undone).
        then = state_at(deal, by_deal.get(deal_id, []), stamp if deal.created <= stamp else "",
                        stages)
        before, after = then.amount or 0.0, deal.now.amount or 0.0
        pct = settings.amount_drop_percent
        if pct and before > 0 and after < before and (before - after) * 100 / before >= pct:
            found[deal_id].append(Flag("amount_dropped", (
                f"amount dropped {(before - after) * 100 / before:.0f}% in the last "
                f"{settings.recent_days} days: {before:,.0f} → {after:,.0f}")))
        if settings.stage_moved_back:
            for s in by_deal.get(deal_id, []):
                old, new = stages.get(s.old or ""), stages.get(s.new or "")
                if (s.field == "StageName" and s.at > stamp and old and new
                        and not old[1] and not new[1] and new[0] < old[0]):
                    found[deal_id].append(Flag("stage_moved_back", (
                        f"stage moved back: {s.old} → {s.new} on {s.at[:10]}")))
    return found


def flags(past: Past, settings: InspectionSettings, now: datetime | None = None,
          rep: str | None = None) -> dict[str, list[Flag]]:
    """Open deal Id → its flags (only flagged deals; ``rep``'s deals only, when given)."""
    now = now or datetime.now(UTC)
    today = now.date()
    found: dict[str, list[Flag]] = defaultdict(list)

    def add(rule: str, reasons: dict[str, str]) -> None:
        for deal, reason in reasons.items():
            found[deal].append(Flag(rule, reason))

    if settings.no_activity_days:
        add("no_activity", _no_activity(today, settings.no_activity_days, rep))
    if settings.close_date_past:
        add("close_date_past", _close_past(today, rep))
    if settings.pushed_times:
        add("pushed", _pushes(past, settings.pushed_times, rep))
    if settings.stage_age_factor:
        add("stage_age", _stage_age(past.src, settings.stage_age_factor,
                                    settings.min_stage_samples, now, rep))
    for extra in (_contacts(settings, rep), _recent(past, settings, now, rep)):
        for deal, more in extra.items():
            found[deal].extend(more)
    order = {rule: i for i, rule in enumerate(RULES)}
    return {deal: sorted(fl, key=lambda f: order[f.rule]) for deal, fl in found.items()}


def deal_flags(deal_id: str, past: Past, settings: InspectionSettings,
               now: datetime | None = None) -> list[Flag]:
    """One deal's flags (the deal detail screen)."""
    deal = m.Opportunity.get_or_none(m.Opportunity.id == deal_id)
    if deal is None or deal.is_closed:
        return []
    return flags(past, settings, now, rep=deal.owner_id).get(deal_id, [])

