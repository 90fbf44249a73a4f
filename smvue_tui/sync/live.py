"""Fetching what change notifications named: by Id, through the normal client and upsert path.

The listener stores notification ids before it ACKs; this drains the ones not fetched yet.
Records come from Salesforce as they are NOW (never from the notification's payload), through
the read-only client with the planned (FLS-checked) fields, and the writer never replaces a
newer SystemModstamp — so late, duplicated or out-of-order notifications cannot go backwards.

A notification that can never be fetched (its id is not one of its object's, or Salesforce
refuses that one id for good) is *set aside* with its reason instead of failing the run: it
would otherwise be retried first on every run and hold up every genuine change after it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from smvue_tui.salesforce.errors import (
    AuthorizationError,
    FieldUnavailable,
    ObjectUnavailable,
    PermissionDenied,
    RateLimitExceeded,
    SalesforceError,
    ServerUnavailable,
)
from smvue_tui.salesforce.ids import record_id
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.store.writer import delete_rows
from smvue_tui.sync.fetch import SyncContext, fetch_by_ids, write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

MAX_PER_CALL = 2000
# Errors that say nothing about the ids asked for (the login, the limits, the link, the fields
# or object we may read): the run fails (or pauses) and the notifications stay pending.
PASSING = (RateLimitExceeded, AuthorizationError, ServerUnavailable, PermissionDenied,
           FieldUnavailable, ObjectUnavailable)


def _pending() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    query = (m.ChangeNotification.select(m.ChangeNotification.sobject,
                                         m.ChangeNotification.record_id).distinct()
             .where(m.ChangeNotification.fetched_at.is_null()))
    for sobject, rid in query.tuples():
        out[sobject].append(rid)
    return out


def _mark_fetched(sobject: str, ids: list[str], reason: str | None = None) -> None:
    now = datetime.now(UTC).isoformat()
    for start in range(0, len(ids), 500):
        m.ChangeNotification.update(fetched_at=now, set_aside=reason).where(
            (m.ChangeNotification.sobject == sobject)
            & m.ChangeNotification.record_id.in_(ids[start:start + 500])
            & m.ChangeNotification.fetched_at.is_null()).execute()


def set_aside_counts() -> dict[str, int]:
    """Set-aside notifications per reason (for ``smvue-tui status``)."""
    query = (m.ChangeNotification.select(m.ChangeNotification.set_aside)
             .where(m.ChangeNotification.set_aside.is_null(False)))
    counts: dict[str, int] = defaultdict(int)
    for (reason,) in query.tuples():
        counts[reason] += 1
    return dict(counts)


async def _fetch(ctx: SyncContext, spec: ObjectSpec, ids: list[str],
                 aside: dict[str, str]) -> int:
    """Fetch and write ``ids``; an id Salesforce refuses for good goes to ``aside`` (found by
    halving the chunk, so the others in it still arrive). Returns records written."""
    fields = list(ctx.fields[spec.sobject])
    try:
        records: list[Any] = await ctx.client.get_records(spec.sobject, ids, fields)
    except PASSING:
        raise
    except SalesforceError as exc:
        if len(ids) == 1:
            code = f" [{exc.code}]" if exc.code else ""
            aside[ids[0]] = f"Salesforce refused it: {exc.user_message}{code}"[:200]
            return 0
        half = len(ids) // 2
        return (await _fetch(ctx, spec, ids[:half], aside)
                + await _fetch(ctx, spec, ids[half:], aside))
    found = [r for r in records if r]
    gone = [i for i, r in zip(ids, records, strict=True) if not r]
    written = await write_page(ctx, spec, found)
    if gone:  # deleted, or no longer visible to the user: not ours to keep
        await ctx.writer.call(delete_rows, spec, gone)
    return written


async def _fetch_object(ctx: SyncContext, sobject: str, stored: list[str]) -> int:
    spec = SPECS_BY_NAME[sobject]
    canonical: dict[str, list[str]] = defaultdict(list)  # one record, stored as 15 or 18 chars
    invalid = []
    for rid in stored:
        good = record_id(sobject, rid)
        if good is None:
            invalid.append(rid)
        else:
            canonical[good].append(rid)
    if invalid:  # stored by an older version that did not check ids at the door
        await ctx.writer.call(_mark_fetched, sobject, invalid, f"not a valid {sobject} id")
    written = 0
    ids = list(canonical)
    for start in range(0, len(ids), MAX_PER_CALL):
        chunk = ids[start:start + MAX_PER_CALL]
        aside: dict[str, str] = {}
        written += await _fetch(ctx, spec, chunk, aside)
        for good, reason in aside.items():
            await ctx.writer.call(_mark_fetched, sobject, canonical[good], reason)
        done = [rid for good in chunk if good not in aside for rid in canonical[good]]
        await ctx.writer.call(_mark_fetched, sobject, done)
    return written


async def fetch_notified(ctx: SyncContext) -> dict[str, int]:
    """Fetch every notified record not fetched yet; returns records written per object."""
    written: dict[str, int] = {}
    pending = await ctx.writer.call(_pending)
    for sobject, ids in pending.items():
        if sobject in SPECS_BY_NAME and ctx.fields.get(sobject):
            written[sobject] = await _fetch_object(ctx, sobject, ids)
        else:  # an object this org does not let us read: nothing to fetch
            await ctx.writer.call(_mark_fetched, sobject, ids)
    deals = [good for rid in pending.get("Opportunity", [])
             if (good := record_id("Opportunity", rid))]
    if deals and ctx.fields.get("OpportunityHistory"):
        # A stage or amount change writes a history row: bring it with the deal, so the deal's
        # timeline is as fresh as the deal (one query per 300 deals).
        written["OpportunityHistory"] = await fetch_by_ids(
            ctx, SPECS_BY_NAME["OpportunityHistory"], "OpportunityId", sorted(set(deals)))
    return written
