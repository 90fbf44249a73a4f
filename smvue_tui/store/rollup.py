"""Manager rollup: a manager and the reps who report to them, as one group.

The Rep filter offers each manager's team (value ``team:<TeamMember id>``, which
``pipeline.where`` reads) before the single reps; the by-rep view puts each team's total above
its reps. Reporting lines are SMVue's own (Team mapping: m), one level: a manager and their
direct reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from smvue_tui.store import models as m
from smvue_tui.store.pipeline import TEAM_PREFIX, DealFilter, Group, reps, where


@dataclass
class TeamRollup:
    """A manager's team in the by-rep view: its totals (one per currency) and its reps' rows."""

    manager: str
    totals: list[Group] = field(default_factory=list)
    reps: list[Group] = field(default_factory=list)


def _teams() -> dict[int, tuple[str, set[str]]]:
    """manager's TeamMember id → (name, SF user Ids of the manager and their reports)."""
    members = list(m.TeamMember.select())
    by_id = {t.id: t for t in members}
    teams: dict[int, tuple[str, set[str]]] = {}
    for t in members:
        boss = by_id.get(t.manager_id) if t.manager_id else None
        if boss is None or t.sf_user_id is None:
            continue
        _name, owners = teams.setdefault(boss.id, (boss.name, set()))
        owners.add(t.sf_user_id)
        if boss.sf_user_id:
            owners.add(boss.sf_user_id)
    return teams


def rep_choices(flt: DealFilter) -> list[tuple[str | None, str]]:
    """The Rep filter: every rep, preceded by each manager's team that owns deals here."""
    o = m.Opportunity
    base = replace(flt, rep=None)
    owners = {r[0] for r in o.select(o.owner_id).where(where(base)).distinct().tuples()}
    teams = []
    for manager_id, (name, members) in sorted(_teams().items(), key=lambda t: t[1][0].lower()):
        if members & owners:
            teams.append((f"{TEAM_PREFIX}{manager_id}",
                          f"{name}'s team ({len(members & owners)} with deals here)"))
    return [(None, "All reps"), *teams, *reps(flt)]


def rollup(by_rep: list[Group]) -> tuple[list[TeamRollup], list[Group]]:
    """The by-rep rows under their manager's team (totals per currency first), and the rows of
    owners in no team. A manager's own deals count in their team."""
    teams = _teams()
    owner_team = {uid: mid for mid, (_, owners) in teams.items() for uid in owners}
    out: dict[int, TeamRollup] = {}
    loose: list[Group] = []
    for g in by_rep:
        mid = owner_team.get(g.key)
        if mid is None:
            loose.append(g)
            continue
        team = out.setdefault(mid, TeamRollup(teams[mid][0]))
        team.reps.append(g)
        total = next((t for t in team.totals if t.currency == g.currency), None)
        if total is None:
            total = Group(f"{TEAM_PREFIX}{mid}", f"{team.manager}'s team", g.currency)
            team.totals.append(total)
        total.count += g.count
        total.amount += g.amount
        total.risk_adjusted += g.risk_adjusted
    for team in out.values():  # currencies in the order of the summary's totals
        team.totals.sort(key=lambda g: (g.currency is None, g.currency or ""))
    ordered = sorted(out.values(), key=lambda t: t.manager.lower())
    return ordered, loose
