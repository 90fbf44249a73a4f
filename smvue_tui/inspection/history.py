"""What a deal looked like at a moment in the past, and each step it took since.

Two sources, chosen per field:

- **OpportunityHistory** (mirrored as ``StageHistory``) when this org lets the sync read it: a
  snapshot of stage, amount and close date at every change, for the deal's whole life.
- **The store's change log** (``DealChange``) otherwise, and always for the owner and the
  forecast category, which OpportunityHistory does not keep. It starts at the store's first
  sync: changes before that are invisible without OpportunityHistory (``Sources.log_since``).

All reads are a few SQL statements over the deals asked about; nothing loads the whole store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from peewee import Database

from smvue_tui.store import models as m

HISTORY_FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date"}
LOG_FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date",
              "OwnerId": "owner_id", "ForecastCategoryName": "forecast",
              "IsClosed": "is_closed", "IsWon": "is_won"}
_CHUNK = 500


def db() -> Database:
    """The bound store (the models are bound to it directly, not through the proxy)."""
    return m.Opportunity._meta.database


def P() -> str:
    """The backend's parameter placeholder."""
    return db().param


def table(model: type[m.BaseModel]) -> str:
    return f'"{model._meta.table_name}"'


def chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def marks(part: list[Any]) -> str:
    return ", ".join([P()] * len(part))


class DealState(NamedTuple):  # NamedTuples: tens of thousands are made per report
    stage: str | None
    amount: float | None
    close_date: str | None
    owner_id: str | None
    forecast: str | None
    is_closed: bool
    is_won: bool


class Deal(NamedTuple):
    id: str
    name: str
    created: str
    currency: str | None
    now: DealState
    probability: float | None = None  # the deal's own, for stages with no known probability


@dataclass(frozen=True)
class Sources:
    """Where the past comes from in this store."""

    history: bool  # OpportunityHistory is synced: stage, amount, close date for all time
    history_fields: tuple[str, ...]  # which of StageName, Amount, CloseDate it holds
    log_since: str | None  # when the change log began (the first sync), UTC ISO


def sources() -> Sources:
    plan = m.ObjectPlan.get_or_none(m.ObjectPlan.sobject == "OpportunityHistory")
    cursor = m.SyncCursor.get_or_none(m.SyncCursor.sobject == "OpportunityHistory")
    synced = bool(plan and plan.available and cursor and cursor.initial_done)
    held = tuple(f for f in HISTORY_FIELDS if synced and f in json.loads(plan.fields))
    first = m.SyncRun.select(m.SyncRun.started_at).order_by(m.SyncRun.id).first()
    return Sources("StageName" in held, held, first.started_at if first else None)


_DEAL_COLUMNS = ('"Id", "Name", "CreatedDate", "CurrencyIsoCode", "StageName", "Amount", '
                 '"CloseDate", "OwnerId", "ForecastCategoryName", "IsClosed", "IsWon", '
                 '"Probability"')


def _deal(row: tuple[Any, ...]) -> Deal:
    return Deal(row[0], row[1] or "", row[2] or "", row[3],
                DealState(row[4], row[5], row[6], row[7], row[8], bool(row[9]), bool(row[10])),
                row[11])


def load_deals(ids: Iterable[str]) -> dict[str, Deal]:
    found: dict[str, Deal] = {}
    for part in chunks(sorted(set(ids))):
        sql = f'SELECT {_DEAL_COLUMNS} FROM {table(m.Opportunity)} WHERE "Id" IN ({marks(part)})'
        found.update((row[0], _deal(row)) for row in db().execute_sql(sql, part))
    return found


def touched_since(stamp: str, src: Sources) -> set[str]:
    """Stored deals created, changed (change log) or with a history row after ``stamp``."""
    parts = [f'SELECT "Id" FROM {table(m.Opportunity)} WHERE "CreatedDate" > {P()}',
             f'SELECT opportunity_id FROM {table(m.DealChange)} '
             f'WHERE changed_at > {P()}']
    if src.history:
        parts.append(f'SELECT "_ParentId" FROM {table(m.StageHistory)} WHERE '
                     f'"_sobject" = \'OpportunityHistory\' AND "CreatedDate" > {P()}')
    sql = (f'SELECT "Id" FROM {table(m.Opportunity)} WHERE "Id" IN '
           f'({" UNION ".join(parts)})')
    return {r[0] for r in db().execute_sql(sql, [stamp] * len(parts))}


@dataclass(frozen=True)
class Step:
    """One change of one field of one deal."""

    at: str  # Salesforce timestamp
    field: str  # StageName, Amount, CloseDate, OwnerId, ForecastCategoryName, IsClosed, IsWon
    old: Any
    new: Any


