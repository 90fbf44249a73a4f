"""Writing Salesforce records into the store: idempotent, checkpointed, never backwards.

A page of records is upserted by Id in ONE transaction together with the object's sync cursor,
so a crash leaves either both or neither. A row is only replaced by a version whose
SystemModstamp is at least as new, so a late or duplicate fetch can never undo a newer one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import CharField, SqliteDatabase, TextField

from smvue_tui.store import models as m
from smvue_tui.sync.plan import ObjectSpec

_AS_IS = (CharField, TextField)
_CHUNK = 400  # rows per INSERT: stays under SQLite's bound-parameter limit


@functools.cache
def _columns(model: type[m.SfRecord]) -> dict[str, str]:
    """Column name → attribute name for every column of the model (mirrored and derived)."""
    return {f.column_name: name for name, f in model._meta.fields.items()}


def to_row(spec: ObjectSpec, record: dict[str, Any],
           custom_fields: Sequence[str] = ()) -> dict[str, Any]:
    """The store row (attribute → value) for one API record of ``spec``'s object."""
    columns = _columns(spec.model)
    row: dict[str, Any] = {}
    for name in spec.fields:
        attr = columns.get(name)
        if attr is not None and name in record:
            row[attr] = record[name]
    for column, sources in spec.derived.items():
        row[columns[column]] = next((record[s] for s in sources if record.get(s) is not None),
                                    None)
    for column, value in spec.constants.items():
        row[columns[column]] = value
    if spec.model is m.Opportunity:
        row["custom_fields"] = json.dumps({k: record.get(k) for k in custom_fields},
                                          sort_keys=True)
    return row


_UPSERTS: dict[tuple[type, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _upsert_sql(model: type[m.SfRecord], attrs: tuple[str, ...]) -> tuple[str, list[Any]]:
    """INSERT … ON CONFLICT(Id) DO UPDATE for these columns, built once per column set
    (peewee's per-value SQL generation was 60% of the writer thread's time)."""
    key = (model, attrs)
    if key not in _UPSERTS:
        fields = [model._meta.fields[a] for a in attrs]
        cols = [f'"{f.column_name}"' for f in fields]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != '"Id"')
        newer = (' WHERE "SystemModstamp" IS NULL OR excluded."SystemModstamp" >= '
                 '"SystemModstamp"' if "system_modstamp" in attrs else "")
        sql = (f'INSERT INTO "{model._meta.table_name}" ({", ".join(cols)}) '
               f'VALUES ({", ".join("?" * len(cols))}) '
               f'ON CONFLICT ("Id") DO UPDATE SET {sets}{newer}')
        # Text columns take JSON's strings as they are (and SQLite's TEXT affinity stores any
        # number as text): skipping peewee's conversion there halves the per-row cost.
        _UPSERTS[key] = (sql, [None if type(f) in _AS_IS else f.db_value for f in fields])
    return _UPSERTS[key]


def upsert_rows(spec: ObjectSpec, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update rows by Id (call inside a transaction); never replaces a newer
    version (SystemModstamp) with an older one."""
    if not rows:
        return
    model = spec.model
    attrs = tuple(sorted({k for row in rows for k in row}))
    sql, convert = _upsert_sql(model, attrs)
    pairs = list(zip(convert, attrs, strict=True))
    params = [tuple(row.get(a) if c is None else c(row.get(a)) for c, a in pairs)
              for row in rows]
    model._meta.database.cursor().executemany(sql, params)


def write_page(db: SqliteDatabase, spec: ObjectSpec, records: Iterable[dict[str, Any]], *,
               cursor: dict[str, Any] | None = None, custom_fields: Sequence[str] = (),
               keep: Any = None) -> int:
    """Upsert one page and move the object's cursor, atomically. Returns rows written.

    ``keep(row) -> bool`` drops rows outside the store's scope (and deletes them if stored).
    """
    rows = [to_row(spec, r, custom_fields) for r in records]
    dropped = [r["id"] for r in rows if keep is not None and not keep(r)]
    rows = [r for r in rows if keep is None or keep(r)]
    with db.atomic():
        upsert_rows(spec, rows)
        if dropped:
            delete_ids(spec, dropped)
        if cursor is not None:
            save_cursor(spec.sobject, cursor)
    return len(rows)


def delete_ids(spec: ObjectSpec, ids: Sequence[str]) -> int:
    """Delete stored rows by Id (call inside a transaction)."""
    model = spec.model
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        removed += model.delete().where(model.id.in_(list(ids[start:start + _CHUNK]))).execute()
    return removed


def save_cursor(sobject: str, values: dict[str, Any]) -> None:
    m.SyncCursor.insert(sobject=sobject, **values).on_conflict(
        conflict_target=[m.SyncCursor.sobject],
        update={getattr(m.SyncCursor, k): v for k, v in values.items()},
    ).execute()


# Deals and accounts new to the store whose closure (deal children; contacts and account team)
# is still to be fetched. Kept in a pseudo cursor row written in the SAME transaction as the
# rows: a crash between a page and its top-up used to lose that work for good (the rows were
# no longer "new" on the next run); now the next run finds it here.
CLOSURE_PENDING = "~closure"


def pending_closure() -> dict[str, list[str]]:
    """``{"Opportunity": [ids], "Account": [ids]}`` still awaiting their closure."""
    row = m.SyncCursor.get_or_none(m.SyncCursor.sobject == CLOSURE_PENDING)
    return json.loads(row.watermark) if row and row.watermark else {}


def add_pending_closure(sobject: str, ids: Iterable[str]) -> None:
    """Record rows awaiting their closure (call inside the transaction that stored them)."""
    new = set(ids)
    if not new:
        return
    pending = pending_closure()
    pending[sobject] = sorted(set(pending.get(sobject, [])) | new)
    save_cursor(CLOSURE_PENDING, {"watermark": json.dumps(pending)})


def clear_pending_closure() -> None:
    m.SyncCursor.delete().where(m.SyncCursor.sobject == CLOSURE_PENDING).execute()
