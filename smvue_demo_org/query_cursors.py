"""Query locators: the server side of nextRecordsUrl paging.

Each open query keeps its own SQLite read connection and a streaming record iterator, so a page
costs only the rows it returns and the query sees one consistent snapshot, as Salesforce's
cursors do. Locators expire when idle (``locator_ttl``) and the oldest is evicted when too many
are open (``max_locators``) — both then answer INVALID_QUERY_LOCATOR, which a correct client
survives by restarting from its own checkpoint.

The last page served is kept, so a client that lost a response to a dropped connection can ask
for the same nextRecordsUrl again and get the same rows.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from smvue_demo_org.ids import make_id


class LocatorError(Exception):
    """The locator is unknown, expired, evicted, or asked for a page out of order."""


@dataclass
class Cursor:
    locator: str
    rows: Iterator[dict[str, Any]]
    conn: sqlite3.Connection
    total_size: int
    batch_size: int
    url_prefix: str  # /services/data/vNN.0/query or .../queryAll
    position: int = 0
    last_page: tuple[int, dict[str, Any]] | None = None  # (start position, body)
    touched: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    retired: bool = False  # evicted while a page was being read: closed once it is served
    cost: Any = None  # the org's CostModel: each page spends its server time (cost_model.py)
    shape: Any = None  # the query's QueryShape

    def close(self) -> None:
        self.rows = iter(())
        self.conn.close()

    def _take(self) -> list[dict[str, Any]]:
        return list(itertools.islice(self.rows, self.batch_size))

    async def next_page(self) -> dict[str, Any]:
        """The next page body; the records are read in a thread so the server stays responsive."""
        start = self.position
        records = await asyncio.to_thread(self._take)
        if self.cost is not None and self.cost.enabled:
            kids = 0
            if self.shape.child_fields:  # subquery rows in this page: {"records": [...]}
                kids = sum(len(v["records"]) for r in records for v in r.values()
                           if isinstance(v, dict) and "records" in v and "totalSize" in v)
            await self.cost.spend(self.cost.page_seconds(len(records), self.shape, kids))
        self.position += len(records)
        done = len(records) < self.batch_size or self.position >= self.total_size
        body: dict[str, Any] = {"totalSize": self.total_size, "done": done}
        if not done:
            body["nextRecordsUrl"] = f"{self.url_prefix}/{self.locator}-{self.position}"
        body["records"] = records
        self.last_page = (start, body)
        self.touched = time.monotonic()
        return body


class QueryCursors:
    """The open locators of one org."""

    def __init__(self, ttl: Callable[[], float], max_open: Callable[[], int]) -> None:
        self._ttl = ttl
        self._max_open = max_open
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        # Final pages of finished queries, so a retried last page still answers.
        self._finished: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        self._counter = itertools.count(1)

    def __len__(self) -> int:
        return len(self._open)

    def new_locator(self) -> str:
        return make_id("01g", next(self._counter))[:15]

    def add(self, cursor: Cursor) -> None:
        self._expire()
        limit = self._max_open()  # 0: no limit (Salesforce's rule since API 56.0)
        while self._open and limit > 0 and len(self._open) >= limit:
            _, oldest = self._open.popitem(last=False)
            self._retire(oldest)
        self._open[cursor.locator] = cursor

    @staticmethod
    def _retire(cursor: Cursor) -> None:
        """Close now, or — when a page is being read from it — right after that page is served
        (the client gets that page; its next one answers INVALID_QUERY_LOCATOR)."""
        if cursor.lock.locked():
            cursor.retired = True
        else:
            cursor.close()

    async def page(self, locator: str, position: int) -> dict[str, Any]:
        """The page that starts at ``position``: the next one, or the last one again."""
        self._expire()
        cursor = self._open.get(locator)
        if cursor is None:
            final = self._finished.get(locator)
            if final and final[0] == position:
                return final[1]
            raise LocatorError(locator)
        async with cursor.lock:
            if cursor.last_page and cursor.last_page[0] == position:
                cursor.touched = time.monotonic()
                return cursor.last_page[1]
            if position != cursor.position:
                raise LocatorError(locator)
            body = await cursor.next_page()
            if cursor.retired:
                cursor.close()
        if body["done"]:
            self.discard(locator)
            self._finished[locator] = (position, body)
            while len(self._finished) > 64:
                self._finished.popitem(last=False)
        return body

    def discard(self, locator: str) -> None:
        cursor = self._open.pop(locator, None)
        if cursor is not None:
            self._retire(cursor)

    def close_all(self) -> None:
        for locator in list(self._open):
            self.discard(locator)

    def _expire(self) -> None:
        horizon = time.monotonic() - self._ttl()
        for locator, cursor in list(self._open.items()):
            if cursor.touched < horizon and not cursor.lock.locked():
                self.discard(locator)
