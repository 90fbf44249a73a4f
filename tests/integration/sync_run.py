"""Shared by the sync fault, property and crash tests: run a sync, compare store and org."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from peewee import SqliteDatabase

from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.engine import SyncEngine, SyncReport
from tests.integration.sync_support import client_for, differences

LOOKBACKS = Lookbacks()


def today() -> date:
    return datetime.now(UTC).date()


async def sync(running: Any, db: SqliteDatabase, kind: str = "incremental",
               client_options: dict[str, Any] | None = None,
               **engine_options: Any) -> SyncReport:
    """One run of the engine with a fresh logged-in client (closed afterwards)."""
    async with client_for(running, **(client_options or {})) as client:
        engine = SyncEngine(client, db, lookbacks=LOOKBACKS, **engine_options)
        try:
            return await engine.run(kind)
        finally:
            engine.close()


def diff(running: Any) -> list[str]:
    """How the store differs from the org right now (empty: equal)."""
    conn = running.org.store.reader()
    try:
        return differences(conn, LOOKBACKS, today())
    finally:
        conn.close()


def duplicated_tables(db: SqliteDatabase) -> list[str]:
    """Store tables holding some Id more than once (empty: nothing stored twice)."""
    tables = [model._meta.table_name for model in m.ALL_MODELS
              if getattr(model._meta.primary_key, "column_name", None) == "Id"]
    return [t for t in tables if db.execute_sql(
        f'SELECT COUNT(*) - COUNT(DISTINCT "Id") FROM "{t}"').fetchone()[0]]
