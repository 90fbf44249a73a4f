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
