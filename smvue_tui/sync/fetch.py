"""Fetching one object into the store, page by page, resumable at every page.

Rows are read in (cursor field, Id) order; after each page the store holds the rows AND the
cursor (the last row's field value and Id) in one transaction. Resuming after a crash, an
expired query locator or a timeout re-issues the query from that cursor with a strict
``(F > v OR (F = v AND Id > id))`` tie-break, so rows sharing a timestamp are never skipped and
never written twice. A query Salesforce times out on is split into time windows that shrink
until each one answers (down to a minute; then pages of ``LIMIT batch_size`` from the cursor).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from peewee import Database

from smvue_tui.salesforce.errors import InvalidQueryLocator, QueryTimeout
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks, ObjectSpec
from smvue_tui.store.scope import keep_ids, stored_ids
from smvue_tui.store.writer import (
    add_pending_closure,
    delete_ids,
    row_shape,
    save_cursor,
    upsert_values,
)
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.plan import all_of
from smvue_tui.sync.progress import ObjectMeter, ProgressCallback

T = TypeVar("T")
MIN_WINDOW = timedelta(minutes=1)
MAX_LOCATOR_RESTARTS = 20
# Ids per "IN (...)" query. Each costs ~28 bytes of URL; 300 overflowed the 8 KB a GET URL
# may have (proxies, the demo org) once the field list was added: HTTP 400, sync failed.
ID_CHUNK = 200
CLOSURE_ROOTS = ("Opportunity", "Account")  # rows whose arrival brings more rows along


def soql_datetime(stamp: str) -> str:
    """Salesforce's stored form (2026-11-01T09:14:05.000+0000) as a SOQL literal."""
    value = parse_stamp(stamp)
    millis = value.microsecond // 1000
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def parse_stamp(stamp: str) -> datetime:
    text = stamp.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class SyncContext:
    client: Any
    writer: StoreWriter
    lookbacks: Lookbacks
    today: date
    fields: dict[str, tuple[str, ...]]  # per object: the fields this org lets us read
    custom_fields: tuple[str, ...] = ()
    progress: ProgressCallback | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    api_calls_at_start: int = 0
    batch_size: int = 2000  # rows per page asked of Salesforce (200–2,000)
    # Record new deals/accounts as awaiting their closure (see writer.CLOSURE_PENDING). Off
    # while an initial sync pages the closure objects in itself by semi-joins.
    mark_new: bool = True
    # While ``mark_new`` is off: new deals changed at or after this stamp are still recorded
    # (with their accounts). Their scope may have changed after the semi-joins had read past
    # their children — a deal reopened while an initial was paused would lose them for good.
    closure_since: str | None = None
    # Rows new to the store per object (counts only: keeping the ids cost ~90 MB at 100k deals).
    new_counts: dict[str, int] = field(default_factory=dict)
    # Per describe (sync/fields.py): objects with IsDeleted, and those /deleted answers for.
    is_deleted: set[str] = field(default_factory=set)
    replicateable: set[str] = field(default_factory=set)
    # Bulk API 2.0 (sync/bulk_read.py): the policy, the objects this run reads by Bulk (with
    # their fields' describe types), which API read each object and why, and jobs created.
    bulk_policy: Any = None
    bulk_downloads: asyncio.Semaphore | None = None  # jobs whose results are read at once
    bulk_chosen: dict[str, asyncio.Future[None]] = field(default_factory=dict)  # choice made
    bulk_types: dict[str, dict[str, str]] = field(default_factory=dict)
    field_types: dict[str, dict[str, str]] = field(default_factory=dict)  # the plans' describe
    api_notes: dict[str, str] = field(default_factory=dict)
    bulk_jobs: int = 0
    # Every SyncCursor row (objects' cursors and ``~bulk:`` checkpoints) as the run found them,
    # loaded once (``load_cursors``). A read moves its own object's row only forward, so a
    # position taken from here may be behind the store (rows read again, idempotent), never
    # past it; whoever moves a cursor back (a full, a drift re-read) loads them again.
    cursors: dict[str, m.SyncCursor] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.writer.db

    def api_calls(self) -> int:
        """API calls this run sent (composite counts one)."""
        return max(0, self.client.calls_sent - self.api_calls_at_start)

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise asyncio.CancelledError("sync cancelled")

    def select(self, spec: ObjectSpec) -> str:
        return ", ".join(self.fields[spec.sobject])

    def cursor(self, name: str) -> m.SyncCursor | None:
        """The cursor row ``name`` as the run found it (see ``cursors``)."""
        return self.cursors.get(name)


