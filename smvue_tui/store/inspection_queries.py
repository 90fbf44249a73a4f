"""The SQL the inspection report (``smvue_tui/inspection/``) reads, in one place and portable:
plain SELECTs with COUNT/SUM/MIN/MAX/COALESCE/substr and LIMIT/OFFSET, which SQLite and
PostgreSQL both run; the one backend-specific expression (days between two dates) is chosen
from the bound peewee Database in ``_day_diff``. The inspection package holds no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

import orjson
from peewee import Database

from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres
from smvue_tui.store.deal_facts import HISTORY, LOG, catch_up

_CHUNK = 500  # ids per statement: under SQLite's bound-parameter limit
__all__ = ["HISTORY", "LOG"]


def db() -> Database:
    """The bound store (the models are bound to it directly, not through the proxy)."""
    return m.Opportunity._meta.database


def _p() -> str:
    return db().param


def _t(model: type[m.BaseModel]) -> str:
    return f'"{model._meta.table_name}"'


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _marks(part: list[Any]) -> str:
    return ", ".join([_p()] * len(part))


def _day_diff(later: str, earlier: str) -> str:
    """Days from one ISO date (YYYY-MM-DD text) to another, as a number."""
    if is_postgres(db()):
        return f"CAST(CAST({later} AS DATE) - CAST({earlier} AS DATE) AS DOUBLE PRECISION)"
    return f"(julianday({later}) - julianday({earlier}))"


def _no_index(column: str) -> str:
    """``column`` in a WHERE term SQLite must not choose an index for (its documented unary
    "+"): without table statistics it prefers an equality on the (IsClosed, …) index — half the
    deals — over the close-date range it should walk. PostgreSQL plans from its statistics."""
    return column if is_postgres(db()) else f"+{column}"


def _rep(column: str, rep: str | None) -> tuple[str, list[Any]]:
    return (f" AND {column} = {_p()}", [rep]) if rep else ("", [])


def fresh_facts() -> None:
    """Bring the deal facts up to date where a big page (an initial or full sync) left them
    to be recomputed whole (``deal_facts.catch_up``); nothing to do otherwise."""
    if m.FactsStale.select().exists() and _may_write_facts():
        with db().atomic():
            catch_up()


def _may_write_facts() -> bool:
    """A manager's role on a team store reads the facts; the writer (serve) recomputes them
    after its sync (``team_serve.OrgWriter.synced``)."""
    from smvue_tui.store.postgres import granted

    return granted(m.DealFact, "DELETE")


MAPPED_BYTES = 1 << 30


def read_mapped() -> None:
    """Let SQLite read the store file through a memory map on this connection (a one-off
    report in its own process: ``inspect``). At 100,000 deals the report reads ~150 MB of
    pages, more than the page cache holds: copied in by a read() each, that was ~0.15 s of
    system time per run; mapped, the kernel's cached pages are read in place. No-op on
    PostgreSQL."""
    if not is_postgres(db()):
        db().execute_sql(f"PRAGMA mmap_size = {MAPPED_BYTES}")


# --- risk flags: one row per open deal --------------------------------------------------------

def open_deal_flag_rows(rep: str | None, stint: str | None, pushes: str | None,
                        min_pushes: int,
                        ids: Iterable[str] | None = None) -> Iterator[tuple[Any, ...]]:
    """Every open deal (``rep``'s only) with what the risk rules read, and no more: (Id, Name,
    OwnerId, StageName, Amount, CloseDate, CreatedDate, LastActivityDate, its newest stored
    activity, close-date pushes, the dates they went through (when at least ``min_pushes``),
    since when it is in its stage (when the current stint, from ``stint`` — HISTORY or LOG —,
    is in the deal's stage), distinct contacts with a role, whether one is primary, the one
    contact's name). ``pushes``: HISTORY, LOG or None (no push count). ``ids``: only those
    deals (a table's rows). Rows come as they are read: a caller that keeps few of them never
    holds all 50,000 at 100,000 deals (their memory is used again, row after row)."""
    only, rep_args = _rep('o."OwnerId"', rep)
    p, args = _p(), []
    push = "0, NULL"
    if pushes in (HISTORY, LOG):
        push = (f"f.{pushes}_pushes, CASE WHEN f.{pushes}_pushes >= {p} "
                f"THEN f.{pushes}_push_dates END")
        args.append(max(min_pushes, 1))
    since = "NULL"
    if stint in (HISTORY, LOG):  # NULL-safe: an unnamed stage is a stage too (as in Python)
        since = (f'CASE WHEN f.{stint}_stage = o."StageName" OR (f.{stint}_stage IS NULL AND '
                 f'o."StageName" IS NULL) THEN f.{stint}_since END')
    sql = (f'SELECT o."Id", o."Name", o."OwnerId", o."StageName", o."Amount", o."CloseDate", '
           f'o."CreatedDate", o."LastActivityDate", f.last_activity, {push}, {since}, '
           f'f.contacts, f.has_primary, c."Name" FROM {_t(m.Opportunity)} o LEFT JOIN '
           f'{_t(m.DealFact)} f ON f.deal_id = o."Id" LEFT JOIN {_t(m.Contact)} c ON '
           f'c."Id" = f.one_contact AND f.contacts = 1 WHERE o."IsClosed" = {p}{only}')
    if ids is None:
        return iter(db().execute_sql(sql, [*args, False, *rep_args]))
    return (row for part in _chunks(sorted(set(ids))) for row in db().execute_sql(
        f'{sql} AND o."Id" IN ({_marks(part)})', [*args, False, *rep_args, *part]).fetchall())


def stage_medians(source: str, minimum: int) -> dict[str | None, float]:
    """Stage → the median days of the finished stints there (``source``: HISTORY or LOG), for
    stages with at least ``minimum`` of them: the middle of the (source, stage, days) index."""
    t = _t(m.StageStint)
    counts = db().execute_sql(f'SELECT "stage", COUNT(*) FROM {t} WHERE "source" = {_p()} '
                              f'GROUP BY "stage"', [source]).fetchall()
    out: dict[str | None, float] = {}
    for stage, n in counts:
        if n < max(minimum, 1):
            continue
        where, args = ('"stage" IS NULL', []) if stage is None else (f'"stage" = {_p()}', [stage])
        middle = [r[0] for r in db().execute_sql(
            f'SELECT "days" FROM {t} WHERE "source" = {_p()} AND {where} ORDER BY "days" '
            f'LIMIT 2 OFFSET {_p()}', [source, *args, (n - 1) // 2])]
        out[stage] = middle[0] if n % 2 else (middle[0] + middle[1]) / 2
    return out


def push_dates(text: str | None) -> list[str]:
    return orjson.loads(text) if text else []


# --- deals and their steps (the changes over a window, the recent rules, the trend) ------------

DEAL_COLUMNS = ("Id", "Name", "CreatedDate", "CurrencyIsoCode", "StageName", "Amount",
                "CloseDate", "OwnerId", "ForecastCategoryName", "IsClosed", "IsWon",
                "Probability")


def deal_rows(ids: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """The ``DEAL_COLUMNS`` of these deals (those stored)."""
    cols = ", ".join(f'"{c}"' for c in DEAL_COLUMNS)
    for part in _chunks(sorted(set(ids))):
        yield from db().execute_sql(
            f'SELECT {cols} FROM {_t(m.Opportunity)} WHERE "Id" IN ({_marks(part)})', part)


def touched_deals(stamp: str, history: bool, open_only: bool = False) -> list[tuple[Any, ...]]:
    """Stored deals (open ones only, when ``open_only``) created, changed (change log) or with
    an OpportunityHistory row (when ``history``) after ``stamp``: their ``DEAL_COLUMNS``, the
    latest of those times, and the steps the writer keeps for them (``deal_facts``:
    OpportunityHistory's and the change log's, JSON text or NULL) — one read for everything a
    report replays."""
    parts = [f'SELECT "Id" AS id, "CreatedDate" AS at FROM {_t(m.Opportunity)} '
             f'WHERE "CreatedDate" > {_p()}',
             f'SELECT opportunity_id, changed_at FROM {_t(m.DealChange)} WHERE changed_at > {_p()}']
    if history:
        parts.append(f'SELECT "_ParentId", "CreatedDate" FROM {_t(m.StageHistory)} WHERE '
                     f'"_sobject" = \'OpportunityHistory\' AND "CreatedDate" > {_p()}')
    cols = ", ".join(f'o."{c}"' for c in DEAL_COLUMNS)
    sql = (f'SELECT {cols}, t.last, f.h_steps, f.l_steps FROM {_t(m.Opportunity)} o '
           f'JOIN (SELECT id, MAX(at) AS last FROM ({" UNION ALL ".join(parts)}) u '
           f'GROUP BY id) t ON t.id = o."Id" LEFT JOIN {_t(m.DealFact)} f ON f.deal_id = o."Id"')
    if open_only:
        sql += f' WHERE o."IsClosed" = {_p()}'
    return db().execute_sql(sql, [stamp] * len(parts) + [False] * open_only).fetchall()


def step_rows(ids: list[str]) -> Iterator[tuple[str, str | None, str | None]]:
    """(deal, its OpportunityHistory steps, its change-log steps) — JSON text of [at, field,
    old, new] in time order, kept by the writer (``deal_facts``) — for these deals (those with
    any)."""
    for part in _chunks(ids):
        yield from db().execute_sql(
            f'SELECT deal_id, h_steps, l_steps FROM {_t(m.DealFact)} '
            f'WHERE deal_id IN ({_marks(part)})', part)


# --- totals: the waterfall's end, forecast categories, figures per rep ------------------------

def _total(expr: str) -> str:
    """A float sum that is 0.0 over no rows (SQLite's TOTAL, spelt portably)."""
    return f"COALESCE(SUM({expr}), 0.0)"


def open_amount_closing(first: str, last: str, rep: str | None = None) -> float:
    """The open pipeline (``rep``'s) whose close date falls in [first, last]."""
    only, args = _rep('"OwnerId"', rep)
    return db().execute_sql(
        f'SELECT {_total(AMOUNT)} FROM {_t(m.Opportunity)} '
        f'WHERE {_no_index(IS_CLOSED)} = {_p()} AND "CloseDate" BETWEEN {_p()} AND {_p()}{only}',
        [False, first, last, *args]).fetchone()[0]


AMOUNT, IS_CLOSED = '"Amount"', '"IsClosed"'


def forecast_rows(first: str, last: str, rep: str | None = None) -> list[tuple[Any, ...]]:
    """(owner, forecast category — the deal's, else its stage's, else ForecastCategory —,
    count, amount) of the deals closing in [first, last]."""
    stage = _t(m.OpportunityStage)
    only, args = _rep('o."OwnerId"', rep)
    return db().execute_sql(
        f'SELECT o."OwnerId", COALESCE(o."ForecastCategoryName", '
        f'(SELECT s."ForecastCategoryName" FROM {stage} s WHERE s."ApiName" = o."StageName" '
        f'OR s."MasterLabel" = o."StageName" LIMIT 1), o."ForecastCategory"), COUNT(*), '
        f'{_total("o." + AMOUNT)} FROM {_t(m.Opportunity)} o '
        f'WHERE o."CloseDate" BETWEEN {_p()} AND {_p()}{only} GROUP BY 1, 2',
        [first, last, *args]).fetchall()


def deal_owners() -> set[str]:
    return {r[0] for r in db().execute_sql(
        f'SELECT DISTINCT "OwnerId" FROM {_t(m.Opportunity)}') if r[0]}


def open_by_owner_stage(rep: str | None = None) -> list[tuple[Any, ...]]:
    """(owner, stage, open deals, their amount, their amount × own Probability)."""
    only, args = _rep('"OwnerId"', rep)
    weighted = _total(AMOUNT + ' * COALESCE("Probability", 0)')
    return db().execute_sql(
        f'SELECT "OwnerId", "StageName", COUNT(*), {_total(AMOUNT)}, {weighted} '
        f'FROM {_t(m.Opportunity)} WHERE "IsClosed" = {_p()}{only} GROUP BY 1, 2',
        [False, *args]).fetchall()


def closed_by_owner(first: str, last: str, rep: str | None = None) -> list[tuple[Any, ...]]:
    """(owner, won, deals, amount, average days from creation to close) of the deals closed
    with a close date in [first, last]."""
    only, args = _rep('"OwnerId"', rep)
    days = _day_diff('"CloseDate"', 'substr("CreatedDate", 1, 10)')
    return db().execute_sql(
        f'SELECT "OwnerId", "IsWon", COUNT(*), {_total(AMOUNT)}, AVG({days}) '
        f'FROM {_t(m.Opportunity)} WHERE {_no_index(IS_CLOSED)} = {_p()} AND '
        f'"CloseDate" BETWEEN {_p()} AND {_p()}{only} GROUP BY 1, 2',
        [True, first, last, *args]).fetchall()


def activities_by_owner(first: str, last: str, rep: str | None = None) -> list[tuple[Any, ...]]:
    """(owner, activities) dated in [first, last] (ISO dates; an activity's time is a date or
    a date and time: compared as text from ``first`` up to the day after ``last``, so the
    (time, owner) index serves it alone)."""
    only, args = _rep('"OwnerId"', rep)
    after = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    return db().execute_sql(
        f'SELECT "OwnerId", COUNT(*) FROM {_t(m.Activity)} WHERE '
        f'"_OccurredAt" >= {_p()} AND "_OccurredAt" < {_p()}{only} GROUP BY 1',
        [first, after, *args]).fetchall()
