"""The read-only Salesforce REST client the sync engine uses.

Every call goes through ``SalesforceClient.request`` (see ``requester.py``): read-only guard,
auth header, explicit timeouts, bounded retries, one token refresh on 401, API-usage readings and
the budget for non-essential calls.

Record shape (all methods that return records): plain dicts as Salesforce sends them, with every
``attributes`` key removed recursively (the caller knows what it queried; pass
``keep_attributes=True`` to ``query_pages`` for ``attributes.type``/``url``). Child subqueries that
Salesforce truncated (``done: false`` + ``nextRecordsUrl``) are fetched to the end before the page
is returned, so every nested result handed out has ``done: true``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from smvue_tui.salesforce.errors import (
    InvalidQueryLocator,
    QueryError,
    SalesforceError,
    from_rest_body,
)
from smvue_tui.salesforce.guard import RequestLog
from smvue_tui.salesforce.records import (
    drop_attributes,
    is_flat,
    strip_attributes,
    unfinished_children,
)
from smvue_tui.salesforce.requester import Requester, SessionLike, Sleep, json_body
from smvue_tui.salesforce.usage import ApiUsage

__all__ = ["QueryPage", "SalesforceClient", "SessionLike", "composite_error"]

log = logging.getLogger(__name__)

MIN_BATCH, MAX_BATCH = 200, 2000
MAX_COMPOSITE = 25
MAX_COLLECTION_IDS = 2000


@dataclass
class QueryPage:
    """One page of a query. ``records`` have ``attributes`` stripped unless asked to keep them.

    ``next_url`` is the (relative) ``nextRecordsUrl`` of this page, None on the last one.
    ``page_number`` counts from 1; ``records_seen`` includes this page's records.
    """

    records: list[dict[str, Any]]
    total_size: int
    done: bool
    next_url: str | None
    page_number: int = 1
    records_seen: int = 0


class SalesforceClient:
    """Read-only REST client. Use as ``async with SalesforceClient(session) as sf: ...``.

    ``max_retries``: extra attempts after the first on 5xx, dropped connections and timeouts,
    with backoff uniform(0, min(30 s, backoff_base * 2**n)). ``budget_share``: non-essential
    calls stop (``BudgetExceeded``, nothing sent) once the org's reported usage reaches this
    share of its daily limit. ``sleep`` and ``rng`` are for tests; ``recorder`` receives every
    method+path the read-only guard lets through.
    """

    # Keep GET URLs under 8 KB: Salesforce takes 16 KB, but proxies and aiohttp's default
    # request-line limit (the demo org) stop at 8 KB.
    max_url_bytes = 8000

    def __init__(self, session: SessionLike, *, api_version: str = "66.0", timeout: float = 60.0,
                 max_retries: int = 5, backoff_base: float = 0.5, budget_share: float = 0.8,
                 transport: httpx.AsyncBaseTransport | None = None,
                 rng: random.Random | None = None, sleep: Sleep | None = None,
                 recorder: RequestLog | None = None) -> None:
        self._rq = Requester(session, api_version=api_version, timeout=timeout,
                             max_retries=max_retries, backoff_base=backoff_base,
                             budget_share=budget_share, transport=transport, rng=rng,
                             sleep=sleep, recorder=recorder)
        self.session = session
        self._cache: dict[str, dict[str, Any]] = {}
        self._cache_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- lifecycle and plumbing ----------------------------------------------------------------

    async def aclose(self) -> None:
        await self._rq.aclose()

    async def __aenter__(self) -> SalesforceClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def usage(self) -> ApiUsage:
        """The latest ``Sforce-Limit-Info`` reading: used, max, share, resets_at()."""
        return self._rq.usage

    @property
    def calls_sent(self) -> int:
        """Requests this client sent that got an HTTP answer (our share of the org's usage)."""
        return self._rq.calls_sent

    @property
    def api_version(self) -> str:
        return self._rq.api_version

    @property
    def budget_share(self) -> float:
        return self._rq.budget.share

    def budget_allows(self, *, essential: bool = False) -> bool:
        """Whether a call would pass the budget now (for the UI's "paused" state)."""
        return self._rq.budget.allows(self.usage, essential=essential)

    async def request(self, method: str, path_or_url: str, **kw: Any) -> httpx.Response:
        """The single choke point. ``path_or_url``: ``"sobjects/X"`` (under the versioned base),
        ``"/services/..."``, or an absolute URL on the instance. Keywords: ``essential``
        (default True), ``params``, ``json``, ``content``, ``headers``, ``timeout``."""
        return await self._rq.request(method, path_or_url, **kw)

    async def _get_json(self, path: str, **kw: Any) -> Any:
        return json_body(await self.request("GET", path, **kw))

    # --- versions ------------------------------------------------------------------------------

    async def versions(self) -> list[dict[str, Any]]:
        """``GET /services/data/``: the org's API versions, oldest first (no auth, not counted)."""
        body = json_body(await self.request("GET", "/services/data/", authenticated=False))
        if not isinstance(body, list):
            raise SalesforceError("unexpected versions list from /services/data/")
        return body

    async def negotiate_version(self) -> str:
        """Pin the client to min(our version, the org's newest) and return it."""
        available = [str(v.get("version", "")) for v in await self.versions()]
        keyed = [(key, v) for v in available if (key := _version_key(v))]
        ours = _version_key(self._rq.api_version)
        if keyed and ours and max(keyed)[0] < ours:
            self._rq.api_version = max(keyed)[1]
        return self._rq.api_version

    # --- queries -------------------------------------------------------------------------------

    async def query_pages(self, soql: str, *, include_deleted: bool = False,
                          batch_size: int = MAX_BATCH, essential: bool = True,
                          keep_attributes: bool = False) -> AsyncIterator[QueryPage]:
        """Run ``soql`` (``/queryAll`` when ``include_deleted``) and yield its pages in order,
        following ``nextRecordsUrl``; ``batch_size`` (200–2,000) is sent as
        ``Sforce-Query-Options`` — a hint, Salesforce may return fewer rows per page.

        Cursor contract: if the query locator expires or is evicted mid-way
        (``INVALID_QUERY_LOCATOR``), this raises ``InvalidQueryLocator`` with ``pages_seen``,
        ``records_seen`` and ``soql`` set. Pages already yielded are valid; nothing is retried or
        skipped here. The caller restarts from ITS last checkpoint (e.g. a new query with
        ``WHERE SystemModstamp >= <last committed value>``), never from zero by accident.
        A ``done: false`` page without ``nextRecordsUrl`` or a repeated ``nextRecordsUrl`` raises
        ``QueryError`` instead of ending early. The budget is checked before every page, so a
        non-essential query can stop with ``BudgetExceeded`` between pages (same contract).
        """
        if not MIN_BATCH <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be {MIN_BATCH}–{MAX_BATCH}, got {batch_size}")
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        url: str = "queryAll" if include_deleted else "query"
        params: dict[str, str] | None = {"q": soql}
        pages = seen = 0
        used_urls: set[str] = set()
        flat = is_flat(soql)  # no nested results: skip walking every value of every record
        while True:
            try:
                body = await self._get_json(url, params=params, headers=headers,
                                            essential=essential)
                records = _records_of(body)
                if not flat:
                    await self._finish_children(records, headers, essential)
            except InvalidQueryLocator as err:
                raise _locator_error(err, soql, pages, seen) from None
            if not keep_attributes:
                (drop_attributes if flat else strip_attributes)(records)
            pages += 1
            seen += len(records)
            done = bool(body.get("done", True))
            next_url = None if done else body.get("nextRecordsUrl")
            if not done and (not next_url or next_url in used_urls):
                raise QueryError(f"Salesforce paging stopped after {pages} pages "
                                 f"({seen} records): done=false with "
                                 f"{'a repeated' if next_url else 'no'} nextRecordsUrl",
                                 code="BAD_PAGING")
            if done and seen != int(body.get("totalSize", seen)):
                log.warning("query returned %d records but totalSize was %s", seen,
                            body.get("totalSize"))
            yield QueryPage(records, int(body.get("totalSize", seen)), done, next_url,
                            page_number=pages, records_seen=seen)
            if done:
                return
            used_urls.add(next_url)
            url, params = next_url, None

    async def _finish_children(self, records: list[Any], headers: dict[str, str],
                               essential: bool) -> None:
        """Fetch the rest of every truncated child-subquery result, in place."""
        for child in unfinished_children(records):
            next_url = child.pop("nextRecordsUrl")
            while next_url:
                more = await self._get_json(next_url, headers=headers, essential=essential)
                child["records"].extend(_records_of(more))
                next_url = None if more.get("done", True) else more.get("nextRecordsUrl")
            child["done"] = True

    async def query_all_records(self, soql: str, **kw: Any) -> list[dict[str, Any]]:
        """Every record of a (small) query; same keywords as ``query_pages``."""
        out: list[dict[str, Any]] = []
        async for page in self.query_pages(soql, **kw):
            out.extend(page.records)
        return out

    async def count(self, soql_from_where: str, *, essential: bool = True) -> int:
        """``SELECT COUNT() <soql_from_where>`` (a full ``SELECT COUNT() ...`` is accepted too)."""
        text = soql_from_where.strip()
        soql = text if text[:6].lower() == "select" else f"SELECT COUNT() {text}"
        body = await self._get_json("query", params={"q": soql}, essential=essential)
        return int(body["totalSize"])

    # --- describe (cached for the client's life) ------------------------------------------------

    async def describe_global(self) -> dict[str, Any]:
        """``GET /sobjects/``. Cached; the returned dict is shared — do not mutate it."""
        return await self._cached("", "sobjects")

    async def describe(self, sobject: str) -> dict[str, Any]:
        """``GET /sobjects/{sobject}/describe``. Cached per object (case-insensitive); shared."""
        return await self._cached(sobject.lower(), f"sobjects/{_segment(sobject)}/describe")

    async def _cached(self, key: str, path: str) -> dict[str, Any]:
        async with self._cache_locks[key]:  # concurrent callers share one request
            if key not in self._cache:
                self._cache[key] = await self._get_json(path)
            return self._cache[key]

    # --- replication ---------------------------------------------------------------------------

    async def get_updated(self, sobject: str, start: datetime, end: datetime) -> dict[str, Any]:
        """``/sobjects/X/updated``: ``{"ids", "latestDateCovered"}`` (last 30 days only)."""
        return await self._get_json(f"sobjects/{_segment(sobject)}/updated/",
                                    params=_window(start, end))

    async def get_deleted(self, sobject: str, start: datetime, end: datetime) -> dict[str, Any]:
        """``/sobjects/X/deleted``: ``{"deletedRecords", "earliestDateAvailable",
        "latestDateCovered"}`` (last 15 days only)."""
        return await self._get_json(f"sobjects/{_segment(sobject)}/deleted/",
                                    params=_window(start, end))

    async def limits(self) -> dict[str, Any]:
        """``GET /limits``: ``{"DailyApiRequests": {"Max", "Remaining"}, ...}``."""
        return await self._get_json("limits")

    # --- composite and record fetches ----------------------------------------------------------

    async def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False,
                        essential: bool = True) -> list[dict[str, Any]]:
        """Up to 25 GET subrequests in one API call; returns ``compositeResponse`` items
        (``body``, ``httpStatusCode``, ``referenceId``) as sent — see ``composite_error``.

        Subrequest ``url`` may be relative to the versioned base (``"sobjects/Account/describe"``);
        ``method`` defaults to GET and ``referenceId`` to ``r<index>``.
        """
        if len(subrequests) > MAX_COMPOSITE:
            raise ValueError(f"composite takes at most {MAX_COMPOSITE} subrequests")
        if not subrequests:
            return []
        subs = [{**sub, "method": str(sub.get("method", "GET")).upper(),
                 "url": self._rq.service_path(str(sub["url"])),
                 "referenceId": str(sub.get("referenceId", f"r{i}"))}
                for i, sub in enumerate(subrequests)]
        body = json_body(await self.request(
            "POST", "composite", json={"allOrNone": all_or_none, "compositeRequest": subs},
            essential=essential))
        return list(body.get("compositeResponse", []))

    async def get_record(self, sobject: str, record_id: str,
                         fields: list[str] | None = None) -> dict[str, Any]:
        """One record by Id (``fields`` default: all the user can read); attributes stripped."""
        params = {"fields": ",".join(fields)} if fields else None
        body = await self._get_json(f"sobjects/{_segment(sobject)}/{_segment(record_id)}",
                                    params=params)
        return strip_attributes(body)

    async def get_records(self, sobject: str, ids: list[str], fields: list[str], *,
                          essential: bool = True) -> list[dict[str, Any] | None]:
        """sObject Collections retrieve: records in the order of ``ids`` (None where not found),
        attributes stripped. Chunked to ≤2,000 ids and ``max_url_bytes`` per call."""
        if not fields:
            raise ValueError("get_records needs at least one field")
        field_list = quote(",".join(fields), safe=",")
        path = f"composite/sobjects/{_segment(sobject)}"
        room = self.max_url_bytes - len(self._rq.url_for(path)) - len(field_list) - 20
        out: list[dict[str, Any] | None] = []
        for chunk in _chunks(ids, MAX_COLLECTION_IDS, room):
            # Built by hand so commas stay literal (httpx would spend 3 bytes on each).
            query = f"?ids={','.join(quote(i, safe='') for i in chunk)}&fields={field_list}"
            body = await self._get_json(path + query, essential=essential)
            if not isinstance(body, list) or len(body) != len(chunk):
                raise SalesforceError(f"sObject Collections answered {type(body).__name__} "
                                      f"for {len(chunk)} ids")
            out.extend(strip_attributes(body))
        return out

    # --- Metadata API transport ----------------------------------------------------------------

    async def post_metadata_soap(self, body: bytes, *,
                                 api_version: str | None = None) -> tuple[int, bytes]:
        """POST one Metadata API SOAP envelope to ``/services/Soap/m/<version>``; return
        (HTTP status, body) without raising for faults — ``metadata.SoapPost`` for
        ``deploy_automation``/``remove_automation``. The guard allows only CRUD calls on
        WorkflowOutboundMessage, WorkflowRule and Flow; transport failures are retried and end
        in ``ServerUnavailable``."""
        response = await self.request(
            "POST", f"/services/Soap/m/{api_version or self.api_version}", content=body,
            raw=True, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "''",
                               "Accept": "text/xml"})
        return response.status_code, response.content


