"""Opening the store: pragmas, the schema, and forward-only migrations.

Nothing happens at import time; ``open_store(path)`` binds the models to one database file.
The schema version lives in SQLite's ``user_version``; each migration moves it forward by one
inside a transaction, so an upgrade keeps a user's data and a crash mid-upgrade changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from peewee import SqliteDatabase

from smvue_tui.config import ensure_dir
from smvue_tui.store import models

PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "synchronous": "normal",  # durable at every checkpoint, fast enough for bulk upserts
    "foreign_keys": 0,  # Salesforce data arrives in any order; integrity is the sync's job
    "busy_timeout": 10_000,
    "cache_size": -32_000,  # 32 MB
}


def _v1_initial(db: SqliteDatabase) -> None:
    db.create_tables(models.ALL_MODELS)


def _v2_drop_modstamp_indexes(db: SqliteDatabase) -> None:
    """SystemModstamp indexes were never read, and slowed every row a sync writes."""
    for model in models.ALL_MODELS:
        if "system_modstamp" in model._meta.fields:
            db.execute_sql(f'DROP INDEX IF EXISTS "{model._meta.table_name}_SystemModstamp"')


def _v3_plan_capabilities(db: SqliteDatabase) -> None:
    """Whether each object has IsDeleted and is replicateable, as describe said (issue 12).
    Plans made before are re-planned once: their capabilities are unknown ("")."""
    columns = {row[1] for row in db.execute_sql('PRAGMA table_info("object_plan")').fetchall()}
    if "capabilities" not in columns:  # a store made by _v1 today already has it
        db.execute_sql('ALTER TABLE "object_plan" ADD COLUMN "capabilities" TEXT NOT NULL '
                       "DEFAULT ''")


# Index i holds the migration from version i to i + 1. Append only; never edit a shipped one.
MIGRATIONS: list[Callable[[SqliteDatabase], None]] = [_v1_initial, _v2_drop_modstamp_indexes,
                                                      _v3_plan_capabilities]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: SqliteDatabase) -> int:
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def migrate(db: SqliteDatabase) -> int:
    """Apply every pending migration in order; returns the resulting version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"the store at {db.database} was written by a newer smvue-tui "
            f"(schema {current} > {SCHEMA_VERSION}); upgrade smvue-tui to open it"
        )
    for version in range(current, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[version](db)
            db.execute_sql(f"PRAGMA user_version = {version + 1}")
    return SCHEMA_VERSION


def open_store(path: Path | str) -> SqliteDatabase:
    """Open (creating and migrating as needed) the store and bind every model to it."""
    if str(path) != ":memory:":
        ensure_dir(Path(path).parent)
    # BEGIN IMMEDIATE: a transaction takes the write lock up front. A deferred one that reads
    # and then writes cannot wait for the lock in WAL mode — SQLite fails it at once with
    # "database is locked" when another writer (the listener, a sync) committed meanwhile.
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False,
                        lock_type="IMMEDIATE")
    db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
    db.connect(reuse_if_open=True)
    migrate(db)
    return db
