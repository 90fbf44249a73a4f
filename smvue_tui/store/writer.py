"""Writing Salesforce records into the store: idempotent, checkpointed, never backwards.

A page of records is upserted by Id in ONE transaction together with the object's sync cursor,
so a crash leaves either both or neither. A row is only replaced by a version whose
SystemModstamp is at least as new, so a late or duplicate fetch can never undo a newer one.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from peewee import CharField, Database, TextField

from smvue_tui.store import deal_facts, pg_writer
from smvue_tui.store import models as m
from smvue_tui.store.backend import is_postgres
from smvue_tui.store.changelog import record_deal_changes
from smvue_tui.store.object_spec import ObjectSpec

_AS_IS = (CharField, TextField)
_CHUNK = 400  # rows per INSERT: stays under SQLite's bound-parameter limit


@functools.cache
def _columns(model: type[m.SfRecord]) -> dict[str, str]:
    """Column name → attribute name for every column of the model (mirrored and derived)."""
    return {f.column_name: name for name, f in model._meta.fields.items()}


class RowShape:
    """How API records selecting ``fields`` of one object become store rows: ``attrs`` (the
    store attributes, ``id`` first) and ``values(record)``, the tuple of their values.

    Built once per object and field list: a page of 2,000 records then costs one C-level
    ``itemgetter`` call per record instead of a Python loop over every field (that loop was
    a third of the sync's writer thread).
    """

    def __init__(self, spec: ObjectSpec, fields: tuple[str, ...],
                 custom_fields: tuple[str, ...]) -> None:
        columns = _columns(spec.model)
        direct = [name for name in spec.fields if name in fields and name in columns]
        direct.sort(key=lambda name: name != "Id")
        self._get = operator.itemgetter(*direct)
        self._single = len(direct) == 1
        self._derived = tuple(spec.derived.values())
        self._constants = tuple(spec.constants.values())
        self._custom = custom_fields if spec.model is m.Opportunity else None
        self.attrs = (*(columns[n] for n in direct), *(columns[c] for c in spec.derived),
                      *(columns[c] for c in spec.constants),
                      *(("custom_fields",) if self._custom is not None else ()))

    def values(self, record: dict[str, Any]) -> tuple[Any, ...]:
        base = (self._get(record),) if self._single else self._get(record)
        derived = tuple(next((record[s] for s in sources if record.get(s) is not None), None)
                        for sources in self._derived)
        extra = (json.dumps({k: record.get(k) for k in self._custom}, sort_keys=True),) \
            if self._custom is not None else ()
        return base + derived + self._constants + extra


_SHAPES: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[ObjectSpec, RowShape]] = {}


def row_shape(spec: ObjectSpec, fields: tuple[str, ...],
              custom_fields: tuple[str, ...] = ()) -> RowShape:
    """The (cached) RowShape; keyed by the spec's identity — specs hold dicts, so they
    cannot be hashed, and the spec is kept with its shape so its id is never reused."""
    key = (id(spec), fields, custom_fields)
    if key not in _SHAPES:
        _SHAPES[key] = (spec, RowShape(spec, fields, custom_fields))
    return _SHAPES[key][1]


def to_row(spec: ObjectSpec, record: dict[str, Any],
           custom_fields: Sequence[str] = ()) -> dict[str, Any]:
    """The store row (attribute → value) for one API record of ``spec``'s object."""
    shape = row_shape(spec, tuple(f for f in spec.fields if f in record), tuple(custom_fields))
    return dict(zip(shape.attrs, shape.values(record), strict=True))


@functools.cache
def _converters(model: type[m.SfRecord], attrs: tuple[str, ...]) -> list[Any]:
    """Per column, peewee's conversion of a value for the database — None for text columns,
    which take JSON's strings as they are (skipping peewee there halves the per-row cost)."""
    fields = [model._meta.fields[a] for a in attrs]
    return [None if type(f) in _AS_IS else f.db_value for f in fields]


@functools.cache
def _sqlite_upsert(model: type[m.SfRecord], attrs: tuple[str, ...]) -> str:
    """SQLite's INSERT … ON CONFLICT(Id) DO UPDATE for these columns, built once per column
    set (peewee's per-value SQL generation was 60% of the writer thread's time). PostgreSQL
    pages go through ``pg_writer`` instead, which builds its own."""
    cols = [f'"{model._meta.fields[a].column_name}"' for a in attrs]
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != '"Id"')
    newer = (' WHERE "SystemModstamp" IS NULL OR excluded."SystemModstamp" >= '
             '"SystemModstamp"' if "system_modstamp" in attrs else "")
    # SQLite's TEXT affinity stores any number as text, as peewee would have.
    return (f'INSERT INTO "{model._meta.table_name}" ({", ".join(cols)}) '
            f'VALUES ({", ".join(["?"] * len(cols))}) '
            f'ON CONFLICT ("Id") DO UPDATE SET {sets}{newer}')


def upsert_rows(spec: ObjectSpec, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update rows by Id (call inside a transaction); never replaces a newer
    version (SystemModstamp) with an older one."""
    if not rows:
        return
    attrs = tuple(sorted({k for row in rows for k in row}))
    pairs = list(zip(_converters(spec.model, attrs), attrs, strict=True))
    upsert_values(spec, attrs, [tuple(row.get(a) if c is None else c(row.get(a))
                                      for c, a in pairs) for row in rows])


def upsert_values(spec: ObjectSpec, attrs: tuple[str, ...],
                  values: Sequence[tuple[Any, ...]]) -> None:
    """``upsert_rows`` for rows given as value tuples in ``attrs`` order, as JSON decoded
    them: SQLite's column affinities store JSON's numbers, strings and booleans as peewee
    would (call inside a transaction). Deals that change log their changes (changelog.py)."""
    if values:
        postgres = is_postgres(spec.model._meta.database)
        if postgres:  # before the change log and facts read it: the page as it will be stored
            values = pg_writer.without_nul(spec.model, attrs, values)
        if spec.model is m.Opportunity:  # before the upsert: the log compares with the stored
            record_deal_changes(attrs, values)
        facts = deal_facts.before_write(spec.model, spec.constants, attrs, values)
        if postgres:  # COPY + one statement (pg_writer.py)
            pg_writer.upsert_values(spec.model, attrs, values)
        else:
            spec.model._meta.database.cursor().executemany(
                _sqlite_upsert(spec.model, attrs), values)
        if facts:  # the inspection's per-deal facts, from the rows as now stored
            facts()


def write_page(db: Database, spec: ObjectSpec, records: Iterable[dict[str, Any]], *,
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
    facts = deal_facts.before_delete(model, spec.constants, ids)
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        removed += model.delete().where(model.id.in_(list(ids[start:start + _CHUNK]))).execute()
    if facts:
        facts()
    return removed


def delete_rows(spec: ObjectSpec, ids: Sequence[str]) -> int:
    """Delete stored rows by Id in a transaction of their own (a writer-thread call)."""
    with spec.model._meta.database.atomic():
        return delete_ids(spec, ids)


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
