"""Initial and full reads by Bulk API 2.0 where an object is big, by REST paging otherwise.

The choice is made per object per run (bulk_choice.py): objects of a handful of rows,
incremental runs and anything Bulk refuses stay on REST; an object whose ``SELECT COUNT()`` of
the rows still to read reaches ``BulkPolicy.threshold`` is read by one Bulk query job. The
default threshold, 10,000 rows, is where Heroku Connect and the Salesforce CLI switch to Bulk
(peers.md §5, §7); Salesforce calls anything over 2,000 rows "a good candidate". Below it, REST
needs ≤ 5 calls and no job to wait for.

Every chosen object's job is created at once: Salesforce runs query jobs on its side, and its
Bulk API 2.0 query limits are per 24 hours (10,000 jobs, 1 TB of results), with no cap on
jobs in flight (Bulk API 2.0 guide, bulk_api_2_limits.htm; App Limits Cheatsheet, "Bulk API and
Bulk API 2.0 Limits and Allocations"). A job waiting holds no REST lane; what costs memory and
CPU here — a results page being parsed and stored — is bounded by ``BulkPolicy.downloads``.

A Bulk read keeps the REST read's guarantees: the job's SOQL is the REST one (same fields, same
scope) without its ORDER BY — "Use of ORDER BY in a Bulk 2.0 query disables PKChunking for the
query. With PKChunking disabled, the query takes longer to execute, and potentially results in
query timeouts" (Bulk API 2.0 guide, Troubleshooting Query Timeouts; "Understanding Bulk API
2.0 Query" says the same of LIMIT). Each result page is written through the same writer with
the same never-backwards upsert. Rows come in no order, so the object's cursor moves only with
the job's last page, to the greatest (cursor field, Id) the job gave; until then a
``~bulk:<Object>`` cursor row keeps the job id, its API version, the locator of the next page
and that greatest position so far, saved in each page's transaction. A run killed
mid-download reads the finished job on from that page instead of running a new one. When
Bulk cannot go on (INVALIDENTITY, a Failed job, the job gone), the REST read starts from the
object's cursor, where the job started: what the job had stored is read again and upserted
by Id (nothing doubled), nothing is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smvue_tui.salesforce.bulk import BulkPage, BulkQueries, BulkUnavailable
from smvue_tui.salesforce.bulk_csv import unsupported_fields
from smvue_tui.salesforce.client import composite_error
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import ObjectSpec
from smvue_tui.store.writer import delete_rows, save_cursor
from smvue_tui.sync.fetch import (
    SyncContext,
    after_position,
    build_soql,
    fetch_ordered,
    format_stamp,
    load_cursor,
    parse_stamp,
    position,
    write_page,
)
from smvue_tui.sync.lanes import RankedLanes
from smvue_tui.sync.progress import ObjectMeter

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 10_000
STATE_PREFIX = "~bulk:"


@dataclass(frozen=True)
class BulkPolicy:
    """``[sync] bulk`` (on/off) and ``bulk_threshold`` (rows) from config.toml."""

    enabled: bool = True
    threshold: int = DEFAULT_THRESHOLD
    max_records: int = 5_000  # rows per results page: ~1.5 MB of CSV, a call per 5,000 rows
    poll_first: float = 0.25
    poll_max: float = 2.0  # see BulkQueries: how long a finished job may wait unread
    # Jobs whose results are read and stored at once. Every job is created at once (a job
    # waiting on Salesforce costs nothing here); what costs memory and CPU is a page being
    # parsed and written, so that is what is bounded.
    downloads: int = 2

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BulkPolicy:
        """From config.toml's ``[sync]`` table; ValueError (in words) for a value it cannot use."""
        section = config.get("sync", {}) if isinstance(config, dict) else {}
        if not isinstance(section, dict):  # `sync = 3`: said and the defaults kept (policy_from)
            raise ValueError("[sync] must be a table of settings")
        enabled = section.get("bulk", True)
        threshold = section.get("bulk_threshold", DEFAULT_THRESHOLD)
        if not isinstance(enabled, bool):
            raise ValueError("[sync] bulk must be true or false")
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ValueError("[sync] bulk_threshold must be a whole number of rows, at least 1")
        return cls(enabled, threshold)


def policy_from(config: dict[str, Any]) -> BulkPolicy:
    """The policy ``config`` (config.toml, read already) sets; the default, with a logged
    warning, when it says something unusable — a sync must not stop over a tuning knob."""
    try:
        return BulkPolicy.from_config(config)
    except ValueError as exc:
        log.warning("ignoring config.toml's [sync] Bulk settings: %s", exc)
        return BulkPolicy()


