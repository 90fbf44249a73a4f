"""Pipeline math over the store: pipelines (record types), the deal filter, stage probabilities
and the grouped totals the Pipelines screen shows. No Textual here; every function is a plain
store query, safe to call from a thread worker.

Risk-adjusted amount = amount × probability, where the probability of a stage is the manager's
``StageOverride`` if set, else Salesforce's ``OpportunityStage.DefaultProbability`` (a stage
Salesforce no longer lists falls back to each deal's own Probability). Money is never summed
across currencies: every total is kept per ``CurrencyIsoCode``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from peewee import JOIN, fn

from smvue_tui.store import models as m
from smvue_tui.store.backend import position, total
from smvue_tui.store.identity import current_manager
from smvue_tui.store.team_scope import mapped_team, team_owners

ALL_DEALS = ""  # the pipeline key of the single tab an org without record types gets
NO_RECORD_TYPE = "-"  # deals without a record type in an org that has record types
STATUSES = ("open", "won", "lost", "all")
PERIODS = ("any", "this_quarter", "next_quarter", "this_year", "custom")
PERIOD_LABELS = {"any": "Any close date", "this_quarter": "This quarter",
                 "next_quarter": "Next quarter", "this_year": "This year", "custom": "Custom"}
RISK_LABEL = "directional, not board-grade"


@dataclass(frozen=True)
class DealFilter:
    """Which deals a view shows. ``pipeline`` is a RecordType Id, ALL_DEALS or NO_RECORD_TYPE."""

    pipeline: str = ALL_DEALS
    team_only: bool = True  # only deals owned by mapped, coached team members (if any mapped)
    rep: str | None = None  # one owner's SF user Id, or "team:<id>": a manager and their reps
    status: str = "open"
    close_from: date | None = None
    close_to: date | None = None
    search: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")


@dataclass(frozen=True)
class Pipeline:
    key: str  # RecordType Id, ALL_DEALS or NO_RECORD_TYPE
    name: str
    is_default: bool = False


@dataclass(frozen=True)
class StageProbability:
    stage: str
    probability: float | None  # percent
    source: str  # "override" | "salesforce" | "deal"
    salesforce: float | None  # Salesforce's default, for the override editor


@dataclass
class Group:
    """One row of a grouping (a stage or a rep) in one currency."""

    key: str
    label: str
    currency: str | None
    count: int = 0
    amount: float = 0.0
    risk_adjusted: float = 0.0
    probability: float | None = None  # stage groups only
    probability_source: str | None = None
    order: int = 0


@dataclass
class Summary:
    by_stage: list[Group] = field(default_factory=list)
    by_rep: list[Group] = field(default_factory=list)
    totals: list[Group] = field(default_factory=list)  # one per currency
    currencies: list[str | None] = field(default_factory=list)
    # by_rep under managers' teams (store/rollup.py): ([TeamRollup], rows in no team)
    teams: tuple[list[Any], list[Group]] | None = None

    @property
    def multi_currency(self) -> bool:
        return len(self.currencies) > 1

    @property
    def currency(self) -> str | None:
        """The one currency of every figure (None: several, or a single-currency org, whose
        deals carry no CurrencyIsoCode and whose REST describe names no currency either)."""
        if self.multi_currency:
            return None
        return self.currencies[0] if self.currencies else None


# --- pipelines ---------------------------------------------------------------------------------


def _default_keys() -> set[str]:
    """This manager's default pipeline; until they choose one, the store-wide one ("": a
    one-manager store's, or a team store's from before defaults were per manager)."""
    s, me = m.PipelineSetting, current_manager()
    rows = list(s.select(s.manager, s.record_type_id).where(
        (s.is_default == True) & s.manager.in_(sorted({me, ""}))))  # noqa: E712
    return ({r.record_type_id for r in rows if r.manager == me}
            or {r.record_type_id for r in rows if r.manager == ""})


def pipelines() -> list[Pipeline]:
    """One pipeline per Opportunity record type, or a single "All deals" without record types."""
    default = _default_keys()
    types = list(m.RecordType.select().where(
        (m.RecordType.sobject_type == "Opportunity") | m.RecordType.sobject_type.is_null())
        .order_by(m.RecordType.name, m.RecordType.id))
    if not types:
        return [Pipeline(ALL_DEALS, "All deals", True)]
    found = [Pipeline(rt.id, rt.name + ("" if rt.is_active in (None, True) else " (inactive)"),
                      rt.id in default) for rt in types]
    if m.Opportunity.select().where(m.Opportunity.record_type_id.is_null()).exists():
        found.append(Pipeline(NO_RECORD_TYPE, "No record type", NO_RECORD_TYPE in default))
    return found


def default_pipeline(found: list[Pipeline]) -> Pipeline:
    return next((p for p in found if p.is_default), found[0])


def set_default_pipeline(key: str) -> None:
    """Remember ``key`` as the pipeline this manager sees first (their only default)."""
    s, me = m.PipelineSetting, current_manager()
    with s._meta.database.atomic():
        s.update(is_default=False).where(s.manager == me).execute()
        s.insert(manager=me, record_type_id=key, is_default=True).on_conflict(
            conflict_target=[s.manager, s.record_type_id],
            update={s.is_default: True}).execute()


# --- the filter as SQL -------------------------------------------------------------------------


def team_user_ids() -> list[str]:
    """SF user Ids of the mapped team (see ``team_scope.mapped_team``)."""
    return [t.sf_user_id for t in mapped_team()]


def team_is_mapped() -> bool:
    return bool(team_user_ids())


TEAM_PREFIX = "team:"  # a Rep filter value naming a manager's team (store/rollup.py)


def team_of(manager_id: int) -> Any:
    """SF user Ids of a manager (a TeamMember) and of the members who report to them."""
    t = m.TeamMember
    return t.select(t.sf_user_id).where(((t.id == manager_id) | (t.manager == manager_id))
                                        & t.sf_user_id.is_null(False))


def where(flt: DealFilter) -> Any:
    """The peewee condition selecting ``flt``'s deals from Opportunity."""
    o = m.Opportunity
    cond = o.id.is_null(False)
    if flt.pipeline == NO_RECORD_TYPE:
        cond &= o.record_type_id.is_null()
    elif flt.pipeline != ALL_DEALS:
        cond &= o.record_type_id == flt.pipeline
    if flt.team_only and (owners := team_owners()) is not None:
        cond &= o.owner_id.in_(owners)
    if flt.rep and flt.rep.startswith(TEAM_PREFIX):
        cond &= o.owner_id.in_(team_of(int(flt.rep[len(TEAM_PREFIX):])))
    elif flt.rep:
        cond &= o.owner_id == flt.rep
    if flt.status == "open":
        cond &= o.is_closed == False  # noqa: E712
    elif flt.status == "won":
        cond &= (o.is_closed == True) & (o.is_won == True)  # noqa: E712
    elif flt.status == "lost":
        cond &= (o.is_closed == True) & (o.is_won == False)  # noqa: E712
    if flt.close_from:
        cond &= o.close_date >= flt.close_from.isoformat()
    if flt.close_to:
        cond &= o.close_date <= flt.close_to.isoformat()
    if flt.search.strip():
        # A plain substring (instr, not LIKE): "%" and "_" typed by the user match themselves.
        term = flt.search.strip().lower()
        accounts = m.Account.select(m.Account.id).where(position(m.Account.name, term) > 0)
        cond &= (position(o.name, term) > 0) | o.account_id.in_(accounts)
    return cond


