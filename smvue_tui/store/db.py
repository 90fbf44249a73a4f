"""Opening the store: pragmas, the schema, and forward-only migrations.

Nothing happens at import time; ``open_store(path)`` binds the models to one database file.
The schema version lives in SQLite's ``user_version``; each migration moves it forward by one
inside a transaction, so an upgrade keeps a user's data and a crash mid-upgrade changes nothing.
A damaged file is never opened as if it were fine, rebuilt or written over (``health``): it is
moved aside and SMVue's own data salvaged into a new store (``db.recovery`` says what happened).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from peewee import Database, DatabaseError, OperationalError, SqliteDatabase

from smvue_tui.config import ensure_dir
from smvue_tui.store import deal_facts, health, models, postgres
from smvue_tui.store.backend import describe, is_postgres
from smvue_tui.store.health import Recovery, StoreDamaged, StoreTooNew
from smvue_tui.store.team_tables import migrate_v9_team_store, migrate_v11_pipeline_per_manager

PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "synchronous": "normal",  # durable at every checkpoint, fast enough for bulk upserts
    "foreign_keys": 0,  # Salesforce data arrives in any order; integrity is the sync's job
    "busy_timeout": 10_000,
    "cache_size": -32_000,  # 32 MB
}


def _v1_initial(db: Database) -> None:
    db.create_tables(models.ALL_MODELS)


def _v2_drop_modstamp_indexes(db: Database) -> None:
    """SystemModstamp indexes were never read, and slowed every row a sync writes."""
    for model in models.ALL_MODELS:
        if "system_modstamp" in model._meta.fields:
            db.execute_sql(f'DROP INDEX IF EXISTS "{model._meta.table_name}_SystemModstamp"')


def _add_column(db: Database, model: type[models.BaseModel], name: str, sql: str) -> None:
    """Add a column a later model has (v1 creates tables from today's models: it may exist)."""
    table = model._meta.table_name
    if name not in {c.name for c in db.get_columns(table)}:
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {sql}')


def _v3_plan_capabilities(db: Database) -> None:
    """Whether each object has IsDeleted and is replicateable, as describe said (issue 12).
    Plans made before are re-planned once: their capabilities are unknown ("")."""
    # a store made by _v1 today already has it
    _add_column(db, models.ObjectPlan, "capabilities", "TEXT NOT NULL DEFAULT ''")


def _v4_deal_change_log(db: Database) -> None:
    """The deal change log (models.DealChange); a store made at v1 by this code has it already."""
    db.create_tables([models.DealChange], safe=True)


def _v5_run_pid_and_set_aside(db: Database) -> None:
    """Which process runs a sync (a dead one's run is closed as interrupted), and why a
    change notification was set aside instead of fetched."""
    _add_column(db, models.SyncRun, "pid", "INTEGER")
    _add_column(db, models.ChangeNotification, "set_aside", "TEXT")


def _v6_live_replay(db: Database) -> None:
    """Change Data Capture keeps its replay id with the store (v1 may have made it already)."""
    db.create_tables([models.LiveReplay], safe=True)


# (drop the one-column index a composite one subsumes, the composite) — see _v7.
_TIME_ORDERED_INDEXES = (
    ("stage_history__ParentId", "stage_history_parent_time", "stage_history",
     '"_ParentId", "CreatedDate", "Id"'),
    ("deal_change_opportunity_id", "deal_change_deal_time", "deal_change",
     '"opportunity_id", "changed_at", "id"'),
)


def _v7_time_ordered_history_indexes(db: Database) -> None:
    """Inspection (issue 13) reads each deal's OpportunityHistory and change log in time order,
    and windows over all of it by deal: indexed by (deal, time, Id) SQLite walks the index
    instead of sorting every row. Each replaces its one-column index (a prefix of it), so a
    sync still writes one index per row of either table."""
    for old, new, table, columns in _TIME_ORDERED_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{new}" ON "{table}" ({columns})')
        db.execute_sql(f'DROP INDEX IF EXISTS "{old}"')


def _v8_deal_facts(db: Database) -> None:
    """Per-deal inspection facts and stage stints (issue 13), kept by the writer from now on;
    derived from rows the store already holds (a v1 store made by this code has the tables)."""
    db.create_tables([models.DealFact, models.StageStint, models.FactsStale], safe=True)
    deal_facts.rebuild()


# (the one-column index a covering one starts with, the covering one, its table, its columns)
_COVERING_INDEXES = (
    ("opportunity_IsClosed", "opportunity_open_totals", "opportunity",
     '"IsClosed", "OwnerId", "StageName", "Amount", "Probability"'),
    ("opportunity_CloseDate", "opportunity_closing", "opportunity",
     '"CloseDate", "IsClosed", "OwnerId", "ForecastCategoryName", "StageName", '
     '"ForecastCategory", "Amount", "IsWon", "CreatedDate"'),
    ("activity__OccurredAt", "activity_time_owner", "activity", '"_OccurredAt", "OwnerId"'),
    ("stage_history_CreatedDate", "stage_history_time_parent", "stage_history",
     '"CreatedDate", "_sobject", "_ParentId"'),
)


def _v10_inspection_covering_indexes(db: Database) -> None:
    """The inspection's totals — open pipeline per rep and stage, forecast categories and
    won/lost by close date, activities per rep — and the deals with OpportunityHistory since a
    time read only these columns: indexed with them, each is read from its index alone, in
    order (no table rows, no sort; ~0.2 s of a 100,000-deal report). Each replaces the
    one-column index it starts with, so a sync still writes as many index entries per row."""
    for old, new, table, columns in _COVERING_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{new}" ON "{table}" ({columns})')
        db.execute_sql(f'DROP INDEX IF EXISTS "{old}"')


def _v12_open_deal_flags_index(db: Database) -> None:
    """The risk flags read nine columns of every open deal, with its facts and its one
    contact's name (``inspection_queries.open_deal_flag_rows``). Through the open-totals index
    SQLite met the deals in owner order, so each deal's row and facts landed on another page
    (0.44 s at 100,000 deals); from this index alone it meets them in Id order, without the
    table, and their facts follow in order (0.2 s)."""
    db.execute_sql('CREATE INDEX IF NOT EXISTS "opportunity_open_flags" ON "opportunity" '
                   '("IsClosed", "Id", "Name", "OwnerId", "StageName", "Amount", "CloseDate", '
                   '"CreatedDate", "LastActivityDate")')


# Index i holds the migration from version i to i + 1. Append only; never edit a shipped one.
MIGRATIONS: list[Callable[[Database], None]] = [_v1_initial, _v2_drop_modstamp_indexes,
                                                      _v3_plan_capabilities,
                                                      _v4_deal_change_log,
                                                      _v5_run_pid_and_set_aside,
                                                      _v6_live_replay,
                                                      _v7_time_ordered_history_indexes,
                                                      _v8_deal_facts,
                                                      migrate_v9_team_store,
                                                      _v10_inspection_covering_indexes,
                                                      migrate_v11_pipeline_per_manager,
                                                      _v12_open_deal_flags_index]
SCHEMA_VERSION = len(MIGRATIONS)


# --- the dialect-specific part of migrating: where the version lives, who may migrate --------


def schema_version(db: Database) -> int:
    if is_postgres(db):
        return postgres.schema_version(db)
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def _set_schema_version(db: Database, version: int) -> None:
    if is_postgres(db):
        postgres.set_schema_version(db, version)
    else:
        db.execute_sql(f"PRAGMA user_version = {version}")


def migrate(db: Database) -> int:
    """Apply every pending migration in order; returns the resulting version.

    The version is read first without a lock: an up-to-date store (every open but the first
    after an upgrade) takes no lock and runs nothing more. Each pending step runs in a
    transaction (DDL included, on both backends) holding the migration lock — SQLite's write
    lock (BEGIN IMMEDIATE), an advisory lock on PostgreSQL — and reads the version again
    under it, so a second process opening the same store waits, then skips what the first
    did. PostgreSQL's column lengths are lifted in the last step's transaction
    (``postgres.drop_length_limits``), so later migrations' columns are covered too."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise StoreTooNew(
            f"the store at {describe(db)} was written by a newer smvue-tui "
            f"(schema {current} > {SCHEMA_VERSION}); upgrade smvue-tui to open it"
        )
    for version in range(current, SCHEMA_VERSION):
        with db.atomic():
            if is_postgres(db):
                postgres.lock_migrations(db)
            if schema_version(db) > version:  # another process did it meanwhile
                continue
            MIGRATIONS[version](db)
            _set_schema_version(db, version + 1)
            if is_postgres(db) and version + 1 == SCHEMA_VERSION:
                postgres.drop_length_limits(db)
    return SCHEMA_VERSION


def open_store(path: Path | str, *, recover: bool = True) -> SqliteDatabase:
    """Open (creating and migrating as needed) the store and bind every model to it.

    A damaged store raises ``StoreDamaged`` when ``recover`` is False (``status``, ``store
    check``: they only look); otherwise it is moved aside and a new one returned, whose
    ``recovery`` attribute (a ``health.Recovery``) the caller shows the user.
    """
    if str(path) == ":memory:":
        return _open(path)
    path = Path(path)
    ensure_dir(path.parent)
    problem = health.inspect(path)
    if problem is None:
        try:
            db = _open(path)
        except OperationalError:
            raise  # locked, unreadable folder, full disk: not damage, nothing to move aside
        except DatabaseError as exc:
            problem = f"SQLite cannot read it ({str(exc)[:200]})"
        else:
            health.mark_open(path)
            close_interrupted_runs()
            return db
    if not recover:
        raise StoreDamaged(path, problem)
    if health.others_open(path):  # moving it from under a running process would split it
        raise StoreDamaged(path, f"{problem}; close every other smvue-tui using it, then "
                                 "start again to move it aside and keep your notes")
    return _recover(path, problem)


def open_postgres(url: str, schema: str, *, create: bool = True) -> Database:
    """Open (creating — unless not ``create``: StoreMissing — and migrating as needed) the
    store in ``schema`` of the PostgreSQL database at ``url`` and bind every model to it
    (see ``postgres.py``)."""
    db = postgres.connect(url, schema, create=create)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    # A manager's role (``store grants``) may not close runs: the writer does, when it starts.
    if postgres.granted(models.SyncRun, "UPDATE"):
        close_interrupted_runs()
    return db


def _recover(path: Path, problem: str) -> SqliteDatabase:
    aside = health.move_aside(path)
    db = _open(path)
    health.mark_open(path)
    kept, lost = health.salvage(aside, db)
    with db.atomic():  # the salvaged change log's facts (the inspection reads them)
        deal_facts.rebuild()
    recovery = Recovery(path, problem, aside, kept, lost)
    health.log.warning("%s", recovery.message())
    db.recovery = recovery  # type: ignore[attr-defined]
    return db


def close_interrupted_runs() -> int:
    """Runs left ``running`` by a process that is gone (killed, crashed, power cut) are closed
    as ``interrupted``; a run of this process, or of one still alive, is left alone. (On
    PostgreSQL a pid of another machine may equal a live one's: such a run stays open until
    that process goes — never closed while it runs.)"""
    running = list(models.SyncRun.select(models.SyncRun.id, models.SyncRun.pid)
                   .where(models.SyncRun.status == "running"))
    if not running:
        return 0
    alive = _alive_check(models.SyncRun._meta.database)
    stale = [run.id for run in running
             if run.pid is None or (run.pid != os.getpid() and not alive(run.pid))]
    if not stale:
        return 0
    return (models.SyncRun.update(status="interrupted", finished_at=models.utcnow().isoformat())
            .where(models.SyncRun.id.in_(stale) & (models.SyncRun.status == "running"))
            .execute())


def _alive_check(db: Database) -> Callable[[int], bool]:
    """Whether a run's process lives: on SQLite a process of this machine; on PostgreSQL —
    whose writer may be another machine — a process still connected to the server (each
    connection names its pid, ``postgres.APP_NAME``)."""
    if is_postgres(db):
        return postgres.connected_pids(db).__contains__
    return health.alive


def _open(path: Path | str) -> SqliteDatabase:
    # BEGIN IMMEDIATE: a transaction takes the write lock up front. A deferred one that reads
    # and then writes cannot wait for the lock in WAL mode — SQLite fails it at once with
    # "database is locked" when another writer (the listener, a sync) committed meanwhile.
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False,
                        lock_type="IMMEDIATE")
    db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
    try:
        db.connect(reuse_if_open=True)
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db