def state_key(sobject: str) -> str:
    return STATE_PREFIX + sobject


def waiting_job(ctx: SyncContext, sobject: str) -> dict[str, Any] | None:
    """The unfinished Bulk job of ``sobject`` (``job``, ``version``, ``locator``, ``read``)
    as the run found it (``SyncContext.cursors``)."""
    return state_of(ctx.cursor(state_key(sobject)))


def state_of(row: m.SyncCursor | None) -> dict[str, Any] | None:
    """The job a ``~bulk:`` checkpoint row holds, or None."""
    if row is None or not row.watermark:
        return None
    try:
        state = json.loads(row.watermark)
    except ValueError:
        return None
    return state if isinstance(state, dict) and state.get("job") else None


def clear_state(sobject: str) -> None:
    m.SyncCursor.delete().where(m.SyncCursor.sobject == state_key(sobject)).execute()


def _state_row(state: dict[str, Any]) -> dict[str, Any]:
    """The ``~bulk:`` cursor row's values for ``state``."""
    return {"watermark": json.dumps(state)}


def intent(include_deleted: bool) -> dict[str, Any]:
    """The checkpoint written just before a job's create (no job in it: ``state_of`` is
    None): what ``bulk_orphans`` looks for when a kill came before the job's id was saved."""
    return {"creating": format_stamp(datetime.now(UTC)),
            "operation": "queryAll" if include_deleted else "query"}


def _save_state(sobject: str, state: dict[str, Any]) -> None:
    save_cursor(state_key(sobject), _state_row(state))


async def describe_types(ctx: SyncContext,
                         specs: list[ObjectSpec]) -> dict[str, dict[str, str]]:
    """Describe types of the fields each object's read selects ({} when describe failed):
    the plan's (``SyncContext.field_types``), else described now (a plan kept before types
    were), ≤ 25 objects per /composite call. Each answer is the caller's own copy."""
    known = {s.sobject: ctx.field_types.get(s.sobject) for s in specs}
    unknown = [s for s in specs if not known[s.sobject]
               or not set(ctx.fields.get(s.sobject, ())) <= set(known[s.sobject] or ())]
    answers: dict[str, Any] = {}
    for first in range(0, len(unknown), 25):
        results = await ctx.client.composite([
            {"url": f"sobjects/{s.sobject}/describe", "referenceId": s.sobject}
            for s in unknown[first:first + 25]])
        answers.update({i["referenceId"]: i.get("body") for i in results
                        if composite_error(i) is None})
    out = {}
    for spec in specs:
        body = answers.get(spec.sobject)
        described = {f["name"]: f.get("type", "string") for f in body.get("fields", [])} \
            if isinstance(body, dict) else known[spec.sobject] or {}
        selected = ctx.fields.get(spec.sobject, ())
        out[spec.sobject] = {f: described[f] for f in selected if f in described} \
            if described else {}
    return out


async def initial_read(ctx: SyncContext, spec: ObjectSpec, where: str, *,
                       meter: ObjectMeter, scoped: bool,
                       lane: RankedLanes | None = None, rank: int = 0) -> None:
    """Read ``spec``'s rows matching ``where`` from its cursor on: by Bulk when ``choose``
    picked it (or a job of an interrupted run is waiting), else — or when Bulk fails — by REST
    paging from the same cursor, holding one of the REST ``lane``s. A Bulk read holds none:
    its job waits on Salesforce's side, so REST reads run beside every job from the start.
    Lanes go by ``rank``, and only once every object ranked before it has been decided: a
    later COUNT() group answering first must not take the lanes the deals' group needs."""
    decided = ctx.bulk_chosen.get(spec.sobject)
    if decided is not None:  # the choice is made beside the reads (``choosing``)
        await decided
    types = ctx.bulk_types.get(spec.sobject)
    start = position(ctx.cursor(spec.sobject))
    if types is not None:
        try:
            await _bulk_read(ctx, spec, where, start, types, meter, scoped)
            ctx.api_notes[spec.sobject] = "Bulk API 2.0"
            return
        except BulkUnavailable as exc:
            ctx.api_notes[spec.sobject] = f"REST (Bulk failed: {exc.code})"
            log.warning("%s: Bulk API 2.0 could not read it (%s: %s); reading it by REST",
                        spec.sobject, exc.code, exc.detail)
    if lane is not None:
        for name, earlier in ctx.bulk_chosen.items():  # in rank order
            if name == spec.sobject:
                break
            await earlier
    async with lane.hold(rank) if lane is not None else contextlib.nullcontext():
        await fetch_ordered(ctx, spec, where, start=start, meter=meter, scoped=scoped)


