"""Running a compiled query: a count, or records streamed from an open cursor in chunks."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from smvue_demo_org.cost_model import QueryShape
from smvue_demo_org.soql.compile import Plan
from smvue_demo_org.soql.errors import SoqlError

CHUNK = 200  # parent rows per fetch; child subqueries run once per chunk


def _storage_error(err: sqlite3.Error) -> SoqlError:
    # The query was accepted but the store could not run it (too complex, locked, ...).
    return SoqlError("UNKNOWN_EXCEPTION", f"An unexpected error occurred running the query: "
                     f"{str(err)[:200]}")


class PreparedQuery:
    """A validated query, runnable any number of times against a store connection."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self.sobject: str = plan.sobject
        self.is_count: bool = plan.is_count
        self.shape: QueryShape = QueryShape()  # set by prepare(): what the cost model counts

    def count(self, conn: sqlite3.Connection) -> int:
        """totalSize: the number of records (or groups) the query returns, LIMIT/OFFSET applied."""
        try:
            return int(conn.execute(self._plan.count_sql, self._plan.count_params).fetchone()[0])
        except sqlite3.Error as err:
            raise _storage_error(err) from None

    def records(self, conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
        """The records in order, built lazily: only one chunk of rows is held at a time."""
        if self.is_count:
            return iter(())
        return self._stream(conn)

    def _stream(self, conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
        plan = self._plan
        build = plan.build
        assert build is not None
        try:
            cursor = conn.execute(plan.sql, plan.params)
        except sqlite3.Error as err:
            raise _storage_error(err) from None
        try:
            while True:
                try:
                    rows = cursor.fetchmany(CHUNK)
                    if not rows:
                        return
                    kids: list[dict[str, Any]] = []
                    if plan.children:
                        ids = [row[0] for row in rows]
                        kids = [child.fetch(conn, ids) for child in plan.children]
                except sqlite3.Error as err:
                    raise _storage_error(err) from None
                for row in rows:
                    try:
                        record = build(row, kids)
                    except (TypeError, ValueError) as err:  # a stored value of the wrong type
                        raise SoqlError("UNKNOWN_EXCEPTION", "An unexpected error occurred "
                                        f"reading a record ({type(err).__name__})") from None
                    yield record
        finally:
            # The server may close the connection before dropping an unfinished iterator.
            with contextlib.suppress(sqlite3.Error):
                cursor.close()
