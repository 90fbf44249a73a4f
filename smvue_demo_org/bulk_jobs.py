"""Bulk API 2.0 query jobs: the job records, their states, and their CSV results.

The HTTP face (routes, error bodies) is bulk_routes.py. What is modelled, and where each fact
comes from (BULK = Salesforce's "Bulk API 2.0 and Bulk API Developer Guide",
developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/, pages read in a stored
copy; [unverified] = not found in any stored source, kept from memory or chosen by us):

- Job ids start with "750" (the AsyncApexJob/Bulk job key prefix) — salesforcer's
  sf_query_result_bulk_v2 reference ("It will start with 750").
- Create answers the job info with state UploadComplete; the job then goes InProgress and ends
  JobComplete, Failed (with ``errorMessage``) or Aborted — BULK query_walkthrough.htm, "Create a
  Query Job" (query_create_job.htm) and the JobInfo reference.
- Job info fields: id, operation, object, createdById, createdDate, systemModstamp, state,
  concurrencyMode "Parallel", contentType "CSV", apiVersion (a number), lineEnding,
  columnDelimiter — BULK query_walkthrough.htm example bodies; jobType "V2Query",
  numberRecordsProcessed, retries, totalProcessingTime — BULK query_get_one_job (field list as
  given by vlocode's QueryJobInfo interface, itself from the guide).
- columnDelimiter BACKQUOTE CARET COMMA PIPE SEMICOLON TAB (default COMMA); lineEnding LF or CRLF
  (default LF); contentType only CSV — BULK query_create_job.htm.
- operation query (no deleted rows) or queryAll (deleted and archived rows too) — same page.
- Not supported in a Bulk 2.0 query: GROUP BY, OFFSET, TYPEOF, aggregate functions,
  parent-to-child subqueries, compound fields (child-to-parent fields are fine); LIMIT and ORDER BY
  are accepted but disable PK chunking — BULK query_create_job.htm and queries.htm.
- Results: GET .../results?locator=&maxRecords=, CSV, headers Sforce-NumberOfRecords (records in
  this set) and Sforce-Locator (the next set's locator; the string "null" on the last set); a
  locator can be reused while the job exists; the job must be JobComplete; results must be read
  with the API version the job was created with, else 409 — BULK query_get_job_results.htm.
  simple-salesforce's bulk2.py reads exactly these two headers and stops on "null".
- Datetimes in Bulk CSV end in "Z" (2024-04-16T19:00:00.000Z), where REST has "+0000"; doubles
  print as 100.0 — Celigo's "Salesforce Bulk API 2.0 Guide" (a vendor's table, not Salesforce).
- Every value quoted ("Id","Name" / "005R...","Jane Dunn") — BULK query_get_job_results.htm
  example; a null as an empty unquoted field [unverified]. Columns in the order the query asks
  for them from API 50.0 (alphabetical before; not modelled: our versions are 59.0+) — same page.
- Results of a job not JobComplete: 412 JOB_NOT_COMPLETE "can only download query results of
  successfully completed bulk job with status: JOB_COMPLETE. Current status: IN_PROGRESS" —
  the same page, API 47.0 edition (atlas 222.0).
- Sforce-Locator: a number up to API 48.0, an opaque string like "MTAwMDA" from 49.0 — same
  page (228.0 edition). Ours is base64 of the next row offset ("MTAwMDA" = "10000") [unverified
  that Salesforce's is].
- Without maxRecords the server picks a default "based on the service"; ours is DEFAULT_PAGE
  rows [unverified].
- Delete only a JobComplete, Aborted or Failed job, else 400 API_ERROR "Error encountered when
  deleting the job because the job is not terminated"; success is 204 with no body — BULK
  query_delete_job.htm. GET /jobs/query lists every user's query jobs, 1,000 a page, as
  {done, records, nextRecordsUrl}, filtered by jobType / concurrencyMode / isPkChunkingEnabled,
  paged by queryLocator; a record has 13 job info fields, no query text — BULK
  query_get_all_jobs.htm (its example body), get_all_jobs.htm (the 1,000 rows). Query jobs
  exist from API 47.0 — every page above.
- At most 10,000 query jobs per rolling 24 hours, reported as DailyBulkV2QueryJobs by /limits —
  BULK bulk_api_2_limits.htm (atlas 228.0); the error a job over that limit gets
  [unverified]. Results are "always compressed" (gzip when the client accepts it) — BULK
  queries.htm (atlas 242.0).
- Objects the Bulk API does not query answer 400 INVALIDENTITY "Entity 'X' is not supported by
  the Bulk API." — real bodies quoted in airbytehq/airbyte issues #7518 and #13088. Which of the
  demo org's objects are unsupported (``BULK_UNSUPPORTED``) is [unverified]; it is a knob.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smvue_demo_org.ids import make_id
from smvue_demo_org.limits import ApiUsage

DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|", "SEMICOLON": ";",
              "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
FINAL_STATES = ("JobComplete", "Failed", "Aborted")
EXTRA_KEY = "bulk_query_jobs"  # where an org keeps its QueryJobs (/limits, tests' knobs)
DAILY_QUERY_JOBS = 10_000  # per rolling 24 hours, shown as DailyBulkV2QueryJobs
DEFAULT_PAGE = 50_000  # rows in a set when maxRecords is not given [unverified]
# Jobs per GET /jobs/query answer: at most 1,000 result rows a request — BULK
# query_get_all_jobs.htm (nextRecordsUrl), get_all_jobs.htm.
LIST_PAGE = 1000
# The job info fields a GET /jobs/query record has (BULK query_get_all_jobs.htm's example).
LIST_FIELDS = ("id", "operation", "object", "createdById", "createdDate", "systemModstamp",
               "state", "concurrencyMode", "contentType", "apiVersion", "jobType",
               "lineEnding", "columnDelimiter")
# Setup objects we believe Bulk does not query [unverified]; tests and benchmarks may change it.
BULK_UNSUPPORTED = frozenset({"OpportunityStage", "BusinessProcess"})


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class QueryJob:
    id: str
    operation: str  # query | queryAll
    sobject: str
    soql: str
    api_version: str  # "67.0"
    created_by: str
    column_delimiter: str = "COMMA"
    line_ending: str = "LF"
    state: str = "UploadComplete"
    error_message: str | None = None
    created: str = field(default_factory=_stamp)
    modstamp: str = ""
    header: str = ""  # the CSV header line, line ending included
    lines: list[str] = field(default_factory=list)  # one CSV row each, line ending included
    processed: int = 0
    started: float = field(default_factory=time.monotonic)
    processing_ms: int = 0
    task: asyncio.Task[None] | None = None

    def info(self) -> dict[str, Any]:
        """The job info body (create, get, abort and the list answer this)."""
        body: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.sobject,
            "createdById": self.created_by, "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(self.api_version), "jobType": "V2Query",
            "lineEnding": self.line_ending, "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": self.processed, "retries": 0,
            "totalProcessingTime": self.processing_ms,
        }
        if self.error_message is not None:
            body["errorMessage"] = self.error_message
        return body

    def list_info(self) -> dict[str, Any]:
        """The job as GET /jobs/query lists it (fewer fields than ``info``)."""
        info = self.info()
        return {k: info[k] for k in LIST_FIELDS}

    def set_state(self, state: str) -> None:
        self.state = state
        self.modstamp = _stamp()
        if state in FINAL_STATES:
            self.processing_ms = int((time.monotonic() - self.started) * 1000)

    def page(self, offset: int, max_records: int) -> tuple[str, int, str]:
        """(CSV text, records in it, next locator or "null") for the set starting at offset."""
        rows = self.lines[offset:offset + max_records]
        end = offset + len(rows)
        locator = encode_locator(end, self.api_version) if end < len(self.lines) else "null"
        return self.header + "".join(rows), len(rows), locator


def encode_locator(offset: int, api_version: str = "67.0") -> str:
    if float(api_version) < 49.0:  # BULK: a number up to 48.0, an opaque string from 49.0
        return str(offset)
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str, api_version: str = "67.0") -> int | None:
    """The row offset a locator names, or None when it is not one of ours."""
    if float(api_version) < 49.0:
        return int(locator) if locator.isdigit() else None
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text) if text.isdigit() else None


class QueryJobs:
    """The Bulk 2.0 query jobs of one org, and the knobs tests turn."""

    def __init__(self) -> None:
        self.jobs: dict[str, QueryJob] = {}
        self.daily = ApiUsage(DAILY_QUERY_JOBS)  # jobs created in the last 24 hours
        self.unsupported: set[str] = set(BULK_UNSUPPORTED)
        self.fail_with: str | None = None  # the next jobs fail with this errorMessage
        # Seconds a job of N rows stays InProgress after its query ran: the hook the cost model
        # (issue 15, item 2) sets; 0 until then, so a job completes as fast as SQLite reads.
        self.processing_seconds: Callable[[int], float] = lambda rows: 0.0
        # Cleared (paused): jobs wait in UploadComplete, so tests can watch and abort them.
        self.running = asyncio.Event()
        self.running.set()
        # PK chunking: Bulk API 2.0 chunks a large query job itself when the object supports it,
        # and ORDER BY or LIMIT turn that off — BULK queries.htm ("Chunking Query Jobs", "SOQL
        # Considerations") and bulk_api_2_0_troubleshoot_query_timeouts.htm ("Troubleshooting
        # Query Timeouts"). A chunk is an Id range added to the WHERE clause — BULK
        # async_api_headers_enable_pk_chunking.htm ("PK Chunking", Bulk API 1.0: default 100,000
        # rows, at most 250,000). [unverified]: that 2.0 chunks by Id range too, its chunk size,
        # which objects it chunks (here any), and that ranges run one after another (queries.htm
        # says sub-batches run in parallel); so "a job's rows are not one snapshot, a row in a
        # range already read may change while a later range runs" is our inference, not a doc.
        # ``chunk_rows`` rows per range (None: one pass, the default) and
        # ``between_chunks(job, n)`` awaited before range n (n ≥ 1): the hook tests change rows by.
        self.chunk_rows: int | None = None
        self.between_chunks: Callable[[QueryJob, int], Awaitable[Any]] | None = None
        self.list_page = LIST_PAGE  # jobs per GET /jobs/query page (tests page with fewer)
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return make_id("750", next(self._counter))

    def add(self, job: QueryJob) -> None:
        self.jobs[job.id] = job

    def close_all(self) -> None:
        for job in self.jobs.values():
            if job.task is not None:
                job.task.cancel()


def csv_value(value: Any) -> str:
    """One field as Bulk CSV prints it: quoted, quotes doubled; null empty and unquoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str) and len(value) == 28 and value.endswith("+0000") \
            and value[10] == "T":
        text = value[:-5] + "Z"  # REST's 2024-04-16T19:00:00.000+0000 → Bulk's ...000Z
    else:
        text = str(value)
    return '"' + text.replace('"', '""') + '"'


