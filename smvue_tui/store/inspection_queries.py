"""The SQL the inspection report (``smvue_tui/inspection/``) reads, in one place and portable:
plain SELECTs with COUNT/SUM/MIN/MAX/COALESCE/substr and LIMIT/OFFSET, which SQLite and
PostgreSQL both run; the one backend-specific expression (days between two dates) is chosen
from the bound peewee Database in ``_day_diff``. The inspection package holds no SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from peewee import Database, PostgresqlDatabase

from smvue_tui.store import models as m
from smvue_tui.store.deal_facts import HISTORY, LOG

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
    if isinstance(db(), PostgresqlDatabase):
        return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"
    return f"(julianday({later}) - julianday({earlier}))"


def _rep(column: str, rep: str | None) -> tuple[str, list[Any]]:
    return (f" AND {column} = {_p()}", [rep]) if rep else ("", [])


# --- risk flags: one row per open deal --------------------------------------------------------

def open_deal_facts(rep: str | None = None) -> Iterator[tuple[Any, ...]]:
    """Every open deal (``rep``'s only) with its facts: Id, StageName, CloseDate, CreatedDate,
    LastActivityDate, h_stage, h_since, h_pushes, h_push_dates, l_stage, l_since, l_pushes,
    l_push_dates, last_activity, contacts, has_primary, the one contact's name."""
    only, args = _rep('o."OwnerId"', rep)
    return iter(db().execute_sql(
        f'SELECT o."Id", o."StageName", o."CloseDate", o."CreatedDate", o."LastActivityDate", '
        f'f.h_stage, f.h_since, f.h_pushes, f.h_push_dates, f.l_stage, f.l_since, f.l_pushes, '
        f'f.l_push_dates, f.last_activity, f.contacts, f.has_primary, c."Name" '
        f'FROM {_t(m.Opportunity)} o LEFT JOIN {_t(m.DealFact)} f ON f.deal_id = o."Id" '
        f'LEFT JOIN {_t(m.Contact)} c ON c."Id" = f.one_contact AND f.contacts = 1 '
        f'WHERE o."IsClosed" = {_p()}{only}', [False, *args]))


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
    return json.loads(text) if text else []