async def catch_up(ctx: SyncContext, spec: ObjectSpec, where: str,
                   start: tuple[str | None, str | None], remaining: int) -> int:
    """An incremental run whose changes overflowed the first page: the rest by one Bulk
    ``queryAll`` job when ``remaining`` reaches the threshold (weeks offline, a mass update),
    deleted rows included and removed as they come; else, or when Bulk fails, REST pages from
    the cursor (deletes then come from /deleted). Returns the rows removed."""
    policy: BulkPolicy | None = ctx.bulk_policy
    resumed = waiting_job(ctx, spec.sobject)
    if policy is not None and policy.enabled and (resumed or remaining >= policy.threshold):
        types = (await describe_types(ctx, [spec]))[spec.sobject]
        if types and not unsupported_fields(types):
            deletes = spec.sobject in ctx.is_deleted
            if deletes:
                types["IsDeleted"] = "boolean"
            try:
                removed = await _bulk_read(ctx, spec, where, start, types,
                                           ObjectMeter(spec.sobject), True,
                                           include_deleted=deletes)
                ctx.api_notes[spec.sobject] = "Bulk API 2.0 (queryAll)"  # for the report
                return removed
            except BulkUnavailable as exc:
                log.warning("%s: Bulk API 2.0 could not read the changes (%s: %s); reading "
                            "them by REST", spec.sobject, exc.code, exc.detail)
        start = await ctx.writer.call(_position, spec.sobject, start)
    await fetch_ordered(ctx, spec, where, start=start)
    return 0


def _position(sobject: str, start: tuple[str | None, str | None]
              ) -> tuple[str | None, str | None]:
    """Where the object's cursor stands now (a Bulk read may have moved it past ``start``)."""
    cursor = load_cursor(sobject)
    if cursor is None or not cursor.watermark:
        return start
    return max(start, (cursor.watermark, cursor.watermark_id),
               key=lambda p: (p[0] or "", p[1] or ""))


async def _bulk_read(ctx: SyncContext, spec: ObjectSpec, where: str,
                     start: tuple[str | None, str | None], types: dict[str, str],
                     meter: ObjectMeter, scoped: bool, *, include_deleted: bool = False) -> int:
    """One Bulk job over the rows after ``start`` (the object's cursor; resumed if a job is
    waiting); returns the rows removed (deleted ones, with ``include_deleted``)."""
    policy: BulkPolicy = ctx.bulk_policy
    bulk = BulkQueries(ctx.client, max_records=policy.max_records,
                       poll_first=policy.poll_first, poll_max=policy.poll_max)
    name = spec.sobject
    # What the job reads, cursor aside: a waiting job that selects other fields (a field
    # mapped since) or another scope would store rows short of them, so it is dropped.
    plan = build_soql(ctx, spec, [where], ordered=False, deleted=include_deleted)
    state = waiting_job(ctx, name)
    if state is not None and state.get("plan", plan) != plan:
        await finish_job(ctx, bulk, name, state["job"], state["version"])
        state = None
    if state is None:  # a new job over what is still to read (all of it, or after a REST cursor)
        after = after_position(spec, start)
        # Unordered: an ORDER BY turns off Bulk's PK chunking.
        soql = build_soql(ctx, spec, [where, after], ordered=False, deleted=include_deleted)
        # A kill before the job's id is saved leaves it running on Salesforce: the intent
        # lets the next run find and abort it (bulk_orphans).
        await ctx.writer.call(_save_state, name, intent(include_deleted))
        try:
            info = await bulk.create(soql, include_deleted=include_deleted)
        except BulkUnavailable:  # Salesforce refused it: no job was made
            await ctx.writer.call(clear_state, name)
            raise
        ctx.bulk_jobs += 1
        state = {"job": info["id"], "version": _version(info, ctx), "locator": "", "read": 0,
                 "plan": plan}
        await ctx.writer.call(_save_state, name, state)  # before waiting: a crash resumes it
    job = state["job"]
    removed = 0
    try:
        info = await bulk.wait(job)
        meter.done = int(state.get("read", 0))
        meter.total = int(info.get("numberRecordsProcessed") or 0)
        if state["locator"] != "null":
            # A download slot while pages are read and stored (BulkPolicy.downloads). No
            # read-ahead: a page is MBs of CSV, and the other readers keep the writer busy.
            async with ctx.bulk_downloads or contextlib.nullcontext():
                pages = bulk.pages(job, types, locator=state["locator"] or None,
                                   version=state["version"])
                async for page in pages:
                    state, gone = await _store_page(ctx, spec, page, state, meter, scoped,
                                                    info.get("createdDate"))
                    removed += gone
    except BulkUnavailable:
        await finish_job(ctx, bulk, name, job, state["version"])
        raise
    except asyncio.CancelledError:  # a cancelled sync leaves no job behind on the server
        with contextlib.suppress(Exception):
            await asyncio.shield(finish_job(ctx, bulk, name, job, state["version"]))
        raise
    await finish_job(ctx, bulk, name, job, state["version"])
    return removed