def _write_page(ctx: SyncContext, spec: ObjectSpec, records: list[dict[str, Any]],
                cursor: dict[str, Any] | None, scoped: bool,
                extra: dict[str, dict[str, Any]] | None = None) -> int:
    """Runs in the writer thread: filter by scope, upsert, drop out-of-scope rows, cursor."""
    shape = row_shape(spec, ctx.fields.get(spec.sobject, ()), ctx.custom_fields)
    try:
        values = [shape.values(r) for r in records]
    except KeyError:  # a record without a selected field: that field is stored as NULL
        blank = dict.fromkeys(ctx.fields.get(spec.sobject, ()))
        values = [shape.values({**blank, **r}) for r in records]
    ids = [v[0] for v in values]
    with ctx.db.atomic():
        before = stored_ids(spec.model, ids)
        if scoped:
            rows = [dict(zip(shape.attrs, v, strict=True)) for v in values]
            keep = keep_ids(ctx.db, spec, rows, ctx.lookbacks, ctx.today)
            values = [v for v in values if v[0] in keep]
            gone = [i for i in ids if i not in keep and i in before]
            if gone:
                delete_ids(spec, gone)
        upsert_values(spec, shape.attrs, values)
        new = {v[0] for v in values if v[0] not in before}
        if ctx.mark_new and spec.sobject in CLOSURE_ROOTS:
            add_pending_closure(spec.sobject, new)
        elif ctx.closure_since and spec.sobject == "Opportunity":
            _mark_changed_deals(shape.attrs, values, new, ctx.closure_since)
        if cursor is not None:
            save_cursor(spec.sobject, cursor)
        for name, values in (extra or {}).items():  # e.g. a Bulk job's next locator
            save_cursor(name, values)
    ctx.new_counts[spec.sobject] = ctx.new_counts.get(spec.sobject, 0) + len(new)
    return len(values)


def _mark_changed_deals(attrs: tuple[str, ...], values: list[tuple[Any, ...]], new: set[str],
                        since: str) -> None:
    """Record the new deals among ``values`` changed at or after ``since``, and their
    accounts, as awaiting their closure (see ``SyncContext.closure_since``)."""
    if "system_modstamp" not in attrs:
        return
    stamp = attrs.index("system_modstamp")
    changed = [v for v in values if v[0] in new and (v[stamp] or "") >= since]
    add_pending_closure("Opportunity", (v[0] for v in changed))
    if "account_id" in attrs:  # a deal moved to a stored account: that account's contacts
        account = attrs.index("account_id")
        add_pending_closure("Account", (v[account] for v in changed if v[account]))


async def write_page(ctx: SyncContext, spec: ObjectSpec, records: list[dict[str, Any]],
                     cursor: dict[str, Any] | None = None, *, scoped: bool = True,
                     extra: dict[str, dict[str, Any]] | None = None) -> int:
    """Store one page and move the cursor (and the ``extra`` cursor rows) in one transaction."""
    return await ctx.writer.call(_write_page, ctx, spec, records, cursor, scoped, extra)


def load_cursor(sobject: str) -> m.SyncCursor | None:
    return m.SyncCursor.get_or_none(m.SyncCursor.sobject == sobject)


def load_cursors() -> dict[str, m.SyncCursor]:
    """Every cursor row by name (objects and checkpoints): ``SyncContext.cursors``."""
    return {c.sobject: c for c in m.SyncCursor.select()}


