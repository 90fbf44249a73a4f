"""One sync run on a client: run the engine, then always close both and report API usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peewee import SqliteDatabase

from smvue_tui.sync.engine import SyncEngine, SyncReport
from smvue_tui.sync.progress import ProgressCallback


async def run_once(client: Any, db: SqliteDatabase, kind: str, *,
                   progress: ProgressCallback | None = None,
                   on_usage: Callable[[Any], None] | None = None) -> SyncReport:
    """Run one sync of ``kind`` on ``client`` (closed afterwards); ``on_usage`` gets the
    client's last API-usage reading."""
    engine = SyncEngine(client, db, progress=progress)
    try:
        return await engine.run(kind)
    finally:
        engine.close()
        if on_usage is not None:
            on_usage(client.usage)
        await client.aclose()