# --- close periods (fiscal, from Organization.FiscalYearStartMonth) ---------------------------


def fiscal_start_month() -> int:
    org = m.Organization.select(m.Organization.fiscal_year_start_month).first()
    month = org.fiscal_year_start_month if org else None
    return month if month and 1 <= month <= 12 else 1


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_range(period: str, today: date, start_month: int = 1) -> tuple[date | None, date | None]:
    """Inclusive close-date bounds of a named period ("any" and "custom" have none)."""
    back = (today.month - start_month) % 12  # months since the fiscal year began
    if period == "this_quarter":
        y, mo = _shift(today.year, today.month, -(back % 3))
    elif period == "next_quarter":
        y, mo = _shift(today.year, today.month, -(back % 3) + 3)
    elif period == "this_year":
        y, mo = _shift(today.year, today.month, -back)
        ey, em = _shift(y, mo, 11)
        return date(y, mo, 1), _month_end(ey, em)
    elif period in ("any", "custom"):
        return None, None
    else:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    ey, em = _shift(y, mo, 2)
    return date(y, mo, 1), _month_end(ey, em)


# --- stage probabilities -----------------------------------------------------------------------


class Probability(float):
    """A deal's probability as SMVue's math uses it; ``override`` when an SMVue stage override
    gave it (shown with a *)."""

    override: bool = False

    def __new__(cls, value: float, override: bool = False) -> Probability:
        made = super().__new__(cls, value)
        made.override = override
        return made


