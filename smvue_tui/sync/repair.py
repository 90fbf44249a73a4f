"""Keeping the store whole: closure top-ups, deletes, and reconciliation against the org.

- ``top_up``: fetch what the closure lacks — accounts of deals and their parent chain, contacts
  and account team members of accounts added, children of deals new to the store, contacts
  named by contact roles.
- ``apply_deletes``: /sobjects/X/deleted for every replicateable object in one /composite
  call; where the window is older than Salesforce keeps (15 days), or the object is not
  replicateable (describe says; OpportunityStage, Organization…), an Id check instead.
- ``verify_ids``: the Id check — which stored ids still exist in the org.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from smvue_tui.salesforce.client import composite_error
from smvue_tui.salesforce.errors import FieldUnavailable, ObjectUnavailable
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.store.scope import missing_account_ids, missing_contact_ids
from smvue_tui.store.writer import (
    clear_pending_closure,
    delete_rows,
    pending_closure,
    save_cursor,
)
from smvue_tui.sync.fetch import (
    ID_CHUNK,
    SyncContext,
    by_id_chunks,
    fetch_by_ids,
    format_stamp,
    parse_stamp,
)
from smvue_tui.sync.plan import SPECS_BY_NAME

DELETED_KEPT = timedelta(days=15)
ID_CHECK_EVERY = timedelta(hours=1)  # objects Salesforce keeps no delete log for
DEAL_CHILDREN = ("OpportunityContactRole", "OpportunityHistory", "OpportunityTeamMember")


def _usable(ctx: SyncContext, name: str) -> ObjectSpec | None:
    return SPECS_BY_NAME[name] if ctx.fields.get(name) else None


async def top_up(ctx: SyncContext) -> None:
    """Fetch what the closure rules say the store lacks (no-op when nothing is missing).

    Deals and accounts new to the store come from the store's pending list (this run's, and
    any a crashed run left); the list is cleared only once all is fetched. Deals an initial
    sync paged are not on it: their children were paged after them, and re-reading those
    by Id cost as many calls again.
    """
    new_deals = (await ctx.writer.call(pending_closure)).get("Opportunity", [])
    if new_deals:
        await _fetch_related(ctx, DEAL_CHILDREN, "OpportunityId", new_deals)
    account = _usable(ctx, "Account")
    for _ in range(8):  # the parent chain, one level per round (Salesforce allows 5 levels)
        if account is None:
            break
        missing = await ctx.writer.call(missing_account_ids, ctx.db)
        if not missing:
            break
        await fetch_by_ids(ctx, account, "Id", missing)  # marks the new ones pending
    # Accounts added above, and any that arrived new in a change page (a deal moved to an
    # account changed in the same window): their contacts and team were never fetched.
    new_accounts = (await ctx.writer.call(pending_closure)).get("Account", [])
    if new_accounts:
        await _fetch_related(ctx, ("Contact", "AccountTeamMember"), "AccountId", new_accounts)
    contact = _usable(ctx, "Contact")
    if contact:
        missing_contacts = await ctx.writer.call(missing_contact_ids)
        if missing_contacts:
            await fetch_by_ids(ctx, contact, "Id", missing_contacts)
    await ctx.writer.call(clear_pending_closure)


async def _fetch_related(ctx: SyncContext, names: tuple[str, ...], id_field: str,
                         ids: list[str]) -> None:
    """The rows of each of ``names`` whose ``id_field`` is in ``ids``, objects side by side."""
    specs = [spec for spec in map(lambda n: _usable(ctx, n), names) if spec]
    await gather_bounded(len(specs), [fetch_by_ids(ctx, s, id_field, ids) for s in specs])


def local_ids(spec: ObjectSpec) -> list[str]:
    model = spec.model
    query = model.select(model.id)
    if "sobject" in model._meta.fields and spec.constants.get("_sobject"):
        query = query.where(model.sobject == spec.constants["_sobject"])
    elif "kind" in model._meta.fields and spec.constants.get("_kind"):
        query = query.where(model.kind == spec.constants["_kind"])
    return [i for (i,) in query.tuples()]


async def verify_ids(ctx: SyncContext, spec: ObjectSpec, *,
                     chunk: int = ID_CHUNK) -> int:
    """Delete stored rows of ``spec`` that no longer exist in the org. Returns rows removed."""
    local = await ctx.writer.call(local_ids, spec)
    removed = 0

    async def check(ids: list[str]) -> None:
        nonlocal removed
        quoted = ", ".join(f"'{i}'" for i in ids)
        found = {r["Id"] for r in await ctx.client.query_all_records(
            f"SELECT Id FROM {spec.sobject} WHERE Id IN ({quoted})")}
        gone = [i for i in ids if i not in found]
        if gone:
            removed += await ctx.writer.call(delete_rows, spec, gone)

    await by_id_chunks(ctx, local, chunk, check)
    return removed


async def verify_objects(ctx: SyncContext, names: list[str], removed: dict[str, int],
                         skipped: dict[str, str]) -> None:
    """The Id check for each of ``names`` the org lets us read; rows removed are added to
    ``removed``, a non-essential object that turns out unreadable goes to ``skipped``."""
    for name in names:
        spec = SPECS_BY_NAME[name]
        if not ctx.fields.get(name):
            continue
        try:
            gone = await verify_ids(ctx, spec)
        except (FieldUnavailable, ObjectUnavailable) as exc:
            if spec.essential:
                raise
            skipped[name] = exc.describe()
            continue
        if gone:
            removed[name] = removed.get(name, 0) + gone


async def apply_deletes(ctx: SyncContext, specs: list[ObjectSpec], now: datetime,
                        overlap: timedelta) -> dict[str, int]:
    """Remove rows deleted in the org since each object's last check. Returns rows removed."""
    removed: dict[str, int] = {}
    oldest_allowed = now - DELETED_KEPT + timedelta(minutes=5)
    windows: dict[str, datetime] = {}
    too_old: list[ObjectSpec] = []
    for spec in specs:
        cursor = m.SyncCursor.get_or_none(m.SyncCursor.sobject == spec.sobject)
        if cursor is None:
            continue  # never synced: nothing stored to delete
        if not cursor.deletes_checked_until:  # no checkpoint: no delete log can prove it
            too_old.append(spec)
            continue
        start = parse_stamp(cursor.deletes_checked_until) - overlap
        if spec.sobject not in ctx.replicateable:
            # No delete log: an Id check, hourly (these are small, rarely changed objects).
            if start < now - ID_CHECK_EVERY:
                too_old.append(spec)
        elif start < oldest_allowed:
            too_old.append(spec)
        else:
            windows[spec.sobject] = start
    end = now + timedelta(minutes=1)
    names = list(windows)
    for first in range(0, len(names), 25):
        group = names[first:first + 25]
        results = await ctx.client.composite([{
            "url": f"sobjects/{n}/deleted/?start={_iso(windows[n])}&end={_iso(end)}",
            "referenceId": n} for n in group])
        for item in results:
            name = item["referenceId"]
            spec = SPECS_BY_NAME[name]
            error = composite_error(item)
            body = item.get("body") or {}
            if error is not None or parse_stamp(body.get("earliestDateAvailable")
                                                or format_stamp(end)) > windows[name]:
                too_old.append(spec)  # the delete log does not reach back far enough
                continue
            ids = [r["id"] for r in body.get("deletedRecords", [])]
            if ids:
                removed[name] = await ctx.writer.call(delete_rows, spec, ids)
            await ctx.writer.call(save_cursor, name,
                                  {"deletes_checked_until": body.get("latestDateCovered")})
    for spec in too_old:
        removed[spec.sobject] = removed.get(spec.sobject, 0) + await verify_ids(ctx, spec)
        await ctx.writer.call(save_cursor, spec.sobject,
                              {"deletes_checked_until": format_stamp(now)})
    return {k: v for k, v in removed.items() if v}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%%2B00:00")


async def gather_bounded(limit: int, coros: list[Any]) -> list[Any]:
    """Run coroutines with at most ``limit`` at once; the first failure cancels the rest."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(coro: Any) -> Any:
        try:
            async with semaphore:
                return await coro
        finally:
            coro.close()  # one cancelled before it started must not warn "never awaited"

    tasks = [asyncio.ensure_future(bounded(c)) for c in coros]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

