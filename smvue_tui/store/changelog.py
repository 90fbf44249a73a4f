"""The deal change log: what each new version of a deal changed, recorded as the sync stores it.

Salesforce keeps OpportunityHistory (stage, amount, close date) in most orgs, but not owner
changes, and some orgs or users cannot read it. So every upsert of Opportunity rows compares the
incoming versions with the stored ones, in the writer's transaction, and appends one
``DealChange`` row per deal whose tracked fields differ: ``{field: [old, new]}``.

Cheap by construction: one primary-key SELECT per page, and nothing at all while the store
holds none of the page's deals (an initial sync). A re-fetched version equal to the stored one,
or older than it (the upsert would skip it), logs nothing, so overlap windows and resyncs never
log twice.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from smvue_tui.store import models as m
from smvue_tui.store.deal_facts import log_written

# Store attribute → Salesforce field, for the fields whose changes the inspection reports.
TRACKED = {"stage_name": "StageName", "amount": "Amount", "close_date": "CloseDate",
           "owner_id": "OwnerId", "forecast_category_name": "ForecastCategoryName",
           "is_closed": "IsClosed", "is_won": "IsWon"}
_BOOLEAN = ("is_closed", "is_won")
_CHUNK = 500  # ids per SELECT: under SQLite's bound-parameter limit


def _plain(attr: str, value: Any) -> Any:
    """A value as the log keeps it: booleans as booleans (SQLite hands back 0/1)."""
    return bool(value) if attr in _BOOLEAN and value is not None else value


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    try:  # 50000 (JSON) and 50000.0 (REAL) are one amount
        return old is not None and new is not None and float(old) == float(new)
    except (TypeError, ValueError):
        return False


def record_deal_changes(attrs: tuple[str, ...], values: Sequence[tuple[Any, ...]]) -> int:
    """Log the changes ``values`` (Opportunity rows in ``attrs`` order) make to
    the stored deals; call inside the transaction that upserts them. Returns rows logged."""
    tracked = [a for a in TRACKED if a in attrs]
    if not tracked or not values:
        return 0
    db = m.Opportunity._meta.database
    fields = m.Opportunity._meta.fields
    stamp = attrs.index("system_modstamp") if "system_modstamp" in attrs else None
    when = attrs.index("last_modified_date") if "last_modified_date" in attrs else stamp
    cols = ", ".join(f'"{fields[a].column_name}"' for a in tracked)
    key = attrs.index("id")
    ids = [v[key] for v in values]
    stored: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        marks = ", ".join([db.param] * len(part))
        sql = (f'SELECT "Id", "SystemModstamp", {cols} FROM "{m.Opportunity._meta.table_name}" '
               f'WHERE "Id" IN ({marks})')
        stored.update((row[0], row[1:]) for row in db.execute_sql(sql, part))
    if not stored:
        return 0
    positions = [attrs.index(a) for a in tracked]
    pick = operator.itemgetter(*positions)
    single = len(positions) == 1
    seen_at = datetime.now(UTC).isoformat()
    rows = []
    for v in values:
        old = stored.get(v[key])
        if old is None:
            continue
        if stamp is not None and old[0] is not None and (v[stamp] or "") < old[0]:
            continue  # older than the stored version: the upsert keeps the stored one
        if old[1:] == ((pick(v),) if single else pick(v)):
            continue  # the common case, one C-level comparison (1 == True, 5 == 5.0 alike)
        diff = {TRACKED[a]: [_plain(a, before), _plain(a, v[i])]
                for a, i, before in zip(tracked, positions, old[1:], strict=True)
                if not _same(before, v[i])}
        if diff:
            changed_at = (v[when] if when is not None else None) or seen_at
            rows.append((v[key], changed_at, seen_at, json.dumps(diff, sort_keys=True)))
    if rows:
        table = m.DealChange._meta.table_name
        db.cursor().executemany(
            f'INSERT INTO "{table}" ("opportunity_id", "changed_at", "seen_at", "changes") '
            f'VALUES ({", ".join([db.param] * 4)})', rows)
        log_written(r[0] for r in rows)  # the inspection's facts from the log, same transaction
    return len(rows)
