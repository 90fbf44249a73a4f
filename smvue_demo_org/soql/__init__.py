"""The demo org's SOQL engine: parse, check against the visible catalog, run on SQLite.

``prepare(text, catalog)`` validates a query as Salesforce would (raising ``SoqlError`` with
Salesforce's error codes and caret-diagram messages) and returns a ``PreparedQuery`` whose
``count(conn)`` gives totalSize and ``records(conn)`` streams Salesforce-shaped JSON records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smvue_demo_org.cost_model import QueryShape
from smvue_demo_org.schema import Catalog
from smvue_demo_org.soql import ast
from smvue_demo_org.soql.compile import compile_query
from smvue_demo_org.soql.errors import SoqlError
from smvue_demo_org.soql.execute import PreparedQuery
from smvue_demo_org.soql.parser import parse
from smvue_demo_org.soql.scope import Context

__all__ = ["PreparedQuery", "SoqlError", "prepare", "prepare_select", "query_shape"]


def query_shape(select: ast.Select) -> QueryShape:
    """Plain, parent and per-subquery field counts of a query, for the cost model."""
    prefixes = {select.sobject.lower()} | ({select.alias.lower()} if select.alias else set())
    plain = parent = 0
    children: list[int] = []
    for item in select.items:
        if isinstance(item.expr, ast.Select):
            children.append(len(item.expr.items))
            continue
        parts = item.expr.parts if isinstance(item.expr, ast.Path) else ("expr",)
        if len(parts) > 1 and parts[0].lower() in prefixes:
            parts = parts[1:]
        if len(parts) > 1:
            parent += 1
        else:
            plain += 1
    return QueryShape(plain, parent, tuple(children))


def prepare(text: str, catalog: Catalog, *, include_deleted: bool = False,
            now: datetime | None = None, api_version: str = "67.0") -> PreparedQuery:
    """Parse and resolve ``text``; raises SoqlError for anything Salesforce would reject."""
    if not isinstance(text, str):
        raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
    try:
        return prepare_select(parse(text), text, catalog, include_deleted=include_deleted,
                              now=now, api_version=api_version)
    except SoqlError:
        raise
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "Query is nested too deeply") from None
    except Exception as err:  # a bug must still answer like Salesforce, not as a traceback
        raise SoqlError("UNKNOWN_EXCEPTION", "An unexpected error occurred while parsing the "
                        f"query ({type(err).__name__})") from err


def prepare_select(select: ast.Select, text: str, catalog: Catalog, *,
                   include_deleted: bool = False, now: datetime | None = None,
                   api_version: str = "67.0") -> PreparedQuery:
    """``prepare`` of a query parsed already (``text`` is its source, for error messages):
    for a query derived from one a client sent, e.g. a Bulk job's Id range."""
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    ctx = Context(text, catalog, include_deleted, now.date(), api_version)
    prepared = PreparedQuery(compile_query(select, ctx))
    prepared.shape = query_shape(select)
    return prepared
