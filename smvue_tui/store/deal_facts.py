"""Per-deal inspection facts (``models.DealFact``) and finished stage stints
(``models.StageStint``), kept up to date by the writer with each page it writes (issue 13).

The inspection report used to replay every deal's OpportunityHistory and change log on each run
(seconds at 100,000 deals). Instead, whenever the writer upserts or deletes rows a fact is
derived from — OpportunityHistory, the change log, activities, contact roles — it recomputes
the facts of the deals those rows belong to, from all of their stored rows, in the same
transaction. Recomputing from the stored rows (never adding to the old facts) makes it
idempotent and as never-backwards as the rows themselves; ``rebuild()`` recomputes every deal
(the migration that adds the tables, and ``smvue-tui store repair``-style callers).

Each fact is what the report computed from the same rows, so its result is unchanged:
stint days exactly as SQLite's ``julianday`` differences (history) or datetime differences
(change log), pushes as the close-date steps a replay finds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from smvue_tui.store import models as m

_CHUNK = 500  # ids per statement: under SQLite's bound-parameter limit
HISTORY, LOG = "h", "l"
_JD_EPOCH_MS = 210_866_760_000_000  # 1970-01-01T00:00 as a Julian day, in milliseconds
_EPOCH = datetime(1970, 1, 1)
_MS = datetime(1970, 1, 1, 0, 0, 0, 1000) - _EPOCH


def _db() -> Any:
    return m.DealFact._meta.database


def _t(model: type[m.BaseModel]) -> str:
    return f'"{model._meta.table_name}"'


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start:start + _CHUNK])


def _marks(part: Sequence[Any]) -> str:
    return ", ".join([_db().param] * len(part))


def julian_day(stamp: str) -> float:
    """SQLite's ``julianday(substr(stamp, 1, 19))``, bit for bit: it counts whole
    milliseconds and divides once, so differences of these equal differences of its."""
    at = datetime.fromisoformat(stamp[:19])
    return ((at - _EPOCH) // _MS + _JD_EPOCH_MS) / 86_400_000.0


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp[:19]).replace(tzinfo=UTC)


def _pushes(moves: list[tuple[Any, Any]]) -> tuple[int, str | None]:
    """(times the close date moved later, JSON of the dates it went through) from its steps
    (old, new) in time order; steps with an empty side do not count, as in the report."""
    moves = [(old, new) for old, new in moves if old and new]
    pushed = sum(1 for old, new in moves if new > old)
    if not pushed:
        return 0, None
    return pushed, _json([moves[0][0], *(new for _, new in moves)])


def _json(value: Any) -> str | None:
    return orjson.dumps(value).decode() if value else None


def _upsert(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert or update these fact columns of each (deal_id, *values) row."""
    if not rows:
        return
    others = tuple(c for c in _DEFAULTS if c not in columns)  # a new row: the rest at rest
    cols = ", ".join(f'"{c}"' for c in ("deal_id", *columns, *others))
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
    marks = ", ".join([_db().param] * (len(columns) + len(others) + 1))
    rest = tuple(_DEFAULTS[c] for c in others)
    _db().cursor().executemany(
        f'INSERT INTO {_t(m.DealFact)} ({cols}) VALUES ({marks}) '
        f'ON CONFLICT ("deal_id") DO UPDATE SET {sets}', [(*r, *rest) for r in rows])


_DEFAULTS = {"h_stage": None, "h_since": None, "h_pushes": 0, "h_push_dates": None,
             "h_steps": None, "l_stage": None, "l_since": None, "l_pushes": 0,
             "l_push_dates": None, "l_steps": None,
             "last_activity": None, "contacts": 0, "has_primary": False, "one_contact": None}


def _replace_stints(source: str, ids: list[str], stints: list[tuple[str, Any, float]]) -> None:
    for part in _chunks(ids):
        _db().execute_sql(f'DELETE FROM {_t(m.StageStint)} WHERE "source" = {_db().param} '
                          f'AND "deal_id" IN ({_marks(part)})', [source, *part])
    if stints:
        p = _db().param
        _db().cursor().executemany(
            f'INSERT INTO {_t(m.StageStint)} ("deal_id", "source", "stage", "days") '
            f'VALUES ({p}, {p}, {p}, {p})', [(d, source, st, days) for d, st, days in stints])