_ProbStage = m.OpportunityStage.alias("prob_stage")


def effective_probability(query: Any, opportunity: Any = m.Opportunity) -> tuple[Any, Any, Any]:
    """The joins and expressions for the probability the pipeline math uses for each deal:
    the SMVue override of its stage, else Salesforce's stage default, else the deal's own —
    the rule ``summarize`` applies, so a deal row and the totals above it never disagree.
    Returns (query with the joins, probability expression, is-override expression)."""
    o = opportunity
    query = (query.join_from(o, m.StageOverride, JOIN.LEFT_OUTER,
                             on=((m.StageOverride.stage_name == o.stage_name)
                                 & (m.StageOverride.team == current_manager())))
             .join_from(o, _ProbStage, JOIN.LEFT_OUTER,
                        on=(_ProbStage.master_label == o.stage_name)))
    value = fn.COALESCE(m.StageOverride.probability, _ProbStage.default_probability,
                        o.probability)
    return query, value, m.StageOverride.probability.is_null(False)


def stage_rank(stage: Any) -> tuple:
    """Where a stage sits in a pipeline: open stages by Salesforce's default probability (a
    sales process climbs towards the close; each record type's business process lists its own
    stages in that order, which the global SortOrder does not say), then won, then lost."""
    return (bool(stage.is_closed), not stage.is_won, stage.default_probability or 0,
            stage.sort_order or 0)


def stage_probabilities(pipeline: str | None = None) -> dict[str, StageProbability]:
    """Every known stage (Salesforce's, plus stages only overrides name) → its probability, in
    pipeline order; with ``pipeline``, only the stages its deals are in."""
    overrides = {s.stage_name: s.probability for s in m.StageOverride.select().where(
        m.StageOverride.team == current_manager())}  # this manager's team's (identity.py)
    used = None
    if pipeline is not None:
        o = m.Opportunity
        used = {r[0] for r in o.select(o.stage_name)
                .where(where(DealFilter(pipeline=pipeline, team_only=False, status="all")))
                .distinct().tuples()}
        overrides = {k: v for k, v in overrides.items() if k in used}
    found: dict[str, StageProbability] = {}
    for st in sorted(m.OpportunityStage.select(), key=stage_rank):
        name = st.master_label or st.api_name
        if used is not None and name not in used:
            continue
        sf = st.default_probability
        found[name] = (StageProbability(name, overrides[name], "override", sf)
                       if name in overrides else StageProbability(name, sf, "salesforce", sf))
    for name, prob in overrides.items():
        found.setdefault(name, StageProbability(name, prob, "override", None))
    return found


def set_stage_override(stage: str, probability: float | None) -> None:
    """Set (0–100) or clear (None) the local probability of a stage. Never sent to Salesforce."""
    if probability is None:
        m.StageOverride.delete().where((m.StageOverride.stage_name == stage)
                                       & (m.StageOverride.team == current_manager())).execute()
        return
    if not 0 <= probability <= 100:
        raise ValueError(f"a probability is a percentage from 0 to 100, not {probability:g}")
    m.StageOverride.insert(team=current_manager(), stage_name=stage,
                           probability=float(probability)).on_conflict(
        conflict_target=[m.StageOverride.team, m.StageOverride.stage_name],
        update={m.StageOverride.probability: float(probability)}).execute()


