"""OrgStore: the demo org's records in SQLite (WAL), written the way Salesforce writes them.

    store = OrgStore.open(cache_dir, parse_size("small"), seed=1, profile=OrgProfile())

The first open of an org generates it into the cache (see ``org_cache``); every open works on a
private copy, so a run never changes what the next run starts from. Writes go through one writer
connection (guarded by a lock, since the server calls from its loop and from worker threads);
readers get their own connections. Each committed write is reported to the change listeners.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smvue_demo_org import org_cache
from smvue_demo_org.derived import derive
from smvue_demo_org.gen_support import Progress, sf_datetime
from smvue_demo_org.generate import anchor_for, demo_user_id
from smvue_demo_org.ids import _BASE62, make_id, org_id, to_18
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import Catalog, ObjectDef, build_catalog
from smvue_demo_org.store_rules import check_required, check_value, fill_defaults, history_rows

log = logging.getLogger(__name__)

SIZES = {"small": 500, "medium": 5_000, "large": 20_000}
MAX_SIZE = 200_000


def parse_size(value: str | int) -> int:
    """``small``/``medium``/``large`` or an opportunity count from 1 to 200,000."""
    text = str(value).strip().lower().replace(",", "").replace("_", "")
    count = SIZES.get(text)
    if count is None and text.isdigit():
        count = int(text)
    if count is None or not 1 <= count <= MAX_SIZE:
        raise ValueError(f"org size must be small, medium, large or a number of opportunities "
                         f"from 1 to {MAX_SIZE:,}, not {value!r}")
    return count


def _full_name(row: dict[str, Any]) -> str:
    return " ".join(str(v) for v in (row.get("FirstName"), row.get("LastName")) if v)


@dataclass(frozen=True)
class Change:
    sobject: str
    id: str
    kind: str  # "create" | "update" | "delete"
    modstamp: str
    fields: tuple[str, ...] = ()  # an update's changed fields (what a change event names)


class OrgStore:
    """One org's data: a private working copy of the cached org, plus the write rules."""

    def __init__(self, path: Path, conn: sqlite3.Connection, profile: OrgProfile, size: int,
                 seed: int) -> None:
        self.path = path
        self.profile = profile
        self.catalog: Catalog = build_catalog(profile)
        self.size = size
        self.seed = seed
        self.org_id = org_id(seed, profile.sandbox)
        self.demo_user_id = demo_user_id()
        self.generated = False  # whether this open had to generate the org
        self._conn = conn
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Change], None]] = []
        self._counters = self._load_counters()
        self._last_stamp = self._latest_modstamp()
        self._closed = False

    # --- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def open(cls, cache_dir: Path, size: int, seed: int, profile: OrgProfile, *,
             progress: Progress | None = None) -> OrgStore:
        """The org for (size, seed, profile), generated into ``cache_dir`` on first use;
        ``progress(phase, done, total)`` hears how generation goes."""
        parse_size(size)
        cached, generated = org_cache.cached_org(Path(cache_dir), size, seed, profile,
                                                 anchor_for(), progress)
        path = org_cache.working_copy(cached)
        conn = None
        try:
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            store = cls(path, conn, profile, size, seed)
        except BaseException:
            if conn is not None:
                conn.close()
            org_cache.remove_working_copy(path)
            raise
        store.generated = generated
        return store

    def reader(self) -> sqlite3.Connection:
        """A new read connection (the SOQL engine keeps cursors open across requests)."""
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA query_only=1")
        return conn

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
        org_cache.remove_working_copy(self.path)

    def __enter__(self) -> OrgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_listener(self, fn: Callable[[Change], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Change], None]) -> None:
        self._listeners.remove(fn)

    def _notify(self, changes: list[Change]) -> None:
        for change in changes:
            for fn in list(self._listeners):
                try:
                    fn(change)
                except Exception:  # a broken listener must not undo or block a write
                    log.exception("change listener failed for %s %s", change.kind, change.id)

    # --- clock and ids -------------------------------------------------------------------------

    def now(self) -> str:
        """Now in Salesforce format, never earlier than a modstamp already handed out."""
        with self._lock:
            self._last_stamp = max(sf_datetime(time.time()), self._last_stamp)
            return self._last_stamp

    def _load_counters(self) -> dict[str, int]:
        counters: dict[str, int] = {}
        for obj in self.catalog.objects.values():
            if obj.name == "Organization":
                continue
            top = self._conn.execute(f'SELECT MAX(Id) FROM "{obj.name}"').fetchone()[0]
            if top:
                n = 0
                for ch in top[6:15]:
                    n = n * 62 + _BASE62.index(ch)
                counters[obj.key_prefix] = max(counters.get(obj.key_prefix, 0), n)
        return counters

    def _latest_modstamp(self) -> str:
        latest = ""
        for obj in self.catalog.objects.values():
            if obj.has_system_modstamp:
                value = self._conn.execute(
                    f'SELECT MAX(SystemModstamp) FROM "{obj.name}"').fetchone()[0]
                latest = max(latest, value or "")
        return latest

    def _new_id(self, obj: ObjectDef) -> str:
        n = self._counters.get(obj.key_prefix, 0) + 1
        self._counters[obj.key_prefix] = n
        return make_id(obj.key_prefix, n)

    # --- reads ---------------------------------------------------------------------------------

    def _object(self, sobject: str) -> ObjectDef:
        obj = self.catalog.get(sobject)
        if obj is None:
            raise ValueError(f"sObject type '{sobject}' is not supported")
        return obj

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the org store is closed")
            return self._conn.execute(sql, params).fetchall()

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """The stored row (every field, IsDeleted included), or None."""
        obj = self._object(sobject)
        if len(record_id) == 15:
            record_id = to_18(record_id)
        rows = self._rows(f'SELECT * FROM "{obj.name}" WHERE Id = ?', (record_id,))
        return dict(rows[0]) if rows else None

    def is_active_username(self, username: str) -> bool:
        """An active user of this org logs in as ``username`` (case-insensitive, as Salesforce
        matches usernames)."""
        return bool(self._rows('SELECT Id FROM "User" WHERE lower(Username) = lower(?) '
                               "AND IsActive = 1 AND IsDeleted = 0", (username,)))

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only SQL query on the current data (for the activity simulator)."""
        return [dict(r) for r in self._rows(sql, params)]

    def random_row(self, sobject: str, rng: random.Random, where: str = "IsDeleted = 0",
                   params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """A random row matching ``where``: a random id, then the next match in id order."""
        obj = self._object(sobject)
        top = self._counters.get(obj.key_prefix, 0)
        if not top:
            return None
        start = make_id(obj.key_prefix, rng.randint(1, top))
        sql = f'SELECT * FROM "{obj.name}" WHERE ({where}) AND Id {{}} ? ORDER BY Id LIMIT 1'
        rows = (self._rows(sql.format(">="), [*params, start])
                or self._rows(sql.format("<"), [*params, start]))
        return dict(rows[0]) if rows else None

    def count(self, sobject: str, include_deleted: bool = False) -> int:
        obj = self._object(sobject)
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        return self._rows(f'SELECT COUNT(*) FROM "{obj.name}"{where}')[0][0]

    def updated_ids(self, sobject: str, start: str, end: str) -> list[str]:
        """Ids of live records whose SystemModstamp is in [start, end)."""
        obj = self._object(sobject)
        col = next(c for c in ("SystemModstamp", "LastModifiedDate", "CreatedDate")
                   if c in obj.fields)
        rows = self._rows(f'SELECT Id FROM "{obj.name}" WHERE "{col}" >= ? AND "{col}" < ? '
                          "AND IsDeleted = 0 ORDER BY Id", (start, end))
        return [r[0] for r in rows]

    def deleted_records(self, sobject: str, start: str, end: str) -> list[dict[str, str]]:
        """Deletes logged in [start, end), oldest first: ``{"id", "deletedDate"}``."""
        obj = self._object(sobject)
        rows = self._rows(
            "SELECT id, deleted_date FROM _deleted WHERE sobject = ? AND deleted_date >= ? "
            "AND deleted_date < ? ORDER BY deleted_date, id", (obj.name, start, end))
        return [{"id": r[0], "deletedDate": r[1]} for r in rows]

    def earliest_deleted_date(self, sobject: str) -> str | None:
        """Where the delete log now starts, if it was ever purged (None: nothing purged)."""
        self._object(sobject)
        rows = self._rows("SELECT value FROM _meta WHERE key = 'purged_before'")
        return rows[0][0] if rows else None

    # --- writes --------------------------------------------------------------------------------

    def _write(self, work: Callable[[], list[Change]]) -> list[Change]:
        """Run ``work`` in one transaction; listeners hear about it once it is committed."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the org store is closed")
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                changes = work()
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        self._notify(changes)
        return changes

    def _insert_row(self, obj: ObjectDef, row: dict[str, Any]) -> None:
        cols = [c for c in row if c in obj.fields]
        names = ", ".join(f'"{c}"' for c in cols)
        self._conn.execute(f'INSERT INTO "{obj.name}" ({names}) VALUES '
                           f'({", ".join("?" * len(cols))})', [row[c] for c in cols])

    def _check_fields(self, obj: ObjectDef, values: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            fdef = obj.field(name)
            if fdef is None:
                raise ValueError(f"No such column '{name}' on sobject of type {obj.name}")
            if fdef.system or not fdef.stored:  # audit and compound fields are read-only
                raise ValueError(f"Unable to create/update fields: {fdef.name}. Please check the "
                                 "security settings of this field.")
            out[fdef.name] = check_value(fdef, value)
        return out

    def insert(self, sobject: str, values: dict[str, Any], *, by: str | None = None) -> str:
        """Create a record (audit fields, derived fields and history as Salesforce sets them)."""
        obj = self._object(sobject)
        row = self._check_fields(obj, values)
        holder: list[str] = []

        def work() -> list[Change]:
            record_id, changes = self._create(obj, dict(row), by or self.demo_user_id,
                                              "Probability" in row)
            holder.append(record_id)
            return changes

        self._write(work)
        return holder[0]

    def _create(self, obj: ObjectDef, row: dict[str, Any], by: str,
                probability_given: bool = False) -> tuple[str, list[Change]]:
        stamp = self.now()
        row["Id"] = self._new_id(obj)
        row["IsDeleted"] = 0
        for col in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            row[col] = stamp
        row["CreatedById"] = row["LastModifiedById"] = by
        if "OwnerId" in obj.fields:
            row.setdefault("OwnerId", by)
        if "CurrencyIsoCode" in obj.fields and not row.get("CurrencyIsoCode"):
            row["CurrencyIsoCode"] = "USD"  # the corporate currency
        if "LastName" in obj.fields and "Name" in obj.fields and not row.get("Name"):
            row["Name"] = _full_name(row)
        fill_defaults(obj, row)
        check_required(obj, row)
        if obj.name == "Opportunity":
            derive(row, probability_given=probability_given)
        self._insert_row(obj, row)
        changes = [Change(obj.name, row["Id"], "create", stamp)]
        for child, child_row in history_rows(self, obj.name, None, row, by):
            changes += self._create(self.catalog.objects[child], child_row, by)[1]
        return row["Id"], changes

    def update(self, sobject: str, record_id: str, values: dict[str, Any], *,
               by: str | None = None) -> None:
        """Change fields; audit stamps move, derived fields and history follow."""
        obj = self._object(sobject)
        fields = self._check_fields(obj, values)
        actor = by or self.demo_user_id

        def work() -> list[Change]:
            old = self._live_row(obj, record_id)
            new = {**old, **fields}
            if "LastName" in obj.fields and {"FirstName", "LastName"} & fields.keys():
                new["Name"] = _full_name(new)
            if obj.name == "Opportunity":
                derive(new, stage_changed="StageName" in fields,
                       probability_given="Probability" in fields)
            stamp = self.now()
            new.update(LastModifiedDate=stamp, LastModifiedById=actor, SystemModstamp=stamp)
            changed = {k: v for k, v in new.items() if k in obj.fields and old.get(k) != v}
            if changed:  # a no-op update within the same second changes nothing at all
                sets = ", ".join(f'"{k}" = ?' for k in changed)
                self._conn.execute(f'UPDATE "{obj.name}" SET {sets} WHERE Id = ?',
                                   [*changed.values(), old["Id"]])
            changes = [Change(obj.name, old["Id"], "update", stamp, tuple(changed))]
            for child, child_row in history_rows(self, obj.name, old, new, actor):
                changes += self._create(self.catalog.objects[child], child_row, actor)[1]
            return changes

        self._write(work)

    def _live_row(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        rid = to_18(record_id) if len(record_id) == 15 else record_id
        row = self._conn.execute(f'SELECT * FROM "{obj.name}" WHERE Id = ?', (rid,)).fetchone()
        if row is None:
            raise LookupError(f"no {obj.name} with id {record_id}")
        if row["IsDeleted"]:
            raise LookupError(f"{obj.name} {record_id} is deleted")
        return dict(row)

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft delete into the recycle bin, cascading to children as Salesforce does."""
        obj = self._object(sobject)

        def work() -> list[Change]:
            row = self._live_row(obj, record_id)
            stamp = self.now()
            changes: list[Change] = []
            self._soft_delete(obj, row["Id"], stamp, changes)
            return changes

        self._write(work)

    def _soft_delete(self, obj: ObjectDef, record_id: str, stamp: str,
                     changes: list[Change]) -> None:
        moved = ', SystemModstamp = ?' if obj.has_system_modstamp else ""
        params = [stamp, record_id] if moved else [record_id]
        self._conn.execute(f'UPDATE "{obj.name}" SET IsDeleted = 1{moved} WHERE Id = ?', params)
        self._conn.execute("INSERT INTO _deleted VALUES (?, ?, ?)", (obj.name, record_id, stamp))
        changes.append(Change(obj.name, record_id, "delete", stamp))
        for rel in obj.child_relationships:
            if not rel.cascade_delete:
                continue
            child = self.catalog.objects[rel.child_sobject]
            kids = self._conn.execute(
                f'SELECT Id FROM "{child.name}" WHERE "{rel.field}" = ? AND IsDeleted = 0',
                (record_id,)).fetchall()
            for (kid,) in kids:
                self._soft_delete(child, kid, stamp, changes)

    def purge_deleted(self, before: str) -> None:
        """Empty the recycle bin and delete log of everything deleted before ``before``."""
        def work() -> list[Change]:
            gone = self._conn.execute(
                "SELECT sobject, id FROM _deleted WHERE deleted_date < ?", (before,)).fetchall()
            for sobject, rid in gone:
                self._conn.execute(f'DELETE FROM "{sobject}" WHERE Id = ? AND IsDeleted = 1',
                                   (rid,))
            self._conn.execute("DELETE FROM _deleted WHERE deleted_date < ?", (before,))
            self._conn.execute(
                "INSERT INTO _meta VALUES ('purged_before', ?) ON CONFLICT(key) DO UPDATE "
                "SET value = max(value, excluded.value)", (before,))
            return []

        self._write(work)