def _after(field_name: str, stamp: str | None, last_id: str | None) -> str:
    if not stamp:
        return ""
    literal = soql_datetime(stamp)
    if not last_id:
        return f"{field_name} >= {literal}"
    return f"({field_name} > {literal} OR ({field_name} = {literal} AND Id > '{last_id}'))"


def resume_clause(spec: ObjectSpec, cursor: m.SyncCursor | None) -> str:
    """The SOQL condition for the rows after ``cursor`` in (cursor field, Id) order."""
    return _after(spec.cursor_field, *position(cursor))


def position(cursor: m.SyncCursor | None) -> tuple[str | None, str | None]:
    """A cursor row's (stamp, Id) position; (None, None) before the first row."""
    return (cursor.watermark, cursor.watermark_id) if cursor else (None, None)


def after_position(spec: ObjectSpec, start: tuple[str | None, str | None]) -> str:
    """The SOQL condition for the rows after ``start`` in (cursor field, Id) order."""
    return _after(spec.cursor_field, *start)


_END = object()


async def read_ahead(pages: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Yield ``pages`` in order while the next one is already being fetched: the network
    wait overlaps the store write. Errors reach the consumer at the page they happened."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)

    async def produce() -> None:
        try:
            async for page in pages:
                await queue.put(page)
            await queue.put(_END)
        except Exception as exc:  # handed to the consumer, which decides
            await queue.put(exc)

    task = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(RuntimeError):
            await pages.aclose()


async def fetch_ordered(ctx: SyncContext, spec: ObjectSpec, where: str, *,
                        start: tuple[str | None, str | None] = (None, None),
                        cursor_extra: dict[str, Any] | None = None,
                        meter: ObjectMeter | None = None,
                        scoped: bool = True) -> tuple[str | None, str | None]:
    """Fetch every row matching ``where`` after ``start`` (a (stamp, id) position), in order,
    checkpointing after each page. Returns the last position reached. ``scoped=False`` keeps
    every row: for queries whose WHERE already is the scope (the closure semi-joins)."""
    f = spec.cursor_field
    stamp, last_id = start
    window: tuple[datetime, datetime] | None = None  # [lower, upper) after a QUERY_TIMEOUT
    span: timedelta | None = None
    # Keyset pages with LIMIT: the last resort when even a minute's rows time out (a mass
    # update touches thousands of rows in one second; no window can split those).
    limit: int | None = None
    restarts = 0  # locator restarts since the last page that moved the cursor
    meter = meter or ObjectMeter(spec.sobject)
    while True:
        clauses = [c for c in (where, _after(f, stamp, last_id)) if c]
        if window:
            clauses.append(f"{f} >= {soql_datetime(format_stamp(window[0]))} AND "
                           f"{f} < {soql_datetime(format_stamp(window[1]))}")
        soql = build_soql(ctx, spec, clauses, limit)
        got = 0
        try:
            async for page in read_ahead(ctx.client.query_pages(soql,
                                                                batch_size=ctx.batch_size)):
                ctx.check_cancelled()
                if meter.total is None and not window:
                    meter.total = meter.done + page.total_size
                if page.records:
                    last = page.records[-1]
                    stamp, last_id = last.get(f), last["Id"]
                    cursor = {"watermark": stamp, "watermark_id": last_id, **(cursor_extra or {})}
                    meter.done += await write_page(ctx, spec, page.records, cursor,
                                                   scoped=scoped)
                    got += len(page.records)
                    restarts = 0
                if ctx.progress:
                    ctx.progress(meter.event(ctx.api_calls()))
        except InvalidQueryLocator:
            restarts += 1
            if restarts > MAX_LOCATOR_RESTARTS:
                raise
            continue  # re-issue from the committed cursor
        except QueryTimeout:
            lower = window[0] if window else await _earliest(ctx, spec, where, stamp)
            upper = window[1] if window else datetime.now(UTC) + MIN_WINDOW
            span = (span or (upper - lower)) / 2
            if span < MIN_WINDOW:
                if limit == 1:
                    raise
                span, limit = MIN_WINDOW, max(1, limit // 2) if limit else ctx.batch_size
            window = (lower, lower + span)
            continue
        if limit and got >= limit:
            continue  # the window holds more: the next keyset page
        limit = None
        if window is None:
            return stamp, last_id
        lower = window[1]
        if lower > datetime.now(UTC):
            return stamp, last_id
        window = (lower, lower + (span or MIN_WINDOW))


def build_soql(ctx: SyncContext, spec: ObjectSpec, clauses: Iterable[str],
               limit: int | None = None, *, ordered: bool = True, deleted: bool = False,
               count: bool = False) -> str:
    """The query of ``spec``'s rows matching all ``clauses`` (empty ones ignored), in
    (cursor field, Id) order. ``ordered=False``: no ORDER BY (a Bulk job: it would turn off PK
    chunking); ``deleted``: IsDeleted selected too (queryAll); ``count``: SELECT COUNT()."""
    f = spec.cursor_field
    select = "COUNT()" if count else ctx.select(spec) + (", IsDeleted" if deleted else "")
    soql = f"SELECT {select} FROM {spec.sobject}"
    where = all_of(clauses)
    if where:
        soql += " WHERE " + where
    if ordered and not count:
        soql += f" ORDER BY {f} ASC, Id ASC"
    return soql + (f" LIMIT {limit}" if limit else "")


async def _earliest(ctx: SyncContext, spec: ObjectSpec, where: str, stamp: str | None) -> datetime:
    """Where time windows start: the cursor, or the object's oldest row."""
    if stamp:
        return parse_stamp(stamp)
    f = spec.cursor_field
    soql = f"SELECT {f} FROM {spec.sobject}"
    if where:
        soql += f" WHERE {where}"
    rows = await ctx.client.query_all_records(f"{soql} ORDER BY {f} ASC LIMIT 1")
    if not rows or not rows[0].get(f):
        return datetime(2000, 1, 1, tzinfo=UTC)
    return parse_stamp(rows[0][f])


async def by_id_chunks(ctx: SyncContext, ids: list[str], chunk: int,
                       read: Callable[[list[str]], Awaitable[None]]) -> None:
    """Call ``read`` on ``ids`` in chunks. A chunk Salesforce times out on, or whose query
    locator expires mid-way, is halved and read again: an Id list has no cursor to resume
    from, and a smaller list needs fewer pages (so fewer chances to lose its locator).
    ``read`` must be idempotent (upserts by Id, deletes of absent rows)."""
    pending = [ids[start:start + chunk] for start in range(0, len(ids), chunk)]
    retries = 0
    while pending:
        ctx.check_cancelled()
        part = pending.pop(0)
        try:
            await read(part)
        except (QueryTimeout, InvalidQueryLocator) as exc:
            if len(part) > 1:
                half = len(part) // 2
                pending[:0] = [part[:half], part[half:]]
                continue
            retries += 1
            if isinstance(exc, QueryTimeout) or retries > MAX_LOCATOR_RESTARTS:
                raise
            pending.insert(0, part)


async def fetch_by_ids(ctx: SyncContext, spec: ObjectSpec, id_field: str,
                       ids: list[str], *, chunk: int = ID_CHUNK) -> int:
    """Fetch the rows whose ``id_field`` is one of ``ids`` (closure top-ups; no cursor)."""
    written = 0

    async def read(part: list[str]) -> None:
        nonlocal written
        quoted = ", ".join(f"'{i}'" for i in part)
        soql = f"SELECT {ctx.select(spec)} FROM {spec.sobject} WHERE {id_field} IN ({quoted})"
        if spec.where:
            soql += f" AND ({spec.where})"
        async for page in ctx.client.query_pages(soql, batch_size=ctx.batch_size):
            written += await write_page(ctx, spec, page.records)

    await by_id_chunks(ctx, ids, chunk, read)
    return written
