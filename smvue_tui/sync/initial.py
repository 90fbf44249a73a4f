"""The initial read: every pending object paged in concurrently, biggest first, checkpointed
per page — the engine's ``initial`` runs, resumes, ``full`` re-reads and drifted objects.

Deal children, accounts and contacts are read by semi-joins on the deals' scope, so none waits
for the deals; the big objects go by Bulk API 2.0 when ``bulk_choice`` picks them, the rest by
REST in lanes granted by priority (``lanes.RankedLanes``); the few small objects share one
/composite call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from smvue_tui.salesforce.client import composite_error
from smvue_tui.salesforce.errors import FieldUnavailable, ObjectUnavailable
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.store.writer import save_cursor
from smvue_tui.sync import bulk_choice, bulk_read
from smvue_tui.sync.fetch import (
    SyncContext,
    build_soql,
    format_stamp,
    write_page,
)
from smvue_tui.sync.lanes import RankedLanes
from smvue_tui.sync.plan import SPECS_BY_NAME, scope_filter
from smvue_tui.sync.progress import ObjectMeter
from smvue_tui.sync.repair import DEAL_CHILDREN, gather_bounded

# Read by semi-joins that select exactly their scope on the server, so none of them waits for
# the deals (or accounts) to be stored first.
SEMI_JOINED = ("Account", "Contact", "AccountTeamMember", *DEAL_CHILDREN)
# Initial reads are granted lanes biggest first (typical orgs: stage history and activities
# outnumber deals), so the longest chain of pages starts at once and small objects fill in.
_INITIAL_PRIORITY = ("OpportunityHistory", "Opportunity", "Task", "Event", "Contact",
                     "OpportunityContactRole", "Lead", "Account", "EmailMessage", "LeadHistory",
                     "OpportunityTeamMember", "AccountTeamMember")
# Objects of a handful of rows: the first (usually only) page of each is read for all of them
# in one /composite call, instead of one call and one lane each.
_SMALL = ("Organization", "RecordType", "OpportunityStage", "User")
_DEALS_SEMI_JOIN = "AccountId IN (SELECT AccountId FROM Opportunity WHERE {deals})"


def strip_attributes(record: dict[str, Any]) -> dict[str, Any]:
    """A REST record without its ``attributes`` (type and URL), as the store keeps it."""
    record.pop("attributes", None)
    return record


async def read_initial(ctx: SyncContext, skipped: dict[str, str], pending: list[ObjectSpec],
                       run_started: datetime, concurrency: int) -> None:
    """Every pending object, read concurrently in bounded lanes, biggest first; an object
    this org does not let us read (and the plan can do without) is named in ``skipped``.

    Deal children, accounts and contacts are read by semi-joins on the deals' scope and
    kept whole (``scoped=False``): they need no deal stored first, so a pause or crash
    loses nothing. Rows whose deal changed scope meanwhile are pruned, or topped up, at
    the end of the run.
    """
    deals = scope_filter(SPECS_BY_NAME["Opportunity"], ctx.lookbacks, ctx.today)
    semi_join = _DEALS_SEMI_JOIN.format(deals=deals)
    wheres = {s.sobject: scope_filter(s, ctx.lookbacks, ctx.today) for s in pending}
    wheres.update({"Account": f"Id IN (SELECT AccountId FROM Opportunity WHERE {deals})",
                   "Contact": semi_join, "AccountTeamMember": semi_join})
    rank = {name: i for i, name in enumerate(_INITIAL_PRIORITY)}
    ordered = sorted(pending, key=lambda s: rank.get(s.sobject, len(rank)))
    choosing = bulk_choice.choosing(ctx, ordered, wheres, _SMALL)  # big ones by Bulk
    lane = RankedLanes(concurrency)  # REST reads, granted in rank order

    async def one(spec: ObjectSpec) -> None:
        await _read_object(ctx, skipped, spec, wheres[spec.sobject], run_started, lane,
                           ordered.index(spec))

    async def small_ones(specs: list[ObjectSpec]) -> None:
        for spec in await _read_small(ctx, specs, wheres, run_started):
            await one(spec)

    small = [s for s in ordered if s.sobject in _SMALL]
    await gather_bounded(len(ordered) + 2, [
        choosing, small_ones(small), *(one(s) for s in ordered if s.sobject not in _SMALL)])


async def _read_small(ctx: SyncContext, specs: list[ObjectSpec], wheres: dict[str, str],
                      run_started: datetime) -> list[ObjectSpec]:
    """The first page of each small object in one /composite call; those answered whole
    are done. Returns the others (resumed, failed or longer) for the normal path."""
    cursors = {s.sobject: ctx.cursor(s.sobject) for s in specs}
    fresh = [s for s in specs if not (cursors[s.sobject] and cursors[s.sobject].watermark)]
    if len(fresh) < 2:  # one query is one call either way
        return specs
    results = await ctx.client.composite([
        {"url": "query?q=" + quote(build_soql(ctx, s, [wheres[s.sobject]]), safe=""),
         "referenceId": s.sobject} for s in fresh])
    answers = {item.get("referenceId"): item for item in results}
    rest = [s for s in specs if s not in fresh]
    for spec in fresh:
        item = answers.get(spec.sobject)
        if item is None or composite_error(item) or not item["body"].get("done", False):
            rest.append(spec)  # the normal path reads it again, and handles its error
            continue
        records = [strip_attributes(r) for r in item["body"].get("records", [])]
        meter = ObjectMeter(spec.sobject)
        meter.total = len(records)
        cursor = ({"watermark": records[-1].get(spec.cursor_field),
                   "watermark_id": records[-1]["Id"]} if records else None)
        meter.done = await write_page(ctx, spec, records, cursor)
        await _object_done(ctx, spec, cursors[spec.sobject], meter, run_started)
    return rest


async def _read_object(ctx: SyncContext, skipped: dict[str, str], spec: ObjectSpec, where: str,
                       run_started: datetime, lane: RankedLanes, rank: int) -> None:
    cursor = ctx.cursor(spec.sobject)
    meter = ObjectMeter(spec.sobject)
    try:
        await bulk_read.initial_read(ctx, spec, where, meter=meter, lane=lane, rank=rank,
                                     scoped=spec.sobject not in SEMI_JOINED)
    except (FieldUnavailable, ObjectUnavailable) as exc:
        if spec.essential:
            raise
        skipped[spec.sobject] = exc.describe()
        return
    await _object_done(ctx, spec, cursor, meter, run_started)


async def _object_done(ctx: SyncContext, spec: ObjectSpec, cursor: m.SyncCursor | None,
                       meter: ObjectMeter, run_started: datetime) -> None:
    # A re-read (a newly mapped field, a full sync) keeps the delete check where it was:
    # rows deleted since then are still found by the next incremental's /deleted call.
    checked = cursor.deletes_checked_until if cursor else None
    await ctx.writer.call(save_cursor, spec.sobject, {
        "initial_done": True,
        "deletes_checked_until": checked or format_stamp(run_started)})
    if ctx.progress:
        ctx.progress(meter.event(ctx.api_calls(), "done"))
