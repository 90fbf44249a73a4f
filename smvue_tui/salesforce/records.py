"""Shaping records as Salesforce returns them: dropping ``attributes``, finding unfinished
child-subquery results.

Records stay plain dicts keyed by API field name. Parent relationships are nested dicts (or
``None``); child subqueries are nested ``{"totalSize", "done", "records"}`` dicts (or ``None``
when there are no children), exactly as on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def strip_attributes(value: Any) -> Any:
    """Remove every ``attributes`` key, recursively and in place; returns ``value``.

    ``attributes`` holds ``type`` and ``url`` for every record and every parent relationship —
    a third of a narrow record's memory, and the sync already knows which object it queried.
    """
    if isinstance(value, dict):
        value.pop("attributes", None)
        for item in value.values():
            if isinstance(item, dict | list):
                strip_attributes(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                strip_attributes(item)
    return value


def select_list(soql: str) -> str:
    """The text between SELECT and the query's own FROM (a subquery's FROM is skipped)."""
    depth = 0
    upper = soql.upper()
    for i, char in enumerate(soql):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif (depth == 0 and upper.startswith("FROM", i) and soql[i - 1:i].isspace()
              and soql[i + 4:i + 5].isspace()):
            return soql[:i]
    return soql


def is_flat(soql: str) -> bool:
    """True when the query selects plain fields only (no parent path, no child subquery):
    its records need no recursive walk."""
    fields = select_list(soql)
    return "." not in fields and "(" not in fields


def drop_attributes(records: list[Any]) -> None:
    """``strip_attributes`` for the records of a flat query: one level, fast."""
    for record in records:
        record.pop("attributes", None)


def is_query_result(value: Any) -> bool:
    """A nested child-subquery result: ``{"totalSize", "done", "records": [...]}``."""
    return (isinstance(value, dict) and isinstance(value.get("records"), list)
            and "done" in value and "totalSize" in value)


def unfinished_children(records: list[Any]) -> Iterator[dict[str, Any]]:
    """Every child-subquery result under ``records`` that has more rows behind a
    ``nextRecordsUrl`` (Salesforce truncates children that do not fit in the batch)."""
    for record in records:
        if not isinstance(record, dict):
            continue
        for value in record.values():
            if is_query_result(value):
                if not value.get("done", True) and value.get("nextRecordsUrl"):
                    yield value
                yield from unfinished_children(value["records"])