# --- the grouped totals ------------------------------------------------------------------------


def _stage_order() -> dict[str, int]:
    stages = sorted(m.OpportunityStage.select(), key=stage_rank)
    return {(s.master_label or s.api_name): i for i, s in enumerate(stages)}


def summarize(flt: DealFilter) -> Summary:
    """Count, amount and risk-adjusted amount by stage, by rep and in total, per currency."""
    o = m.Opportunity
    rows = (o.select(o.stage_name, o.owner_id, o.currency_iso_code,
                     fn.COUNT(o.id).alias("n"),
                     total(o.amount).alias("amount"),
                     total(o.amount * fn.COALESCE(o.probability, 0)).alias("weighted"))
            .where(where(flt)).group_by(o.stage_name, o.owner_id, o.currency_iso_code)
            .tuples())
    probs = stage_probabilities()
    order = _stage_order()
    names = _owner_names()
    stages: dict[tuple, Group] = {}
    reps: dict[tuple, Group] = {}
    totals: dict[str | None, Group] = {}
    for stage, owner, currency, n, amount, weighted in rows:
        sp = probs.get(stage or "")
        if sp is not None and sp.probability is not None:
            risk = amount * sp.probability / 100
        else:  # a stage Salesforce does not list: each deal's own probability
            risk = weighted / 100
        stage_key = stage or ""
        g = stages.setdefault((stage_key, currency), Group(
            stage_key, stage or "(no stage)", currency, order=order.get(stage_key, 10_000),
            probability=sp.probability if sp else None,
            probability_source=sp.source if sp and sp.probability is not None else "deal"))
        r = reps.setdefault((owner or "", currency), Group(
            owner or "", names.get(owner or "", owner or "(no owner)"), currency))
        t = totals.setdefault(currency, Group("", "Total", currency))
        for group in (g, r, t):
            group.count += n
            group.amount += amount
            group.risk_adjusted += risk
    currencies = sorted(totals, key=lambda c: (c is None, c or ""))
    cur_rank = {c: i for i, c in enumerate(currencies)}
    return Summary(
        by_stage=sorted(stages.values(), key=lambda g: (g.order, g.label, cur_rank[g.currency])),
        by_rep=sorted(reps.values(), key=lambda g: (g.label.lower(), cur_rank[g.currency])),
        totals=[totals[c] for c in currencies],
        currencies=currencies)


def owner_names() -> dict[str, str]:
    """SF user Id → name: the team's name for the person where mapped, else Salesforce's."""
    return _owner_names()


def _owner_names() -> dict[str, str]:
    team = {t.sf_user_id: t.name for t in m.TeamMember.select().where(
        m.TeamMember.sf_user_id.is_null(False))}
    users = {u.id: u.name for u in m.SfUser.select(m.SfUser.id, m.SfUser.name)}
    return {**users, **team}


def search_elsewhere(flt: DealFilter) -> list[tuple[str, str, int]]:
    """Where else the search finds deals: (pipeline key, tab name, count) for each other tab,
    with the same filters but the pipeline; and ("", "other statuses", n) for the deals of this
    tab that the status filter hides. Empty without a search."""
    if not flt.search.strip():
        return []
    o = m.Opportunity
    found = []
    for p in pipelines():
        if p.key == flt.pipeline:
            continue
        n = o.select().where(where(replace(flt, pipeline=p.key))).count()
        if n:
            found.append((p.key, p.name, n))
    if flt.status != "all":
        hidden = (o.select().where(where(replace(flt, status="all"))).count()
                  - o.select().where(where(flt)).count())
        if hidden:
            found.append(("", "other statuses (o)", hidden))
    return found


def reps(flt: DealFilter) -> list[tuple[str, str]]:
    """(SF user Id, name) of everyone owning a deal in ``flt`` ignoring its rep, by name."""
    o = m.Opportunity
    base = DealFilter(**{**flt.__dict__, "rep": None})
    names = _owner_names()
    owners = {r[0] for r in o.select(o.owner_id).where(where(base)).distinct().tuples() if r[0]}
    return sorted(((u, names.get(u, u)) for u in owners), key=lambda p: p[1].lower())
