"""Risk flags on open deals, each a rule with its threshold (``settings.py``) and a reason that
carries its evidence: "close date pushed 3 times: 05-01 → 06-15 → 07-30 → 09-01".

Rules (``RULES``): no_activity, close_date_past, pushed, stage_age, no_primary_contact,
single_threaded, amount_dropped, stage_moved_back. All but the last two read one row per open
deal: its facts (stint, pushes, last activity, contact roles), kept by the store's writer with
each page (``store/deal_facts.py``), and the stage medians from its finished stints; the last two
replay only the deals touched within ``recent_days``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, timedelta

from smvue_tui.inspection.history import Past
from smvue_tui.inspection.periods import sf_stamp
from smvue_tui.inspection.settings import InspectionSettings
from smvue_tui.store import models as m
from smvue_tui.store.inspection_queries import (
    HISTORY,
    LOG,
    open_deal_flag_rows,
    push_dates,
    stage_medians,
)

# Each rule and its short name on a narrow screen (the reason carries the evidence).
RULE_LABELS = {"no_activity": "no activity", "close_date_past": "past due",
               "pushed": "pushed", "stage_age": "long in stage",
               "no_primary_contact": "no primary contact", "single_threaded": "single-threaded",
               "amount_dropped": "amount dropped", "stage_moved_back": "stage back"}
RULES = tuple(RULE_LABELS)


# A flag is a dict, {"reason": …, "rule": …} (keys in sorted order): as the report prints it,
# so tens of thousands go into the JSON as they are. Shared, never changed once made.
Flag = dict[str, str]


def flag(rule: str, reason: str) -> Flag:
    return {"reason": reason, "rule": rule}


def _dates(seq: list[str]) -> str:
    """05-01 → 06-15 (years shown only when the dates span more than one)."""
    years = {d[:4] for d in seq}
    return " → ".join(d[5:10] if len(years) == 1 else d[:10] for d in seq)


class _Days(dict[str, int]):
    """Days from a day's ISO date back to ``today``, parsed once per distinct date."""

    def __init__(self, today: date) -> None:
        super().__init__()
        self.today = today

    def __missing__(self, day: str) -> int:
        self[day] = found = (self.today - date.fromisoformat(day[:10])).days
        return found


def _open_deal_flags(past: Past, settings: InspectionSettings, now: datetime,
                     rep: str | None, ids: Collection[str] | None) -> dict[str, list[Flag]]:
    """Every rule but the recent ones, from one row per open deal (its facts, kept by the
    store's writer: ``store/deal_facts.py``); the flagged deals' rows are kept in
    ``past.listed`` for the report."""
    today = now.date()
    days = _Days(today)
    today_iso = today.isoformat()
    activity_cutoff = (today - timedelta(days=settings.no_activity_days)).isoformat()
    src = past.src
    # The stage-age rule reads OpportunityHistory's stints where the org lets the sync read
    # it, else the change log's; pushes likewise for the close date (none when history holds
    # it but not the stage: the replay found none there either).
    stint = HISTORY if src.history else LOG
    push_src = (HISTORY if src.history else None) if "CloseDate" in src.history_fields else LOG
    factor, times = settings.stage_age_factor, settings.pushed_times
    naive_now = now.astimezone(UTC).replace(tzinfo=None)  # stamps are UTC
    too_old = _stage_cutoffs(stage_medians(stint, settings.min_stage_samples) if factor else {},
                             factor, naive_now)
    no_activity, close_past = settings.no_activity_days, settings.close_date_past
    no_primary, single = settings.no_primary_contact, settings.single_threaded
    no_roles = flag("no_primary_contact", "no contact roles at all")  # shared by every deal
    no_primary_role = flag("no_primary_contact", "no primary contact role")
    listed = past.listed
    found: dict[str, list[Flag]] = {}
    rows = open_deal_flag_rows(rep, stint if factor else None, push_src if times else None,
                               times, ids)
    for (deal_id, name, owner, stage, amount, close, created, sf_last, last_activity, pushed,
         pushed_dates, since, contacts, primary, contact) in rows:
        fl: list[Flag] = []
        if no_activity:
            last, other = last_activity or "", sf_last or ""
            if other > last:
                last = other
            if last and last < activity_cutoff:
                fl.append({"reason": f"no activity in {days[last]} days (last: {last})",
                           "rule": "no_activity"})
            elif not last and created and created[:10] < activity_cutoff:
                fl.append({"reason": "no activity logged since it was created on "
                                     f"{created[:10]}", "rule": "no_activity"})
        if close_past and close is not None and close < today_iso:
            fl.append({"reason": f"close date {close} is {days[close]} days past",
                       "rule": "close_date_past"})
        if pushed and pushed >= times:  # pushes are only read when the rule is on
            fl.append({"reason": f"close date pushed {pushed} times: "
                                 f"{_dates(push_dates(pushed_dates))}", "rule": "pushed"})
        if since is not None:  # only read when the rule is on and the stint is the stage's
            limit = too_old.get(stage)
            if limit is not None and since[:19] <= limit[0]:  # else younger than the limit
                median = limit[1]
                age = (naive_now - datetime.fromisoformat(since[:19])).total_seconds() / 86400
                if age > factor * median:
                    fl.append({"reason": f"in {stage} for {age:.0f} days; the org's median "
                                         f"there is {median:.0f} days (limit {factor:g}×)",
                               "rule": "stage_age"})
        if no_primary and not primary:
            fl.append(no_primary_role if contacts else no_roles)
        if single and contacts == 1:
            fl.append({"reason": f"single-threaded: one contact ({contact or 'unnamed'})",
                       "rule": "single_threaded"})
        if fl:
            found[deal_id] = fl
            listed[deal_id] = (name or "", owner, stage, amount, close)  # the report's row
    return found


