"""The demo org's SOQL engine: parse, check against the visible catalog, run on SQLite.

``prepare(text, catalog)`` validates a query as Salesforce would (raising ``SoqlError`` with
Salesforce's error codes and caret-diagram messages) and returns a ``PreparedQuery`` whose
``count(conn)`` gives totalSize and ``records(conn)`` streams Salesforce-shaped JSON records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smvue_demo_org.schema import Catalog
from smvue_demo_org.soql.compile import compile_query
from smvue_demo_org.soql.errors import SoqlError
from smvue_demo_org.soql.execute import PreparedQuery
from smvue_demo_org.soql.parser import parse
from smvue_demo_org.soql.scope import Context

__all__ = ["PreparedQuery", "SoqlError", "prepare"]


def prepare(text: str, catalog: Catalog, *, include_deleted: bool = False,
            now: datetime | None = None, api_version: str = "67.0") -> PreparedQuery:
    """Parse and resolve ``text``; raises SoqlError for anything Salesforce would reject."""
    if not isinstance(text, str):
        raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    ctx = Context(text, catalog, include_deleted, now.date(), api_version)
    try:
        return PreparedQuery(compile_query(parse(text), ctx))
    except SoqlError:
        raise
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "Query is nested too deeply") from None
    except Exception as err:  # a bug must still answer like Salesforce, not as a traceback
        raise SoqlError("UNKNOWN_EXCEPTION", "An unexpected error occurred while parsing the "
                        f"query ({type(err).__name__})") from err
