"""Bulk API 2.0 query jobs, read-only: create (query / queryAll), poll, stream results, abort,
delete — every call through ``SalesforceClient.request`` (guard, auth, retries, usage counting).

The guard lets exactly these writes through: creating a *query* job, aborting one (PATCH state
Aborted) and deleting one; Bulk ingest jobs stay refused.

Whatever Bulk cannot do for a query — an object it does not support (``INVALIDENTITY``), a job
that ends Failed or Aborted, a job gone before its results were read, the daily job cap, an API
version without query jobs — raises ``BulkUnavailable``: the caller reads the same rows by REST.
Salesforce's documentation: developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
(query_create_job, query_get_one_job, query_get_job_results, query_abort_job, query_delete_job,
query_get_all_jobs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from smvue_tui.salesforce.bulk_csv import CsvRecords
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    RateLimitExceeded,
    SalesforceError,
    ServerUnavailable,
)
from smvue_tui.salesforce.requester import json_body

log = logging.getLogger(__name__)

FINAL = ("JobComplete", "Failed", "Aborted")
MAX_RECORDS = 10_000  # rows per results page: ~1–5 MB of CSV; bounds what one page holds
NO_MORE = "null"  # Sforce-Locator on the last page (the literal string)


class BulkUnavailable(SalesforceError):
    """Bulk API 2.0 cannot serve this query (or this job is gone): read it by REST."""


@dataclass(frozen=True)
class BulkPage:
    """One results page, kept as the CSV bytes it came as (a few MB) until read."""

    data: bytes
    next_locator: str | None  # None after the last page
    number: int  # records in this page (Sforce-NumberOfRecords)
    rows: CsvRecords
    job_id: str = ""

    def batches(self, size: int = 2000) -> Iterator[list[dict[str, Any]]]:
        """REST-shaped records in lists of ≤ ``size``, parsed as asked for; a page holding
        another number of rows than its header said raises ``BulkUnavailable`` at its end."""
        seen = 0
        try:
            for batch in self.rows.batches(self.data, size):
                seen += len(batch)
                yield batch
        except SalesforceError as exc:  # results it cannot read: REST, not the job again
            raise BulkUnavailable(f"Bulk job {self.job_id}: {exc.detail}",
                                  code=exc.code) from None
        if seen != self.number:
            raise BulkUnavailable(f"Bulk job {self.job_id}: a page said {self.number} records "
                                  f"but held {seen}", code="BAD_BULK_CSV")

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for batch in self.batches(1 << 30) for record in batch]


# The options every job we create has (``create``); ``sync.bulk_orphans`` knows ours by them.
JOB_OPTIONS = {"contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}


class BulkQueries:
    """Bulk 2.0 query jobs on one logged-in ``SalesforceClient``.

    ``poll_first``/``poll_max``: seconds between job-state polls, doubling from the first to the
    cap. The cap bounds how long a finished job sits unread: at 10 s, jobs done just after a poll
    waited 4–10 s. 2 s costs a poll per job per 2 s, a call of a few hundred bytes, and is what
    the peers settle on: simple-salesforce 1.12.10 (bulk2.py ``wait_for_job``) waits 0.5 s, then
    0.5 + eⁿ/1000 s until past ``MAX_CHECK_INTERVAL_SECONDS = 2.0`` (~3.5 s from the 9th poll);
    Airbyte's source-salesforce 2.10.3 polls every running job in one loop every 5 s
    (airbyte-cdk 7.39 ``AsyncJobOrchestrator``); the Singer tap waits a flat 20 s.
    ``max_wait``: a job still not finished after this long is aborted and reported unavailable
    (a job stuck InProgress forever — peers.md, complaint 11 — must not hang the sync).
    """

    def __init__(self, client: Any, *, poll_first: float = 0.25, poll_max: float = 2.0,
                 max_wait: float = 3600.0, max_records: int = MAX_RECORDS,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.client = client
        self.poll_first = poll_first
        self.poll_max = poll_max
        self.max_wait = max_wait
        self.max_records = max_records
        self.jobs_created = 0
        self._sleep = sleep

    def _path(self, job_id: str = "", version: str | None = None, tail: str = "") -> str:
        version = version or self.client.api_version
        path = f"/services/data/v{version}/jobs/query"
        return path + (f"/{job_id}" if job_id else "") + tail

    async def create(self, soql: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """Create a query (``queryAll`` when ``include_deleted``) job; returns its job info."""
        body = {"operation": "queryAll" if include_deleted else "query", "query": soql,
                **JOB_OPTIONS}
        try:
            info = json_body(await self.client.request("POST", self._path(), json=body))
        except SalesforceError as exc:
            raise _unavailable(exc) from None
        self.jobs_created += 1
        if not isinstance(info, dict) or not info.get("id"):
            raise BulkUnavailable("Bulk API answered a job create without a job id",
                                  code="BAD_RESPONSE")
        return info

    async def info(self, job_id: str) -> dict[str, Any]:
        try:
            body = json_body(await self.client.request("GET", self._path(job_id)))
        except SalesforceError as exc:
            raise _unavailable(exc) from None
        if not isinstance(body, dict):
            raise BulkUnavailable(f"Bulk job {job_id}: unexpected job info", code="BAD_RESPONSE")
        return body

    async def all_jobs(self) -> AsyncIterator[dict[str, Any]]:
        """Every Bulk API 2.0 query job of the org, any user's ("Get Information About All Query
        Jobs": GET jobs/query?jobType=V2Query — ``{done, records: [job info], nextRecordsUrl}``,
        up to 1,000 jobs a page, the next page at ``nextRecordsUrl`` until ``done``). The job
        infos carry no query text."""
        url, params = self._path(), {"jobType": "V2Query"}
        while True:
            try:
                body = json_body(await self.client.request("GET", url, params=params))
            except SalesforceError as exc:
                raise _unavailable(exc) from None
            if not isinstance(body, dict) or not isinstance(body.get("records", []), list):
                raise BulkUnavailable("Bulk API answered the job list in an unexpected shape",
                                      code="BAD_RESPONSE")
            for job in body.get("records") or []:
                if isinstance(job, dict):
                    yield job
            following = body.get("nextRecordsUrl")
            if body.get("done", True) or not following:
                return
            if following == url:
                raise BulkUnavailable("Bulk API repeated the job list's next page",
                                      code="BAD_PAGING")
            url, params = str(following), None  # the locator is in the URL

    async def wait(self, job_id: str) -> dict[str, Any]:
        """Poll until the job is JobComplete (returns its info); Failed/Aborted or too slow →
        ``BulkUnavailable`` (a job given up on is aborted first)."""
        delay = self.poll_first
        deadline = time.monotonic() + self.max_wait
        while True:
            info = await self.info(job_id)
            state = info.get("state")
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                why = info.get("errorMessage") or state
                raise BulkUnavailable(f"Bulk job {job_id} ended {state}: {why}",
                                      code="BULK_JOB_" + str(state).upper())
            if time.monotonic() >= deadline:
                await self.abort(job_id)
                raise BulkUnavailable(f"Bulk job {job_id} still {state} after "
                                      f"{self.max_wait:.0f} s; aborted", code="BULK_JOB_STUCK")
            await self._sleep(delay)
            delay = min(self.poll_max, delay * 2)

    async def pages(self, job_id: str, types: Mapping[str, str], *,
                    locator: str | None = None, version: str | None = None
                    ) -> AsyncIterator[BulkPage]:
        """The job's result pages from ``locator`` (None: the first), each parsed into
        REST-shaped records (``bulk_csv``). A locator may be read again while the job exists,
        so a caller that saved ``next_locator`` with its last stored page resumes there."""
        rows = CsvRecords(types)
        while True:
            params = {"maxRecords": str(self.max_records)}
            if locator:
                params["locator"] = locator
            try:
                response = await self.client.request(
                    "GET", self._path(job_id, version, "/results"), params=params,
                    headers={"Accept": "text/csv"})
            except SalesforceError as exc:
                raise _unavailable(exc) from None
            following = response.headers.get("Sforce-Locator") or NO_MORE
            try:
                count = int(response.headers.get("Sforce-NumberOfRecords") or -1)
            except ValueError:
                count = -1
            if count < 0:
                raise BulkUnavailable(f"Bulk job {job_id}: a results page without its record "
                                      "count", code="BAD_RESPONSE")
            done = following == NO_MORE
            if not done and following == locator:
                raise BulkUnavailable(f"Bulk job {job_id}: the results locator repeated",
                                      code="BAD_PAGING")
            yield BulkPage(response.content, None if done else following, count, rows, job_id)
            if done:
                return
            locator = following

    async def abort(self, job_id: str) -> None:
        """Abort an unfinished job (best effort: it may have finished meanwhile)."""
        with contextlib.suppress(SalesforceError):
            await self.client.request("PATCH", self._path(job_id), json={"state": "Aborted"})

    async def delete(self, job_id: str, version: str | None = None) -> None:
        """Delete a finished job and its results (best effort; Salesforce drops them after
        7 days anyway). An unfinished job is aborted first: only terminated jobs delete."""
        try:
            await self.client.request("DELETE", self._path(job_id, version))
        except (AuthorizationError, RateLimitExceeded):
            raise
        except SalesforceError as exc:
            if exc.status != 400:
                return
            await self.abort(job_id)
            with contextlib.suppress(SalesforceError):
                await self.client.request("DELETE", self._path(job_id, version))


def _unavailable(exc: SalesforceError) -> SalesforceError:
    """What a failed Bulk call means: the login or the daily API limit are the sync's problem
    (raised as they are); the rest means this query goes by REST."""
    if isinstance(exc, AuthorizationError | RateLimitExceeded | ServerUnavailable):
        return exc
    new = BulkUnavailable(exc.detail, code=exc.code, status=exc.status)
    return new
