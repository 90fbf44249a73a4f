"""The Bulk API 2.0 query resources under /services/data/vNN.0/jobs/query.

Routed through the data API's HTTP layer (http_layer.py), so every call is authenticated, counted
against the org's daily API usage and subject to the same faults as a REST call. The facts and
their sources are in bulk_jobs.py; error codes and messages whose exact text was not found in a
stored source are marked [unverified] beside them.

    POST   /jobs/query                     create (operation query | queryAll)
    GET    /jobs/query                     all jobs ({done, records, nextRecordsUrl})
    GET    /jobs/query/{id}                one job's info
    PATCH  /jobs/query/{id}                {"state": "Aborted"}
    DELETE /jobs/query/{id}                204
    GET    /jobs/query/{id}/results        CSV, Sforce-Locator / Sforce-NumberOfRecords
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from smvue_demo_org.api import ApiError, ApiResponse, Request, Router, not_found
from smvue_demo_org.bulk_jobs import (
    DEFAULT_PAGE,
    DELIMITERS,
    EXTRA_KEY,
    FINAL_STATES,
    LINE_ENDINGS,
    QueryJob,
    QueryJobs,
    column_paths,
    csv_rows,
    decode_locator,
    encode_locator,
)
from smvue_demo_org.org import DemoOrg
from smvue_demo_org.schema import Catalog
from smvue_demo_org.soql import SoqlError, prepare, prepare_select, query_shape
from smvue_demo_org.soql import ast as soql_ast
from smvue_demo_org.soql.parser import parse

log = logging.getLogger(__name__)
# The state names JOB_NOT_COMPLETE's message uses; only IN_PROGRESS is in the guide [unverified].
_UPPER = {"UploadComplete": "UPLOAD_COMPLETE", "InProgress": "IN_PROGRESS",
          "Aborted": "ABORTED", "Failed": "FAILED"}


def invalid_job(message: str) -> ApiError:
    # INVALIDJOB is the code Bulk 2.0 gives a job it refuses; each message here is [unverified].
    return ApiError(400, "INVALIDJOB", message)


class BulkQueryApi:
    def __init__(self, org: DemoOrg) -> None:
        self.org = org
        self.jobs: QueryJobs = org.extras.setdefault(EXTRA_KEY, QueryJobs())

    def add_routes(self, router: Router) -> None:
        router.add("POST", "/jobs/query", self.create)
        router.add("GET", "/jobs/query", self.list_jobs)
        router.add("GET", "/jobs/query/{job_id}", self.get)
        router.add("PATCH", "/jobs/query/{job_id}", self.abort)
        router.add("DELETE", "/jobs/query/{job_id}", self.delete)
        router.add("GET", "/jobs/query/{job_id}/results", self.results)

    def _available(self, req: Request) -> None:
        if float(req.version) < 47.0:  # BULK: query jobs exist from API 47.0
            raise not_found()

    def _job(self, req: Request, job_id: str) -> QueryJob:
        self._available(req)
        job = self.jobs.jobs.get(job_id)
        if job is None:
            raise not_found()  # [unverified]: the code a real org gives an unknown job id
        return job

    # --- create ------------------------------------------------------------------------------

    async def create(self, req: Request) -> ApiResponse:
        self._available(req)
        body = _json_object(req.body)
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise invalid_job(f"Invalid operation: {operation!s}. Query jobs accept query or "
                              "queryAll.")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise invalid_job("A query must be specified for a query job.")
        if body.get("contentType", "CSV") != "CSV":
            raise invalid_job("contentType must be CSV.")
        delimiter = body.get("columnDelimiter", "COMMA")
        if delimiter not in DELIMITERS:
            raise invalid_job(f"Invalid columnDelimiter: {delimiter!s}.")
        ending = body.get("lineEnding", "LF")
        if ending not in LINE_ENDINGS:
            raise invalid_job(f"Invalid lineEnding: {ending!s}.")
        # The SOQL engine first (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE as for REST)...
        q = prepare(soql, self.org.visible, include_deleted=operation == "queryAll",
                    now=datetime.now(UTC), api_version=req.version)
        if q.sobject in self.jobs.unsupported:
            raise ApiError(400, "INVALIDENTITY",
                           f"Entity '{q.sobject}' is not supported by the Bulk API.")
        select = parse(soql)
        _refuse_unsupported_soql(select)  # ...then what Bulk 2.0 cannot run
        if _selects_compound(select, self.org.visible):
            # The exact answer salesforcer's tests record from a real org (test-query.R).
            raise ApiError(400, "API_ERROR", "Selecting compound data not supported in Bulk Query")
        if self.jobs.daily.exhausted():
            raise ApiError(400, "LIMIT_EXCEEDED", "Exceeded the maximum of "  # [unverified]
                           f"{self.jobs.daily.daily_limit} query jobs in 24 hours.")
        self.jobs.daily.record()
        job = QueryJob(self.jobs.new_id(), operation, q.sobject, soql, req.version,
                       self.org.user_id, delimiter, ending)
        self.jobs.add(job)
        job.task = asyncio.create_task(self._run(job))
        return ApiResponse(200, job.info())

    async def _run(self, job: QueryJob) -> None:
        """UploadComplete → InProgress → JobComplete (or Failed); an abort stops it."""
        await self.jobs.running.wait()
        if job.state != "UploadComplete":
            return
        job.set_state("InProgress")
        await asyncio.sleep(0)  # a poll may see InProgress
        failure = self.jobs.fail_with
        if failure is None:
            try:
                header, lines = await self._chunked(job)
            except SoqlError as err:
                failure = f"{err.error_code}: {err.message}"
            except Exception as err:  # a bug must end the job as Failed, not hang it
                log.exception("demo org: bulk query job %s failed", job.id)
                failure = f"UNKNOWN_EXCEPTION: {type(err).__name__}"
        if failure is None:
            await asyncio.sleep(max(0.0, self.jobs.processing_seconds(len(lines))))
            cost = self.org.cost  # the cost model's job time (cost_model.py), 0 while it is off
            await cost.spend(cost.bulk_seconds(len(lines), query_shape(parse(job.soql))))
        if job.state != "InProgress":  # aborted (or deleted) while it ran
            return
        if failure is not None:
            job.error_message = failure
            job.set_state("Failed")
            return
        job.header, job.lines, job.processed = header, lines, len(lines)
        job.set_state("JobComplete")

    async def _chunked(self, job: QueryJob) -> tuple[str, list[str]]:
        """The job's rows, by Id range when PK chunking applies (``QueryJobs.chunk_rows``):
        the ranges' bounds from one Id-only pass, then each range's rows by a query of that
        range alone, run when its turn comes (rows changed meanwhile show as changed)."""
        select, size = parse(job.soql), self.jobs.chunk_rows
        if not size or select.order_by or select.limit is not None:
            return await asyncio.to_thread(self._execute, job, select)
        ids_only = dataclasses.replace(select, items=[soql_ast.SelectItem(_id_path())])
        ids = await asyncio.to_thread(lambda: sorted(r["Id"] for r in self._records(job, ids_only)))
        highs: list[str | None] = [*ids[size - 1:-1:size], None]  # each range's last Id
        header, lines, low = "", [], None
        for n, high in enumerate(highs):
            if n and self.jobs.between_chunks is not None:
                await self.jobs.between_chunks(job, n)
            header, part = await asyncio.to_thread(self._execute, job,
                                                   _id_range(select, low, high))
            lines.extend(part)
            low = high
        return header, lines

    def _records(self, job: QueryJob, select: soql_ast.Select) -> Iterator[dict[str, Any]]:
        """``select``'s records, streamed (a reader connection held until the last)."""
        q = prepare_select(select, job.soql, self.org.visible,
                           include_deleted=job.operation == "queryAll",
                           now=datetime.now(UTC), api_version=job.api_version)
        conn = self.org.store.reader()
        try:
            yield from q.records(conn)
        finally:
            conn.close()

    def _execute(self, job: QueryJob, select: soql_ast.Select) -> tuple[str, list[str]]:
        """The rows of ``select`` (the job's query, or one Id range of it) as CSV lines."""
        paths = column_paths((item.expr.parts for item in select.items
                              if isinstance(item.expr, soql_ast.Path)),
                             select.sobject, select.alias)
        return csv_rows(self._records(job, select), paths, DELIMITERS[job.column_delimiter],
                        LINE_ENDINGS[job.line_ending])

    # --- read, abort, delete ----------------------------------------------------------------

    async def get(self, req: Request, job_id: str) -> ApiResponse:
        return ApiResponse(200, self._job(req, job_id).info())

    async def list_jobs(self, req: Request) -> ApiResponse:
        """Get Information About All Query Jobs (BULK query_get_all_jobs.htm, API 47.0+:
        developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
        query_get_all_jobs.htm). Parameters: ``jobType`` (Classic = Bulk API 1.0 jobs,
        V2Query, V2Ingest), ``concurrencyMode`` (serial | parallel; only parallel exists),
        ``isPkChunkingEnabled`` (true: Bulk API 1.0 jobs with PK chunking only),
        ``queryLocator`` (taken from the previous answer's nextRecordsUrl, never made up).
        Answer: ``{"done", "records": [job info], "nextRecordsUrl"}``, every user's jobs, in
        no set order ("returned in an indeterminate order"), at most 1,000 a page, and
        ``nextRecordsUrl`` null when no more remain (the page's response parameters); a
        record has the 13 job info fields of the page's example body (no
        numberRecordsProcessed, retries or totalProcessingTime, and no query text). Ours has
        no Bulk API 1.0 or ingest jobs, so those filters find none. [unverified]: the locator's
        format (ours: base64 of the next offset), a bad locator's error, and that
        concurrencyMode matches case-insensitively."""
        self._available(req)
        kind = req.query.get("jobType")
        mode = (req.query.get("concurrencyMode") or "parallel").lower()
        pk_only = (req.query.get("isPkChunkingEnabled") or "").lower() == "true"
        wanted = kind in (None, "V2Query") and mode == "parallel" and not pk_only
        jobs = list(self.jobs.jobs.values()) if wanted else []
        locator = req.query.get("queryLocator")
        start = 0 if locator is None else decode_locator(locator, req.version)
        if start is None or start > len(jobs):
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")  # [unverified]
        chunk = jobs[start:start + self.jobs.list_page]
        done = start + len(chunk) >= len(jobs)
        next_url = None if done else (f"/services/data/v{req.version}/jobs/query?queryLocator="
                                      f"{encode_locator(start + len(chunk), req.version)}")
        return ApiResponse(200, {"done": done, "records": [j.list_info() for j in chunk],
                                 "nextRecordsUrl": next_url})

    async def abort(self, req: Request, job_id: str) -> ApiResponse:
        job = self._job(req, job_id)
        if _json_object(req.body).get("state") != "Aborted":
            raise invalid_job("A query job's state can only be set to Aborted.")
        if job.state in FINAL_STATES:
            raise invalid_job(f"Job {job.id} is already {job.state} and cannot be aborted.")
        job.set_state("Aborted")
        return ApiResponse(200, job.info())

    async def delete(self, req: Request, job_id: str) -> ApiResponse:
        job = self._job(req, job_id)
        if job.state not in FINAL_STATES:  # BULK query_delete_job.htm: code and message
            raise ApiError(400, "API_ERROR", "Error encountered when deleting the job because "
                                             "the job is not terminated")
        del self.jobs.jobs[job.id]
        if job.task is not None:
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task
        return ApiResponse(204)

    async def results(self, req: Request, job_id: str) -> ApiResponse:
        job = self._job(req, job_id)
        if req.version != job.api_version:  # BULK: the 409 is documented; the body [unverified]
            raise ApiError(409, "INVALIDJOB", f"Job {job.id} was created in API version "
                                              f"{job.api_version}; read its results with it.")
        if job.state != "JobComplete":  # BULK query_get_job_results (v47 page): 412 body
            status = _UPPER.get(job.state, job.state.upper())
            raise ApiError(412, "JOB_NOT_COMPLETE", "can only download query results of "
                           "successfully completed bulk job with status: JOB_COMPLETE. Current "
                           f"status: {status}")
        max_records = _max_records(req.query.get("maxRecords"))
        locator = req.query.get("locator") or ""
        offset = 0 if not locator else decode_locator(locator, job.api_version)
        if offset is None or offset > len(job.lines):
            raise invalid_job(f"Invalid locator: {locator}")  # [unverified]
        text, count, next_locator = job.page(offset, max_records)
        return ApiResponse(200, text, {"Sforce-Locator": next_locator,
                                       "Sforce-NumberOfRecords": str(count)},
                           content_type="text/csv")