def column_paths(items: Iterable[tuple[str, ...]], sobject: str,
                 alias: str | None) -> list[tuple[str, ...]]:
    """Select-item paths without a leading object name or alias (``Opportunity.Name``)."""
    prefixes = {sobject.lower()} | ({alias.lower()} if alias else set())
    paths = []
    for parts in items:
        if len(parts) > 1 and parts[0].lower() in prefixes:
            parts = parts[1:]
        paths.append(parts)
    return paths


def _lookup(record: dict[str, Any] | None, parts: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The value at ``parts`` in a REST-shaped record (keys matched ignoring case), and the
    canonical key names found on the way."""
    names: list[str] = []
    value: Any = record
    for part in parts:
        if not isinstance(value, dict):
            return None, []
        key = next((k for k in value if k.lower() == part.lower() and k != "attributes"), None)
        if key is None:
            return None, []
        names.append(key)
        value = value[key]
    return value, names


def csv_rows(records: Iterable[dict[str, Any]], paths: list[tuple[str, ...]],
             delimiter: str, newline: str) -> tuple[str, list[str]]:
    """(header line, data lines) of REST-shaped records flattened to the selected columns."""
    headers: list[str | None] = [None] * len(paths)
    known: list[list[str] | None] = [None] * len(paths)  # canonical keys, once seen
    lines: list[str] = []
    for record in records:
        cells = []
        for i, parts in enumerate(paths):
            names = known[i]
            if names is not None:  # the fast path: plain dict walks, no case folding
                value: Any = record
                for name in names:
                    value = value.get(name) if isinstance(value, dict) else None
            else:
                value, names = _lookup(record, parts)
                if len(names) == len(parts):
                    known[i], headers[i] = names, ".".join(names)
            cells.append(csv_value(value))
        lines.append(delimiter.join(cells) + newline)
    header = delimiter.join(csv_value(h or ".".join(p)) for h, p in zip(headers, paths,
                                                                         strict=True))
    return header + newline, lines
