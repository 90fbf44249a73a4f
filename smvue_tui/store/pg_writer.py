"""Upserting a page of records into PostgreSQL: COPY into a staging table, then ONE statement.

Row-by-row INSERTs (even pipelined) cost a round trip's worth of parsing per row; ``COPY`` streams
the page in one go into a temporary table of the same column types, and a single
``INSERT … SELECT … ON CONFLICT ("Id") DO UPDATE … WHERE`` applies it with the same rule as on
SQLite: a stored row is only replaced by a version whose SystemModstamp is at least as new.
Modstamps are compared byte-wise (``COLLATE "C"``): ISO text orders as time only so, whatever
collation the database was created with.

The staging table is per connection (``TEMP``) and per mirrored table, made on first use (and
remembered once that is committed), emptied after each upsert and at every commit
(``ON COMMIT DELETE ROWS``); a page is written inside a transaction (the caller's when one is
open) so the staged rows never outlive it.
One statement may not touch a row twice, so a page holding an Id twice keeps only the version
the SQLite executemany would have left: the newest modstamp, the later one on a tie.

PostgreSQL's text cannot hold a NUL character (\\x00), which SQLite stores as sent: one such
value would fail its whole page, and the sync with it, on every retry. ``without_nul`` replaces
each NUL with U+FFFD (the Unicode replacement character: visible where something was, the rest
of the value kept) before anything reads the page, and logs how many, where and in which
records — never the value.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import weakref
from collections.abc import Sequence
from typing import Any

from peewee import Database

from smvue_tui.store import models as m

log = logging.getLogger(__name__)
NUL, REPLACEMENT = "\x00", "\ufffd"

# psycopg connection → staging tables made on it (they vanish with the connection).
_STAGED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


@functools.cache  # as writer.py's SQLite statement: built once per column set
def _statements(model: type[m.SfRecord], attrs: tuple[str, ...]) -> tuple[str, str]:
    """(COPY …, INSERT … SELECT … ON CONFLICT …) for these columns."""
    table = model._meta.table_name
    cols = [f'"{model._meta.fields[a].column_name}"' for a in attrs]
    listed = ", ".join(cols)
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != '"Id"')
    newer = ""
    if "system_modstamp" in attrs:
        newer = (f' WHERE "{table}"."SystemModstamp" IS NULL OR excluded."SystemModstamp" '
                 f'COLLATE "C" >= "{table}"."SystemModstamp" COLLATE "C"')
    action = f"DO UPDATE SET {sets}{newer}" if sets else "DO NOTHING"
    return (f'COPY "{_stage(table)}" ({listed}) FROM STDIN',
            f'INSERT INTO "{table}" ({listed}) SELECT {listed} FROM "{_stage(table)}" '
            f'ON CONFLICT ("Id") {action}')


def _stage(table: str) -> str:
    return f"_smvue_stage_{table}"


def _ensure_stage(db: Database, table: str) -> None:
    """The staging table on this connection: made once, then remembered — so no page pays a
    round trip for it. Made inside a transaction, it is gone again if that transaction (or a
    savepoint around it) rolls back, and the page after would COPY into a table that is not
    there, on every page after: so it is remembered only once the transaction has committed
    (peewee's after_commit, dropped on rollback) with no savepoint rolled back meanwhile."""
    conn = db.connection()
    made = _STAGED.setdefault(conn, set())
    if table in made:
        return
    db.execute_sql(f'CREATE TEMP TABLE IF NOT EXISTS "{_stage(table)}" ON COMMIT DELETE ROWS '
                   f'AS SELECT * FROM "{table}" WITH NO DATA')
    if not db.in_transaction():
        made.add(table)
        return
    rollbacks = db.savepoints_rolled_back()

    def committed() -> None:
        if db.savepoints_rolled_back() == rollbacks:
            made.add(table)

    db.after_commit(committed)


def without_nul(model: type[m.SfRecord], attrs: tuple[str, ...],
                values: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """The page with every NUL in its text replaced by U+FFFD (the same page when none has
    one — the common case costs one scan of the page's strings, in C)."""
    if NUL not in "".join([v for v in itertools.chain.from_iterable(values)
                           if v.__class__ is str]):
        return values
    count, columns, ids = 0, set(), []
    key = attrs.index("id") if "id" in attrs else None
    cleaned = []
    for row in values:
        if any(v.__class__ is str and NUL in v for v in row):
            fixed = []
            for attr, v in zip(attrs, row, strict=True):
                if v.__class__ is str and NUL in v:
                    count += v.count(NUL)
                    columns.add(model._meta.fields[attr].column_name)
                    v = v.replace(NUL, REPLACEMENT)
                fixed.append(v)
            if key is not None:
                ids.append(str(row[key]))
            row = tuple(fixed)
        cleaned.append(row)
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    log.warning("%s: %d NUL character(s) in %d record(s) (%s; fields %s) stored as U+FFFD — "
                "PostgreSQL cannot keep NUL in text", model.__name__, count, len(ids),
                shown, ", ".join(sorted(columns)))
    return cleaned


def _newest_per_id(attrs: tuple[str, ...],
                   values: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    key = attrs.index("id")
    if len({v[key] for v in values}) == len(values):
        return values
    stamp = attrs.index("system_modstamp") if "system_modstamp" in attrs else None
    kept: dict[Any, tuple[Any, ...]] = {}
    for v in values:
        old = kept.get(v[key])
        if (old is None or stamp is None or old[stamp] is None
                or (v[stamp] is not None and v[stamp] >= old[stamp])):
            kept[v[key]] = v
    return list(kept.values())


def upsert_values(model: type[m.SfRecord], attrs: tuple[str, ...],
                  values: Sequence[tuple[Any, ...]]) -> None:
    """``writer.upsert_values`` on PostgreSQL: the rows (in ``attrs`` order, as JSON decoded
    them) inserted or updated by Id, never over a newer version."""
    if not values:
        return
    db = model._meta.database
    copy_sql, upsert_sql = _statements(model, attrs)
    rows = _newest_per_id(attrs, values)
    # Inside the caller's transaction (write_page's) no savepoint: a failure aborts it whole.
    # Round trips are what a page costs a server on another machine: COPY takes two, the
    # upsert and emptying the staging table share one.
    with contextlib.nullcontext() if db.in_transaction() else db.atomic():
        _ensure_stage(db, model._meta.table_name)
        cursor = db.cursor()
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        # Emptied now, not only at commit: the caller's transaction may stage this table again.
        cursor.execute(f'{upsert_sql}; TRUNCATE "{_stage(model._meta.table_name)}"')