def _per_deal(select: str, ids: list[str]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Each of ``ids`` with its rows from ``select`` (first column the deal, ordered by it, its
    ``{marks}`` the chunk's placeholders); [] for a deal without any."""
    for part in _chunks(ids):
        rows = _db().execute_sql(select.format(marks=_marks(part)), part).fetchall()
        found = {deal: list(group) for deal, group in itertools.groupby(rows, key=lambda r: r[0])}
        for deal in part:
            yield deal, found.get(deal, [])


def refresh_history(deal_ids: Iterable[str]) -> None:
    """Stints (current and finished), pushes and steps from each deal's OpportunityHistory:
    a step wherever a field differs from the row before, as the report's replay reads them."""
    ids = sorted({i for i in deal_ids if i})
    facts: list[tuple[Any, ...]] = []
    stints: list[tuple[str, Any, float]] = []
    select = (f'SELECT "_ParentId", "CreatedDate", "StageName", "Amount", "CloseDate" '
              f'FROM {_t(m.StageHistory)} WHERE "_sobject" = \'OpportunityHistory\' '
              f'AND "_ParentId" IN ({{marks}}) ORDER BY "_ParentId", "CreatedDate", "Id"')
    for deal, deal_rows in _per_deal(select, ids):
        if not deal_rows:
            facts.append((deal, None, None, 0, None, None))
            continue
        stage, since = deal_rows[0][2], deal_rows[0][1]
        day = julian_day(since)
        steps: list[list[Any]] = []
        for prev, row in itertools.pairwise(deal_rows):
            at = row[1]
            for i, name in _HISTORY_FIELDS:
                if prev[i] != row[i]:
                    steps.append([at, name, prev[i], row[i]])
            if row[2] != stage:  # a new stint: the one before is finished
                row_day = julian_day(at)
                stints.append((deal, stage, row_day - day))
                stage, since, day = row[2], at, row_day
        moves = [(s[2], s[3]) for s in steps if s[1] == "CloseDate"]
        facts.append((deal, stage, since, *_pushes(moves), _json(steps)))
    _replace_stints(HISTORY, ids, stints)
    _upsert(("h_stage", "h_since", "h_pushes", "h_push_dates", "h_steps"), facts)


_HISTORY_FIELDS = ((2, "StageName"), (3, "Amount"), (4, "CloseDate"))


def refresh_log(deal_ids: Iterable[str]) -> None:
    """Stage stints, pushes and steps from each deal's change log (orgs without history)."""
    ids = sorted({i for i in deal_ids if i})
    facts: list[tuple[Any, ...]] = []
    stints: list[tuple[str, Any, float]] = []
    select = (f'SELECT opportunity_id, changed_at, changes FROM {_t(m.DealChange)} '
              f'WHERE opportunity_id IN ({{marks}}) ORDER BY opportunity_id, changed_at, id')
    for deal, rows in _per_deal(select, ids):
        steps = [[at, name, old, new] for _, at, changes in rows
                 for name, (old, new) in sorted(orjson.loads(changes).items())]
        stages = [(s[0], s[3]) for s in steps if s[1] == "StageName"]
        for (a_at, a_stage), (b_at, _) in itertools.pairwise(stages):
            stints.append((deal, a_stage, (_when(b_at) - _when(a_at)).total_seconds() / 86400))
        last = stages[-1] if stages else (None, None)
        moves = [(s[2], s[3]) for s in steps if s[1] == "CloseDate"]
        facts.append((deal, last[1], last[0], *_pushes(moves), _json(steps)))
    _replace_stints(LOG, ids, stints)
    _upsert(("l_stage", "l_since", "l_pushes", "l_push_dates", "l_steps"), facts)


def refresh_activity(deal_ids: Iterable[str]) -> None:
    """The date of each deal's newest stored activity."""
    ids = sorted({i for i in deal_ids if i})
    facts = []
    for part in _chunks(ids):
        found = dict(_db().execute_sql(
            f'SELECT "WhatId", MAX(substr("_OccurredAt", 1, 10)) FROM {_t(m.Activity)} '
            f'WHERE "WhatId" IN ({_marks(part)}) GROUP BY "WhatId"', part).fetchall())
        facts.extend((d, found.get(d)) for d in part)
    _upsert(("last_activity",), facts)


def refresh_contacts(deal_ids: Iterable[str]) -> None:
    """How many distinct contacts have a role on each deal, whether one is primary, and the
    lowest ContactId (whose name a single-threaded deal's flag shows)."""
    ids = sorted({i for i in deal_ids if i})
    facts = []
    for part in _chunks(ids):
        found = {r[0]: r[1:] for r in _db().execute_sql(
            f'SELECT "OpportunityId", COUNT(DISTINCT "ContactId"), '
            f'MAX(CASE WHEN "IsPrimary" THEN 1 ELSE 0 END), MIN("ContactId") '
            f'FROM {_t(m.OpportunityContactRole)} WHERE "OpportunityId" IN ({_marks(part)}) '
            f'GROUP BY "OpportunityId"', part).fetchall()}
        for d in part:
            count, primary, one = found.get(d, (0, 0, None))
            facts.append((d, count, bool(primary), one))
    _upsert(("contacts", "has_primary", "one_contact"), facts)


# Each kind of fact: the table it comes from (model, its _sobject), that table's parent column,
# the function recomputing it, and whether a stored row can move to another parent (an
# activity re-related to another deal): then the parents the rows had before count too.
_Refresh = Callable[[Iterable[str]], None]
SOURCES: dict[str, tuple[type[m.SfRecord], str | None, str, _Refresh, bool]] = {
    "history": (m.StageHistory, "OpportunityHistory", "_ParentId", refresh_history, False),
    "log": (m.DealChange, None, "opportunity_id", refresh_log, False),
    "activity": (m.Activity, None, "WhatId", refresh_activity, True),
    "contacts": (m.OpportunityContactRole, None, "OpportunityId", refresh_contacts, True),
}
_BY_TABLE = {(model, sobject): name for name, (model, sobject, *_) in SOURCES.items()}
# A page touching more deals than this (an initial or full sync) leaves its kind of fact to be
# recomputed whole, once, before the next read (``catch_up``): keeping them page by page would
# cost about what writing the rows does. Live updates and incremental pages stay below it.
DEFER_AT = 200


def _stale() -> set[str]:
    return {r[0] for r in _db().execute_sql(f"SELECT source FROM {_t(m.FactsStale)}")}


def _defer(source: str, deals: set[str]) -> bool:
    """True (and the kind marked stale) when this page's facts wait for ``catch_up``."""
    if len(deals) <= DEFER_AT and source not in _stale():
        return False
    p = _db().param
    _db().execute_sql(f"INSERT INTO {_t(m.FactsStale)} (source) VALUES ({p}) "
                      f"ON CONFLICT (source) DO NOTHING", [source])
    return True


def _stored_parents(model: type[m.SfRecord], column: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in _chunks(ids):
        found.update(r[0] for r in _db().execute_sql(
            f'SELECT "{column}" FROM {_t(model)} WHERE "Id" IN ({_marks(part)})', part))
    return found


def before_write(model: type[m.SfRecord], constants: dict[str, Any], attrs: tuple[str, ...],
                 values: Sequence[tuple[Any, ...]]) -> Callable[[], None] | None:
    """Call before upserting ``values`` (rows in ``attrs`` order) into ``model``, inside the
    transaction; returns what to call after the upsert (None when nothing is to do)."""
    source = _BY_TABLE.get((model, constants.get("_sobject")))
    if source is None or not values:
        return None
    _, _, column, refresh, movable = SOURCES[source]
    fields = {f.column_name: name for name, f in model._meta.fields.items()}
    key, parent = attrs.index("id"), attrs.index(fields[column])
    deals = {v[parent] for v in values}
    if _defer(source, deals):
        return None
    if movable:
        deals |= _stored_parents(model, column, [v[key] for v in values])
    return lambda: refresh(deals)


def before_delete(model: type[m.SfRecord], constants: dict[str, Any],
                  ids: Sequence[str]) -> Callable[[], None] | None:
    """Call before deleting rows of ``model`` by Id; returns what to call after."""
    source = _BY_TABLE.get((model, constants.get("_sobject")))
    if source is None or not ids:
        return None
    _, _, column, refresh, _ = SOURCES[source]
    deals = _stored_parents(model, column, ids)
    if _defer(source, deals):
        return None
    return lambda: refresh(deals)


def log_written(deal_ids: Iterable[str]) -> None:
    """The change log got rows for these deals (``changelog``, in its transaction)."""
    deals = set(deal_ids)
    if not _defer("log", deals):
        refresh_log(deals)


def parents_leaving(deals_gone_sql: str, activity_cutoff: str) -> Callable[[], None]:
    """For ``scope.prune``: the deals whose history, roles or activities the prune is about
    to delete (history and roles of deals no longer stored; activities before the cutoff);
    returns what to call after the deletes."""
    db = _db()
    leaving = {
        "history": {r[0] for r in db.execute_sql(
            f'SELECT DISTINCT "_ParentId" FROM {_t(m.StageHistory)} WHERE "_sobject" = '
            f'\'OpportunityHistory\' AND "_ParentId" NOT IN ({deals_gone_sql})')},
        "contacts": {r[0] for r in db.execute_sql(
            f'SELECT DISTINCT "OpportunityId" FROM {_t(m.OpportunityContactRole)} '
            f'WHERE "OpportunityId" NOT IN ({deals_gone_sql})')},
        "activity": {r[0] for r in db.execute_sql(
            f'SELECT DISTINCT "WhatId" FROM {_t(m.Activity)} WHERE "_OccurredAt" IS NULL '
            f'OR "_OccurredAt" < {db.param}', [activity_cutoff])}}

    def after() -> None:
        for source, deals in leaving.items():
            if deals and not _defer(source, deals):
                SOURCES[source][3](deals)
    return after


def rebuild_source(source: str, *, reset: bool = True) -> None:
    """Recompute one kind of fact for every deal from the stored rows."""
    model, sobject, column, refresh, _ = SOURCES[source]
    where = f' WHERE "_sobject" = {_db().param}' if sobject else ""
    ids = [r[0] for r in _db().execute_sql(
        f'SELECT DISTINCT "{column}" FROM {_t(model)}{where}', [sobject] if sobject else [])]
    if source in ("history", "log"):  # and the stints of deals that no longer have any
        ids = sorted({*ids, *(r[0] for r in _db().execute_sql(
            f'SELECT DISTINCT deal_id FROM {_t(m.StageStint)} WHERE "source" = {_db().param}',
            [HISTORY if source == "history" else LOG]))})
    prefix = {"history": "h_", "log": "l_", "activity": "last_", "contacts": ""}[source]
    cols = [c for c in _DEFAULTS if c.startswith(prefix)] if prefix else \
        ["contacts", "has_primary", "one_contact"]
    if reset:  # deals that have none of these rows any more: their facts back to rest
        _db().execute_sql(f'UPDATE {_t(m.DealFact)} SET '
                          + ", ".join(f'"{c}" = {_db().param}' for c in cols),
                          [_DEFAULTS[c] for c in cols])
    refresh(ids)
    _db().execute_sql(f"DELETE FROM {_t(m.FactsStale)} WHERE source = {_db().param}", [source])


def catch_up() -> list[str]:
    """Recompute whole the kinds of fact big pages left stale (call in a transaction, before
    reading facts). Returns the kinds recomputed."""
    stale = sorted(_stale())
    for source in stale:
        rebuild_source(source)
    return stale


def rebuild() -> None:
    """Recompute every deal's facts and stints from the stored rows (the migration adding
    them, a salvage, a repair): afterwards they equal what the writer would have kept."""
    db = _db()
    db.execute_sql(f"DELETE FROM {_t(m.StageStint)}")
    db.execute_sql(f"DELETE FROM {_t(m.DealFact)}")
    for source in SOURCES:
        rebuild_source(source, reset=False)
