"""The sync engine: initial, incremental and reconciling runs over the plan.

- **initial** (also resumes an interrupted one): every object paged in (SystemModstamp, Id)
  order, concurrently (bounded, biggest first), checkpointed per page; deal children, accounts
  and contacts are read by semi-joins on the deals' scope, so none waits for the deals.
- **incremental**: one /composite call per five objects asks for everything changed since each
  cursor (minus an overlap for late-visible rows), one more for deletes; rows that left the
  lookback are removed, the closure is topped up, nothing changed costs four API calls.
- **reconcile**: the plan is renewed and every object's stored ids are checked against the org.
- **full**: the plan is renewed, everything read again, then every object's ids checked: what
  the org no longer has is removed.

No run reports ``ok`` unless it saw every delete since its cursor in the objects Salesforce
keeps a delete log for: where the log cannot prove it (an initial resumed after an interruption,
a ``full``, a log not reaching back), the stored ids of those objects are checked against the org
first. The few small objects with no delete log (OpportunityStage, Organization…) have their ids
checked at most hourly (``repair.ID_CHECK_EVERY``), so a delete there can take that long to show.

A run ends ``ok``, ``failed``, ``cancelled`` or ``paused`` (API limit: never reported as success,
with the time the limit resets). Every run is logged in ``SyncRun``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from peewee import Database

from smvue_tui.salesforce.client import composite_error
from smvue_tui.salesforce.errors import (
    FieldUnavailable,
    ObjectUnavailable,
    QueryTimeout,
    RateLimitExceeded,
    SalesforceError,
)
from smvue_tui.store import changelog_retention, postgres
from smvue_tui.store import models as m
from smvue_tui.store.health import store_damaged
from smvue_tui.store.object_spec import Lookbacks, ObjectSpec
from smvue_tui.store.scope import prune
from smvue_tui.store.writer import delete_rows
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync import bulk_read
from smvue_tui.sync import fields as field_plans
from smvue_tui.sync.bulk_orphans import abort_orphans
from smvue_tui.sync.bulk_read import BulkPolicy
from smvue_tui.sync.drift import missing_counts
from smvue_tui.sync.fetch import (
    SyncContext,
    build_soql,
    fetch_ordered,
    format_stamp,
    load_cursors,
    parse_stamp,
    soql_datetime,
    write_page,
)
from smvue_tui.sync.initial import read_initial, strip_attributes
from smvue_tui.sync.live import fetch_notified
from smvue_tui.sync.plan import SPECS, SPECS_BY_NAME
from smvue_tui.sync.progress import ProgressCallback
from smvue_tui.sync.repair import (
    apply_deletes,
    top_up,
    verify_objects,
)

# Incremental change pages are applied in this order: deals before what hangs off them.
_ORDER = {"Opportunity": 0, "OpportunityContactRole": 2, "OpportunityHistory": 2,
          "OpportunityTeamMember": 2, "Account": 3, "Contact": 4, "AccountTeamMember": 4}
STORE_DAMAGED = {"object": "", "code": "STORE_DAMAGED", "message": "The local store is damaged",
                 "remedy": "Run the sync again: it checks the store, moves a damaged one aside "
                           "and keeps your notes (`smvue-tui store check` shows it)."}


@dataclass
class SyncReport:
    kind: str
    status: str = "running"  # ok | failed | paused | cancelled
    counts: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    api_calls: int = 0
    seconds: float = 0.0
    resumes_at: str | None = None
    drift: dict[str, int] = field(default_factory=dict)  # reconcile: rows the store had missed
    apis: dict[str, str] = field(default_factory=dict)  # initial reads: which API, and why
    bulk_jobs: int = 0  # Bulk API 2.0 query jobs this run created

    def error(self, exc: SalesforceError, sobject: str = "") -> None:
        self.errors.append({"object": sobject, "code": exc.code, "message": exc.user_message,
                            "detail": exc.detail, "remedy": exc.remedy})


class SyncEngine:
    def __init__(self, client: Any, db: Database, *, lookbacks: Lookbacks | None = None,
                 concurrency: int = 4, overlap: timedelta = timedelta(minutes=5),
                 progress: ProgressCallback | None = None, today: date | None = None,
                 batch_size: int = 2000, bulk: BulkPolicy | None = None) -> None:
        self.client = client
        self.db = db
        self.lookbacks = lookbacks or Lookbacks()
        self.concurrency = max(1, min(concurrency, 8))  # Salesforce keeps ≤10 open cursors
        self.overlap = overlap
        self.progress = progress
        self.today = today
        self.batch_size = batch_size  # smaller pages: more checkpoints (tests, slow links)
        self.bulk = bulk if bulk is not None else BulkPolicy()  # big initial reads by Bulk 2.0
        self.writer = StoreWriter(db)
        self.cancelled = asyncio.Event()

    def close(self) -> None:
        self.writer.close()

    async def run(self, kind: str = "incremental") -> SyncReport:
        """Run one sync: ``initial``/``incremental`` (resumes or starts as needed), ``full``
        (re-plan and re-read everything), ``reconcile`` (incremental + Id check)."""
        report = SyncReport(kind)
        started = time.monotonic()
        run_row = None
        ctx = await self._context()
        try:
            run_row = await self.writer.call(m.SyncRun.create, kind=kind, pid=os.getpid())
            await self._run(kind, ctx, report)
            report.status = "ok"
        except RateLimitExceeded as exc:
            report.status = "paused"
            report.error(exc)
            resets = getattr(self.client.usage, "resets_at", None)
            report.resumes_at = resets().isoformat() if callable(resets) else None
        except SalesforceError as exc:
            report.status = "failed"
            report.error(exc)
        except asyncio.CancelledError:
            report.status = "cancelled"
            raise
        except Exception as exc:  # a bug, not Salesforce: recorded, then surfaced
            report.status = "failed"
            if store_damaged(self.db, exc):  # in words, and the next open moves it aside
                report.errors.append(STORE_DAMAGED | {"detail": str(exc)[:300]})
            elif postgres.unavailable(self.db, exc):  # in words; the next run resumes
                report.errors.append(postgres.STORE_UNAVAILABLE | {"detail": str(exc)[:300]})
            else:
                report.errors.append({"object": "", "code": type(exc).__name__,
                                      "message": "The sync stopped on an unexpected error",
                                      "detail": str(exc)[:300], "remedy": "Please report it."})
                raise
        finally:
            report.api_calls = ctx.api_calls()
            report.apis, report.bulk_jobs = dict(ctx.api_notes), ctx.bulk_jobs
            report.seconds = round(time.monotonic() - started, 3)
            codes = {e["code"] for e in report.errors}
            if run_row is not None and "STORE_DAMAGED" not in codes:  # takes no more writes
                # A server that failed the run may be back (its connection is renewed);
                # if not, the run is closed as interrupted when this process ends.
                with contextlib.suppress(*postgres.SERVER_ERRORS) \
                        if "STORE_UNAVAILABLE" in codes else contextlib.nullcontext():
                    await self.writer.call(_finish_run, run_row.id, report)
        return report

    async def _context(self) -> SyncContext:
        today = self.today or datetime.now(UTC).date()
        custom = tuple(c.api_name for c in await self.writer.call(
            lambda: list(m.CustomFieldMapping.select().where(m.CustomFieldMapping.enabled))))
        return SyncContext(self.client, self.writer, self.lookbacks, today, {}, custom,
                           self.progress, self.cancelled, self.client.calls_sent,
                           self.batch_size, bulk_policy=self.bulk)

    async def _plan(self, ctx: SyncContext, report: SyncReport, renew: bool) -> None:
        plans = await self.writer.call(field_plans.load_plans)
        # Only objects without a (complete) plan are described: one INVALID_FIELD re-plans
        # that object, not all sixteen.
        stale = SPECS if renew else tuple(
            s for s in SPECS if s.sobject not in plans or not plans[s.sobject].known)
        if stale:
            fresh = await field_plans.describe_plans(self.client, stale, ctx.custom_fields)
            await self.writer.call(field_plans.save_plans, fresh)
            plans.update({p.sobject: p for p in fresh})
        for name, plan in plans.items():
            if plan.available:
                ctx.fields[name] = plan.fields
                if plan.types:
                    ctx.field_types[name] = plan.types
                if plan.is_deleted:
                    ctx.is_deleted.add(name)
                if plan.replicateable:
                    ctx.replicateable.add(name)
            if plan.reason:
                report.skipped[name] = plan.reason
        for name in ("Opportunity", "Account", "Contact", "User"):
            if name not in ctx.fields:
                raise ObjectUnavailable(report.skipped.get(name, name), code="REQUIRED_OBJECT")

    async def _run(self, kind: str, ctx: SyncContext, report: SyncReport) -> None:
        await self._plan(ctx, report, renew=kind in ("full", "reconcile"))
        ctx.cursors = await self.writer.call(load_cursors)
        await abort_orphans(ctx)  # jobs a killed run created but never checkpointed
        if kind == "full":  # re-read everything; the delete check and closure work stay
            await bulk_read.drop_waiting(ctx)
            await self.writer.call(lambda: m.SyncCursor.update(
                initial_done=False, watermark=None, watermark_id=None).execute())
            ctx.cursors = await self.writer.call(load_cursors)
        cursors = ctx.cursors
        pending = [SPECS_BY_NAME[n] for n in ctx.fields
                   if not (cursors.get(n) and cursors[n].initial_done)]
        run_started = datetime.now(UTC)
        # Objects an earlier, interrupted run stored rows of before any delete checkpoint:
        # no delete log covers what the org deleted since, so their ids are checked.
        resumed = [s.sobject for s in pending
                   if (s.sobject in cursors and cursors[s.sobject].watermark)
                   or bulk_read.state_key(s.sobject) in cursors]
        if kind == "webhook":
            if pending:  # not synced yet: the initial sync will bring everything
                return
            for name, n in (await fetch_notified(ctx)).items():
                report.counts[name] = n
            await top_up(ctx)
            return
        if pending:
            ctx.mark_new = False  # the initial pages deal children and contacts in itself
            ctx.closure_since = await self.writer.call(_closure_since, self.overlap)
            await read_initial(ctx, report.skipped, pending, run_started, self.concurrency)
            ctx.mark_new, ctx.closure_since = True, None
            done_before = [SPECS_BY_NAME[n] for n in ctx.fields
                           if n in cursors and cursors[n].initial_done]
            report.removed.update(await apply_deletes(ctx, done_before, run_started,
                                                      self.overlap))
            if kind != "reconcile":  # a reconcile checks every object's ids below
                await verify_objects(ctx, list(ctx.fields) if kind == "full" else resumed,
                                     report.removed, report.skipped)
        else:
            await self._incremental(ctx, report, cursors)
            report.removed.update(await apply_deletes(
                ctx, [SPECS_BY_NAME[n] for n in ctx.fields], run_started, self.overlap))
        await top_up(ctx)
        if kind == "reconcile":
            await self._reconcile(ctx, report, run_started)
        for table, n in (await self.writer.call(prune, self.db, self.lookbacks,
                                                ctx.today)).items():
            report.removed[f"pruned:{table}"] = n
        await self._prune_change_log(ctx, report)
        report.counts = {k: v for k, v in ctx.new_counts.items() if v}

    async def _prune_change_log(self, ctx: SyncContext, report: SyncReport) -> None:
        """The change log's retention, one batch per writer call so live writes go between."""
        run = changelog_retention.Prune(
            changelog_retention.cutoff(ctx.today, self.lookbacks.change_log_days))
        while not await self.writer.call(run.step) and not self.cancelled.is_set():
            pass
        if run.deleted:
            report.removed["pruned:deal_change"] = run.deleted

    async def _reconcile(self, ctx: SyncContext, report: SyncReport,
                         run_started: datetime) -> None:
        """Rows the org no longer has are removed; objects missing rows are read again."""
        await verify_objects(ctx, list(ctx.fields), report.removed, report.skipped)
        await self.writer.call(prune, self.db, self.lookbacks, ctx.today)
        report.drift = await missing_counts(ctx, [SPECS_BY_NAME[n] for n in ctx.fields])
        if report.drift:
            await self.writer.call(lambda: m.SyncCursor.update(
                initial_done=False, watermark=None, watermark_id=None).where(
                m.SyncCursor.sobject.in_(list(report.drift))).execute())
            ctx.cursors = await self.writer.call(load_cursors)  # those moved back
            await read_initial(ctx, report.skipped, [SPECS_BY_NAME[n] for n in report.drift],
                               run_started, self.concurrency)
        await top_up(ctx)

    # --- incremental --------------------------------------------------------------------------

    async def _incremental(self, ctx: SyncContext, report: SyncReport,
                           cursors: dict[str, m.SyncCursor]) -> None:
        specs = sorted((SPECS_BY_NAME[n] for n in ctx.fields if n != "Organization"),
                       key=lambda s: _ORDER.get(s.sobject, 1))
        queries = {s.sobject: self._changed_since(ctx, s, cursors[s.sobject]) for s in specs}
        answers: dict[str, dict[str, Any]] = {}
        for first in range(0, len(specs), 5):  # /composite allows five queries per call
            group = specs[first:first + 5]
            results = await ctx.client.composite([
                {"url": "queryAll?q=" + quote(queries[s.sobject], safe=""),
                 "referenceId": s.sobject}
                for s in group])
            answers.update({item["referenceId"]: item for item in results})
        for spec in specs:  # in dependency order: deals before their children and accounts
            await self._apply_changes(ctx, report, spec, answers[spec.sobject],
                                      cursors[spec.sobject])

    def _changed_since(self, ctx: SyncContext, spec: ObjectSpec, cursor: m.SyncCursor) -> str:
        """SOQL for queryAll: changed rows, and deleted ones (IsDeleted = true) where the object
        has IsDeleted; the others' deletes come from /deleted or an Id check (apply_deletes)."""
        since = self._since(cursor)
        after = f"{spec.cursor_field} >= {soql_datetime(since)}" if since else ""
        return build_soql(ctx, spec, [spec.where, after], deleted=spec.sobject in ctx.is_deleted)

    def _since(self, cursor: m.SyncCursor) -> str | None:
        """Where an incremental read starts: the cursor minus the overlap for late rows."""
        if not cursor.watermark:
            return None
        return format_stamp(parse_stamp(cursor.watermark) - self.overlap)

    async def _apply_changes(self, ctx: SyncContext, report: SyncReport, spec: ObjectSpec,
                             item: dict[str, Any], cursor: m.SyncCursor) -> None:
        error = composite_error(item)
        if isinstance(error, QueryTimeout):
            # Too many changes for one query (long offline, mass update). Reported as an error
            # the cursor never moved, so the next run timed out again, forever. Page them in
            # time windows instead (fetch_ordered splits); deletes come from /deleted.
            await fetch_ordered(ctx, spec, spec.where, start=(self._since(cursor), None))
            return
        if error is not None:
            if isinstance(error, RateLimitExceeded) or (spec.essential and not isinstance(
                    error, (FieldUnavailable, ObjectUnavailable))):
                raise error
            report.error(error, spec.sobject)
            if isinstance(error, (FieldUnavailable, ObjectUnavailable)):  # re-plan it alone
                await ctx.writer.call(field_plans.forget_plan, spec.sobject)
            return
        body = item["body"]
        records = [strip_attributes(r) for r in body.get("records", [])]
        position = (cursor.watermark, cursor.watermark_id)
        if records:
            last = records[-1]
            position = max(position, (last.get(spec.cursor_field), last["Id"]),
                           key=lambda p: (p[0] or "", p[1] or ""))
            live = [r for r in records if not r.get("IsDeleted")]
            deleted = [r["Id"] for r in records if r.get("IsDeleted")]
            await write_page(ctx, spec, live, {"watermark": position[0],
                                               "watermark_id": position[1]})
            if deleted:
                report.removed[spec.sobject] = report.removed.get(spec.sobject, 0) + \
                    await ctx.writer.call(delete_rows, spec, deleted)
        if not body.get("done", True):  # more than a page changed: the rest from the cursor
            remaining = int(body.get("totalSize", 0)) - len(records)
            gone = await bulk_read.catch_up(ctx, spec, spec.where or "", position, remaining)
            if gone:
                report.removed[spec.sobject] = report.removed.get(spec.sobject, 0) + gone


def _closure_since(overlap: timedelta) -> str:
    """Since when a deal's change may have escaped the closure's semi-joins: the start of the
    last successful run (its incremental recorded every deal new before), else of the first
    run (when the semi-joins of the first initial started), minus the overlap for clock skew."""
    runs = m.SyncRun.select(m.SyncRun.started_at)
    last_ok = runs.where((m.SyncRun.status == "ok") & (m.SyncRun.kind != "webhook")).order_by(
        m.SyncRun.id.desc()).first()
    run = last_ok or runs.order_by(m.SyncRun.id).first()
    return format_stamp(datetime.fromisoformat(run.started_at) - overlap)


def _finish_run(run_id: int, report: SyncReport) -> None:
    m.SyncRun.update(
        finished_at=datetime.now(UTC).isoformat(), status=report.status,
        counts=json.dumps({"new": report.counts, "removed": report.removed,
                           **({"apis": report.apis} if report.apis else {})}),
        api_calls=report.api_calls, errors=json.dumps(report.errors),
        resumes_at=report.resumes_at,
    ).where(m.SyncRun.id == run_id).execute()
