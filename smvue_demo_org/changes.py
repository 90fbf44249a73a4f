"""/sobjects/X/updated and /sobjects/X/deleted: the replication windows Salesforce keeps.

Updated ids go back 30 days, deleted ones 15 days (less when the delete log was purged:
``earliestDateAvailable`` tells). Start and end are truncated to the minute, as Salesforce does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from smvue_demo_org.api import ApiError

UPDATED_WINDOW = timedelta(days=30)
DELETED_WINDOW = timedelta(days=15)
MAX_IDS = 600_000


def sf_datetime(value: datetime) -> str:
    """Salesforce's wire format: 2026-11-02T09:15:00.000+0000."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _parse(query: Mapping[str, str], name: str) -> datetime:
    raw = query.get(name)
    if not raw:
        raise ApiError(400, "MISSING_ARGUMENT", f"{name} parameter is required")
    text = raw.strip().replace(" ", "+")  # an unescaped '+' arrives as a space
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 → +00:00
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "INVALID_DATE_FORMAT",
                       f"{name}: invalid date format: {raw[:40]}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def _window(query: Mapping[str, str], keep: timedelta) -> tuple[datetime, datetime]:
    start, end = _parse(query, "start"), _parse(query, "end")
    now = datetime.now(UTC)
    if end <= start:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       "startDate must chronologically precede endDate by more than one minute")
    if start < now - keep:
        raise ApiError(400, "INVALID_REPLICATION_DATE",
                       f"startDate cannot be more than {keep.days} days ago")
    return start, min(end, now.replace(second=0, microsecond=0))


def updated_resource(store: Any, sobject: str, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = _window(query, UPDATED_WINDOW)
    ids = store.updated_ids(sobject, sf_datetime(start), sf_datetime(end))
    if len(ids) > MAX_IDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "ID limit exceeded. Narrow the date range.")
    return {"ids": ids, "latestDateCovered": sf_datetime(end)}


def deleted_resource(store: Any, sobject: str, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = _window(query, DELETED_WINDOW)
    records = store.deleted_records(sobject, sf_datetime(start), sf_datetime(end))
    if len(records) > MAX_IDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "ID limit exceeded. Narrow the date range.")
    earliest = store.earliest_deleted_date(sobject)
    window_start = sf_datetime(datetime.now(UTC) - DELETED_WINDOW)
    return {
        "deletedRecords": records,
        "earliestDateAvailable": max(earliest or window_start, window_start),
        "latestDateCovered": sf_datetime(end),
    }