def _id_path() -> soql_ast.Path:
    return soql_ast.Path(("Id",), 0)


def _id_range(select: soql_ast.Select, low: str | None,
              high: str | None) -> soql_ast.Select:
    """``select`` narrowed to the rows whose Id is in (low, high] (an open end: None)."""
    bounds: list[soql_ast.Condition] = [
        soql_ast.Compare(_id_path(), op, soql_ast.Literal("string", value, 0), 0)
        for op, value in ((">", low), ("<=", high)) if value is not None]
    parts = [select.where, *bounds] if select.where is not None else bounds
    if not parts:
        return select
    where = parts[0] if len(parts) == 1 else soql_ast.BoolOp("AND", parts)
    return dataclasses.replace(select, where=where)


def _max_records(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE
    if not raw.isdigit() or int(raw) < 1:
        raise invalid_job(f"maxRecords must be a positive whole number, not '{raw}'.")
    return int(raw)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object.")
    return body


def _refuse_unsupported_soql(select: soql_ast.Select) -> None:
    """What Bulk 2.0 cannot run (BULK query_create_job.htm); each message is [unverified]."""
    if select.count_only or any(isinstance(i.expr, soql_ast.Aggregate) for i in select.items):
        raise invalid_job("Aggregate functions such as COUNT() are not supported in Bulk API "
                          "2.0 queries.")
    if select.group_by:
        raise invalid_job("GROUP BY is not supported in Bulk API 2.0 queries.")
    if select.offset is not None:
        raise invalid_job("OFFSET is not supported in Bulk API 2.0 queries.")
    if any(isinstance(i.expr, soql_ast.Select) for i in select.items):
        # Code and message as a real org answers (salesforcer tests/testthat/test-query.R).
        raise ApiError(400, "API_ERROR", "Aggregate Relationships not supported in Bulk V2 "
                       "Query with CSV content type")


def _selects_compound(select: soql_ast.Select, catalog: Catalog) -> bool:
    """Whether a select item is a compound field (BillingAddress, Account.BillingAddress)."""
    root = catalog.get(select.sobject)
    for item in select.items:
        if not isinstance(item.expr, soql_ast.Path) or root is None:
            continue
        parts = column_paths([item.expr.parts], select.sobject, select.alias)[0]
        obj = root
        for rel in parts[:-1]:
            ref = obj.relationship(rel) if obj is not None else None
            obj = catalog.get(ref.reference_to[0]) if ref and ref.reference_to else None
        fdef = obj.field(parts[-1]) if obj is not None else None
        if fdef is not None and not fdef.stored:
            return True
    return False