async def _store_page(ctx: SyncContext, spec: ObjectSpec, page: BulkPage,
                      state: dict[str, Any], meter: ObjectMeter, scoped: bool,
                      created: str | None) -> tuple[dict[str, Any], int]:
    """Write one results page in REST-sized batches; the next page's locator and the greatest
    (cursor field, Id) so far are saved with the page's last batch, and the job's last page
    moves the object's cursor there. A crash inside a page re-reads that page from its start on
    resume: upserts by Id, so nothing is doubled, and memory stays one batch deep."""
    name = spec.sobject
    batches = page.batches(ctx.batch_size)
    batch = next(batches, [])
    removed = 0
    top = tuple(state["top"]) if state.get("top") else None
    while True:
        ctx.check_cancelled()
        following = next(batches, None)  # parsed before this batch is written: the count check
        if batch:
            top = max(top or ("", ""), max((r.get(spec.cursor_field) or "", r["Id"])
                                           for r in batch))
        extra = cursor = None
        if following is None:  # the page's last batch: its locator goes with it
            state = {**state, "locator": page.next_locator or "null", "top": top,
                     "read": int(state.get("read", 0)) + page.number}
            extra = {state_key(name): _state_row(state)}
            if page.next_locator is None and top:  # the job's last rows: the cursor moves
                cursor = _job_cursor(top, created)
        gone = [r["Id"] for r in batch if r.get("IsDeleted")]
        if gone:  # before the cursor passes them; a repeat after a crash deletes nothing
            removed += await ctx.writer.call(delete_rows, spec, gone)
        if batch or extra:
            live = [r for r in batch if not r.get("IsDeleted")] if gone else batch
            await write_page(ctx, spec, live, cursor, scoped=scoped, extra=extra)
        meter.done += len(batch)
        if ctx.progress:
            ctx.progress(meter.event(ctx.api_calls()))
        if following is None:
            return state, removed
        batch = following


def _job_cursor(top: tuple[str, str], created: str | None) -> dict[str, Any]:
    """Where the object's cursor goes once a job is stored: its greatest (cursor field, Id), but
    never past the job's creation. An unordered job is PK-chunked, its Id ranges run one after
    another: a row in a range already read may change (stamped later than the job began)
    while a row of a later range gets a still later stamp. The greatest row read says nothing
    of the first; rows stamped after the job began are read again by the next run (by Id)."""
    if created and top[0] and parse_stamp(top[0]) >= parse_stamp(created):
        return {"watermark": created, "watermark_id": None}
    return {"watermark": top[0], "watermark_id": top[1]}


async def finish_job(ctx: SyncContext, bulk: BulkQueries, name: str, job: str,
                     version: str) -> None:
    """Delete the job (aborting it if unfinished) and forget it."""
    await bulk.delete(job, version)
    await ctx.writer.call(clear_state, name)


async def drop_waiting(ctx: SyncContext) -> None:
    """Delete every job an interrupted run left waiting and forget it (before a full re-read
    resets the cursors: a resumed job would skip the pages it had already given)."""
    rows = await ctx.writer.call(lambda: list(m.SyncCursor.select().where(
        m.SyncCursor.sobject.startswith(STATE_PREFIX))))
    for row in rows:
        name, state = row.sobject[len(STATE_PREFIX):], state_of(row)
        if state:
            await finish_job(ctx, BulkQueries(ctx.client), name, state["job"], state["version"])
        else:
            await ctx.writer.call(clear_state, name)


def _version(info: dict[str, Any], ctx: SyncContext) -> str:
    """The job's API version as a path segment ("67.0"): results must be read with it."""
    raw = info.get("apiVersion")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return f"{float(raw):.1f}"
    return str(raw or ctx.client.api_version)