def _stage_cutoffs(medians: dict[str | None, float], factor: float,
                   naive_now: datetime) -> dict[str | None, tuple[str, float]]:
    """Stage → (the second up to which a stint begun then may be too long in it, the stage's
    median): a stint begun later is younger than ``factor`` × the median, judged by comparing
    text — only the few others are timed (most open deals are not long in their stage)."""
    found = {}
    for stage, median in medians.items():
        if not median:
            continue
        try:
            edge = naive_now - timedelta(days=factor * median)
        except OverflowError:  # a limit before the year 1: no stint is that long
            continue
        # Rounded up to the second: a stint begun within that second is timed exactly.
        found[stage] = ((edge + timedelta(seconds=1)).isoformat(timespec="seconds"), median)
    return found


def recent_flags(past: Past, settings: InspectionSettings, now: datetime,
                 rep: str | None, ids: Collection[str] | None = None) -> dict[str, list[Flag]]:
    """Amount dropped and stage moved back within the last ``recent_days`` (the last two
    rules), per open deal (``rep``'s, of ``ids``, when given)."""
    stamp, stages = sf_stamp(now - timedelta(days=settings.recent_days)), past.stages
    deals = past.deals(sorted(i for i, closed, owner in past.touched(stamp)
                              if not closed and (rep is None or owner == rep)
                              and (ids is None or i in ids)))
    by_deal = past.steps(sorted(deals))
    pct, back = settings.amount_drop_percent, settings.stage_moved_back
    found: dict[str, list[Flag]] = {}
    for deal_id, deal in deals.items():
        # One walk back over the steps after the window's start (they are in time order): the
        # amount it had then, and its stages moved back since. A deal younger than the window
        # is compared with how it was created (all its steps undone).
        since = stamp if deal.created <= stamp else ""
        then, moved_back = deal.now.amount, []
        for at, field, old, new in reversed(by_deal.get(deal_id, ())):
            if at <= since:
                break
            if field == "Amount":
                then = old
            elif back and field == "StageName" and at > stamp:
                left, entered = stages.get(old or ""), stages.get(new or "")
                if (left and entered and not left[1] and not entered[1]
                        and entered[0] < left[0]):  # from one open stage to an earlier one
                    moved_back.append(flag("stage_moved_back",
                                           f"stage moved back: {old} → {new} on {at[:10]}"))
        fl = []
        before, after = then or 0.0, deal.now.amount or 0.0
        if pct and before > 0 and after < before and (before - after) * 100 / before >= pct:
            fl.append(flag("amount_dropped", (
                f"amount dropped {(before - after) * 100 / before:.0f}% in the last "
                f"{settings.recent_days} days: {before:,.0f} → {after:,.0f}")))
        if moved_back:  # found newest first
            fl.extend(reversed(moved_back))
        if fl:
            found[deal_id] = fl
    return found


def flags(past: Past, settings: InspectionSettings, now: datetime | None = None,
          rep: str | None = None, ids: Collection[str] | None = None,
          recent: Callable[[], dict[str, list[Flag]]] | None = None) -> dict[str, list[Flag]]:
    """Open deal Id → its flags in ``RULES`` order (only flagged deals; ``rep``'s deals only,
    when given; only those of ``ids``, when given — a table's rows). ``recent``: the last two
    rules' flags found elsewhere (``recent_flags``, by another process), asked for once the
    other rules' are found."""
    now = now or datetime.now(UTC)
    ids = None if ids is None else frozenset(ids)
    found = _open_deal_flags(past, settings, now, rep, ids)
    last_two = recent() if recent else recent_flags(past, settings, now, rep, ids)
    for deal, more in last_two.items():  # the last two rules
        found.setdefault(deal, []).extend(more)
    return found


def deal_flags(deal_id: str, past: Past, settings: InspectionSettings,
               now: datetime | None = None) -> list[Flag]:
    """One deal's flags (the deal detail screen)."""
    deal = m.Opportunity.get_or_none(m.Opportunity.id == deal_id)
    if deal is None or deal.is_closed:
        return []
    return flags(past, settings, now, rep=deal.owner_id).get(deal_id, [])