def history_steps(ids: list[str], src: Sources) -> dict[str, list[Step]]:
    """Every stage/amount/close-date step in OpportunityHistory of these deals, in order."""
    if not src.history:
        return {}
    out: dict[str, list[Step]] = {}
    for part in chunks(ids):
        sql = (f'SELECT "_ParentId", "CreatedDate", "StageName", "Amount", "CloseDate" '
               f'FROM {table(m.StageHistory)} WHERE "_sobject" = \'OpportunityHistory\' '
               f'AND "_ParentId" IN ({marks(part)}) ORDER BY "_ParentId", "CreatedDate", "Id"')
        prev: tuple[Any, ...] | None = None
        for row in db().execute_sql(sql, part):
            if prev is None or prev[0] != row[0]:
                out.setdefault(row[0], [])
            else:
                for i, name in enumerate(HISTORY_FIELDS, start=2):
                    if name in src.history_fields and prev[i] != row[i]:
                        out[row[0]].append(Step(row[1], name, prev[i], row[i]))
            prev = row
    return out


def log_steps(ids: list[str], since: str | None = None) -> dict[str, list[Step]]:
    """Every step the change log holds for these deals (after ``since``), in order."""
    out: dict[str, list[Step]] = {}
    for part in chunks(ids):
        sql = (f"SELECT opportunity_id, changed_at, changes FROM {table(m.DealChange)} "
               f"WHERE opportunity_id IN ({marks(part)})"
               + (f" AND changed_at > {P()}" if since else "")
               + " ORDER BY opportunity_id, changed_at, id")
        for deal, at, changes in db().execute_sql(sql, part + ([since] if since else [])):
            steps = out.setdefault(deal, [])
            for name, (old, new) in sorted(json.loads(changes).items()):
                steps.append(Step(at, name, old, new))
    return out


def steps(ids: list[str], src: Sources) -> dict[str, list[Step]]:
    """Each deal's steps in time order: history's for the fields it holds, the log's for the
    rest (and for everything when the org has no readable history)."""
    hist = history_steps(ids, src)
    out: dict[str, list[Step]] = {}
    for deal, logged in log_steps(ids).items():
        out[deal] = [s for s in logged if s.field not in src.history_fields]
    for deal, found in hist.items():
        out[deal] = sorted([*out.get(deal, []), *found], key=lambda s: s.at)
    return out


class Past:
    """Deals and their steps, each loaded once per report and shared by its parts."""

    def __init__(self, src: Sources, stages: dict[str, tuple[int, bool, bool]]) -> None:
        self.src, self.stages = src, stages
        self._deals: dict[str, Deal] = {}
        self._steps: dict[str, list[Step]] = {}

    def deals(self, ids: Iterable[str]) -> dict[str, Deal]:
        wanted = list(ids)
        self._deals.update(load_deals(i for i in wanted if i not in self._deals))
        return {i: self._deals[i] for i in wanted if i in self._deals}

    def steps(self, ids: Iterable[str]) -> dict[str, list[Step]]:
        wanted = list(ids)
        missing = sorted(i for i in wanted if i not in self._steps)
        found = steps(missing, self.src)
        self._steps.update((i, found.get(i, [])) for i in missing)
        return {i: self._steps[i] for i in wanted}


def state_at(deal: Deal, deal_steps: list[Step], stamp: str,
             stage_info: dict[str, tuple[int, bool, bool]]) -> DealState:
    """The deal as it was at ``stamp``: undo, newest first, every step after it (steps are
    in time order)."""
    values = deal.now._asdict()
    for step in reversed(deal_steps):
        if step.at <= stamp:
            break
        attr = LOG_FIELDS.get(step.field)
        if attr:
            values[attr] = step.old
    info = stage_info.get(values["stage"] or "")
    if info and values["stage"] != deal.now.stage:  # closed/won follow the stage it had then
        values["is_closed"], values["is_won"] = info[1], info[2]
    values["is_closed"], values["is_won"] = bool(values["is_closed"]), bool(values["is_won"])
    return DealState(**values)


def stage_info() -> dict[str, tuple[int, bool, bool]]:
    """Stage name → (sort order, closed, won), under both its label and its API name."""
    found: dict[str, tuple[int, bool, bool]] = {}
    for s in m.OpportunityStage.select():
        info = (s.sort_order or 0, bool(s.is_closed), bool(s.is_won))
        for name in (s.api_name, s.master_label):
            if name:
                found[name] = info
    return found