def composite_error(item: dict[str, Any]) -> SalesforceError | None:
    """The typed error of one composite subresponse, or None if it succeeded."""
    status = int(item.get("httpStatusCode", 200))
    return from_rest_body(status, item.get("body")) if status >= 400 else None


def _records_of(body: Any) -> list[Any]:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise SalesforceError("query response without a records list", code="BAD_RESPONSE")
    return records


def _locator_error(err: InvalidQueryLocator, soql: str, pages: int,
                   seen: int) -> InvalidQueryLocator:
    new = InvalidQueryLocator(f"{err.detail} (after {pages} pages, {seen} records)",
                              code=err.code, status=err.status)
    new.pages_seen, new.records_seen, new.soql = pages, seen, soql
    return new


def _window(start: datetime, end: datetime) -> dict[str, str]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    return {"start": start.astimezone(UTC).strftime(fmt), "end": end.astimezone(UTC).strftime(fmt)}


def _segment(value: str) -> str:
    """A path segment from a caller's value: never lets ``/`` or ``..`` change the path."""
    if not value or value in (".", "..") or "/" in value:
        raise ValueError(f"invalid path segment {value!r}")
    return quote(value, safe="")


def _chunks(ids: list[str], max_ids: int, room: int) -> list[list[str]]:
    """Split ``ids`` so each chunk has ≤ ``max_ids`` ids and its comma list fits in ``room``."""
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for record_id in ids:
        cost = len(quote(record_id, safe="")) + 1
        if current and (len(current) >= max_ids or used + cost > room):
            chunks.append(current)
            current, used = [], 0
        current.append(record_id)
        used += cost
    if current:
        chunks.append(current)
    return chunks


def _version_key(value: str) -> tuple[int, ...] | None:
    """"66.0" → (66, 0); None for anything that is not a version number."""
    parts = value.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None
