"""The one writer of a store: every write of a process goes through a single thread.

Peewee is synchronous; writes run here, never on the event loop, and never two at once (SQLite
allows one writer; a server backend would serialise a sync's writes the same way).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from peewee import Database


class StoreWriter:
    """All store writes go through one thread: never on the event loop, never two at once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kw))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
