"""What a deal looked like at a moment in the past, and each step it took since.

Two sources, chosen per field:

- **OpportunityHistory** (mirrored as ``StageHistory``) when this org lets the sync read it: a
  snapshot of stage, amount and close date at every change, for the deal's whole life.
- **The store's change log** (``DealChange``) otherwise, and always for the owner and the
  forecast category, which OpportunityHistory does not keep. It starts at the store's first
  sync: changes before that are invisible without OpportunityHistory (``Sources.log_since``).

All reads are a few SQL statements (``store/inspection_queries.py``) over the deals asked about;
nothing loads the whole store, and each deal's steps are one row kept by the store's writer.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from smvue_tui.store import inspection_queries as q
from smvue_tui.store import models as m

HISTORY_FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date"}
LOG_FIELDS = {"StageName": "stage", "Amount": "amount", "CloseDate": "close_date",
              "OwnerId": "owner_id", "ForecastCategoryName": "forecast",
              "IsClosed": "is_closed", "IsWon": "is_won"}


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


_new = tuple.__new__  # NamedTuples made without their slow Python-level __new__


def _deal(row: tuple[Any, ...]) -> Deal:
    return _new(Deal, (row[0], row[1] or "", row[2] or "", row[3], _new(DealState, (
        row[4], row[5], row[6], row[7], row[8], bool(row[9]), bool(row[10]))), row[11]))


def load_deals(ids: Iterable[str]) -> dict[str, Deal]:
    return {row[0]: _deal(row) for row in q.deal_rows(ids)}


# One change of one field of one deal: [at (Salesforce timestamp), field (StageName, Amount,
# CloseDate, OwnerId, ForecastCategoryName, IsClosed or IsWon), old, new] — the lists the
# writer keeps (``deal_facts``) as they parse: a report reads a hundred thousand or more.
Step = list[Any]
AT, FIELD = 0, 1  # then old, new
_at = operator.itemgetter(AT)


def _parse_steps(hist: str | None, log: str | None, src: Sources) -> list[Step]:
    """A deal's steps in time order from the two lists the writer keeps (``deal_facts``):
    OpportunityHistory's for the fields it holds (when the org lets the sync read it), the
    change log's for the rest."""
    held = src.history_fields
    logged = orjson.loads(log) if log else []
    if held and logged:
        logged = [s for s in logged if s[FIELD] not in held]
    if src.history and hist:
        found = orjson.loads(hist)  # StageName, Amount and CloseDate steps only
        if len(held) < len(HISTORY_FIELDS):
            found = [s for s in found if s[FIELD] in held]
        return sorted([*logged, *found], key=_at) if logged else found
    return logged


class Past:
    """Deals and their steps, each loaded once per report and shared by its parts."""

    def __init__(self, src: Sources, stages: dict[str, tuple[int, bool, bool]],
                 open_only: bool = False) -> None:
        """``open_only``: the touched deals are the open ones only (what the flags read)."""
        q.fresh_facts()  # after an initial or full sync: the facts it left to recompute
        self.src, self.stages, self.open_only = src, stages, open_only
        self._deals: dict[str, Deal] = {}
        self._steps: dict[str, list[Step]] = {}
        self._unparsed: dict[str, tuple[str | None, str | None]] = {}  # steps read, not parsed
        self._touched: tuple[str, list[tuple[str, Any, Any, str]]] | None = None
        # Flagged open deals as the report lists them: Id → (name, owner, stage, amount,
        # close date), kept by the flags' one read of the open deals.
        self.listed: dict[str, tuple[str, str | None, str | None, float | None, str | None]] = {}

    def touched(self, stamp: str) -> list[tuple[str, bool, str | None]]:
        """(Id, closed, owner) of the deals touched after ``stamp`` (``touched_deals``); one
        query serves every later stamp (``prime`` with the earliest the report needs)."""
        if self._touched is None or self._touched[0] > stamp:
            self.prime(stamp)
        assert self._touched is not None
        return [(i, bool(closed), owner) for i, closed, owner, last in self._touched[1]
                if last > stamp]

    def prime(self, stamp: str) -> None:
        """Read the deals touched after ``stamp`` with their steps (parsed when asked for)."""
        touched = []
        deals, unparsed, parsed = self._deals, self._unparsed, self._steps
        for row in q.touched_deals(stamp, self.src.history, self.open_only):
            deal_id = row[0]
            deals[deal_id] = _deal(row)
            if deal_id not in parsed:
                unparsed[deal_id] = (row[13], row[14])
            touched.append((deal_id, row[9], row[7], row[12]))
        self._touched = (stamp, touched)

    def deals(self, ids: Iterable[str]) -> dict[str, Deal]:
        wanted = list(ids)
        self._deals.update(load_deals(i for i in wanted if i not in self._deals))
        return {i: self._deals[i] for i in wanted if i in self._deals}

    def steps(self, ids: Iterable[str]) -> dict[str, list[Step]]:
        wanted = list(ids)
        parsed, unparsed, src = self._steps, self._unparsed, self.src
        missing = []
        for i in wanted:
            if i in parsed:
                continue
            raw = unparsed.pop(i, None)
            if raw is None:
                missing.append(i)
            else:
                parsed[i] = _parse_steps(*raw, src)
        if missing:
            missing.sort()
            parsed.update({deal: [] for deal in missing})
            parsed.update((deal, _parse_steps(hist, log, src))
                          for deal, hist, log in q.step_rows(missing))
        return {i: parsed[i] for i in wanted}


_AT = {name: DealState._fields.index(attr) for name, attr in LOG_FIELDS.items()}


def state_at(deal: Deal, deal_steps: list[Step], stamp: str,
             stage_info: dict[str, tuple[int, bool, bool]]) -> DealState:
    """The deal as it was at ``stamp``: undo, newest first, every step after it (steps are
    in time order)."""
    now = deal.now
    if not deal_steps or deal_steps[-1][AT] <= stamp:
        return now  # nothing to undo
    values = list(now)
    for at, field, old, _ in reversed(deal_steps):
        if at <= stamp:
            break
        i = _AT.get(field)
        if i is not None:
            values[i] = old
    stage = values[0]
    info = stage_info.get(stage or "")
    if info and stage != now.stage:  # closed/won follow the stage it had then
        values[5], values[6] = info[1], info[2]
    values[5], values[6] = bool(values[5]), bool(values[6])
    return DealState._make(values)


def stage_info() -> dict[str, tuple[int, bool, bool]]:
    """Stage name → (sort order, closed, won), under both its label and its API name."""
    found: dict[str, tuple[int, bool, bool]] = {}
    for s in m.OpportunityStage.select():
        info = (s.sort_order or 0, bool(s.is_closed), bool(s.is_won))
        for name in (s.api_name, s.master_label):
            if name:
                found[name] = info
    return found
