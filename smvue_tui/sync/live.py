"""Fetching what change notifications named: by Id, through the normal client and upsert path.

The listener stores notification ids before it ACKs; this drains the ones not fetched yet.
Records come from Salesforce as they are NOW (never from the notification's payload), through
the read-only client with the planned (FLS-checked) fields, and the writer never replaces a
newer SystemModstamp — so late, duplicated or out-of-order notifications cannot go backwards.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from smvue_tui.store import models as m
from smvue_tui.store.writer import delete_ids
from smvue_tui.sync.fetch import SyncContext, fetch_by_ids, write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

MAX_PER_CALL = 2000


def _pending() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    query = (m.ChangeNotification.select(m.ChangeNotification.sobject,
                                         m.ChangeNotification.record_id).distinct()
             .where(m.ChangeNotification.fetched_at.is_null()))
    for sobject, record_id in query.tuples():
        out[sobject].append(record_id)
    return out


def _mark_fetched(sobject: str, ids: list[str]) -> None:
    now = datetime.now(UTC).isoformat()
    for start in range(0, len(ids), 500):
        m.ChangeNotification.update(fetched_at=now).where(
            (m.ChangeNotification.sobject == sobject)
            & m.ChangeNotification.record_id.in_(ids[start:start + 500])
            & m.ChangeNotification.fetched_at.is_null()).execute()


def _delete_missing(ctx: SyncContext, sobject: str, ids: list[str]) -> int:
    with ctx.db.atomic():
        return delete_ids(SPECS_BY_NAME[sobject], ids)


async def fetch_notified(ctx: SyncContext) -> dict[str, int]:
    """Fetch every notified record not fetched yet; returns records written per object."""
    written: dict[str, int] = {}
    pending = await ctx.writer.call(_pending)
    for sobject, ids in pending.items():
        fields = ctx.fields.get(sobject)
        if sobject in SPECS_BY_NAME and fields:
            for start in range(0, len(ids), MAX_PER_CALL):
                chunk = ids[start:start + MAX_PER_CALL]
                records: list[Any] = await ctx.client.get_records(sobject, chunk, list(fields))
                found = [r for r in records if r]
                gone = [i for i, r in zip(chunk, records, strict=True) if not r]
                written[sobject] = written.get(sobject, 0) + await write_page(
                    ctx, SPECS_BY_NAME[sobject], found)
                if gone:  # deleted, or no longer visible to the user: not ours to keep
                    await ctx.writer.call(_delete_missing, ctx, sobject, gone)
        await ctx.writer.call(_mark_fetched, sobject, ids)
    deals = pending.get("Opportunity")
    if deals and ctx.fields.get("OpportunityHistory"):
        # A stage or amount change writes a history row: bring it with the deal, so the deal's
        # timeline is as fresh as the deal (one query per 300 deals).
        written["OpportunityHistory"] = await fetch_by_ids(
            ctx, SPECS_BY_NAME["OpportunityHistory"], "OpportunityId", sorted(set(deals)))
    return written
