"""The single choke point for REST calls: guard, auth header, timeouts, retries, refresh, usage,
budget, typed errors.

Every call goes: budget check (non-essential only; nothing sent when over) → read-only guard
(an httpx request hook; nothing sent when refused) → send with explicit timeouts → usage reading
from ``Sforce-Limit-Info`` → 401: refresh once and resend once → 5xx / dropped connection /
timeout: bounded retries with exponential backoff and full jitter → any other non-2xx: a typed
error from ``errors.py``. No error text ever contains the access token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import orjson

from smvue_tui.salesforce.errors import (
    RateLimitExceeded,
    SalesforceError,
    ServerUnavailable,
    SessionUnstable,
    from_rest_body,
)
from smvue_tui.salesforce.guard import ReadOnlyGuard, RequestLog, guarded_async_client
from smvue_tui.salesforce.usage import LIMIT_INFO_HEADER, ApiBudget, ApiUsage, parse_limit_info

log = logging.getLogger(__name__)

CLIENT_NAME = "smvue-tui"
DEFAULT_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip",
    "Sforce-Call-Options": f"client={CLIENT_NAME}",
    "User-Agent": f"{CLIENT_NAME}/0.1",
}
# Failures worth another try: the request may not have reached Salesforce, or it was overloaded.
RETRYABLE_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
BACKOFF_CAP = 30.0
# 401s one call may answer with a refresh. A 401 right after a refresh that worked does not mean
# the login is dead (only a refused refresh says that): another request may have used up the
# new session first. Past this many, the sessions are not lasting: a retryable error.
MAX_REFRESHES = 6
REDACTED = "[redacted]"
_STATUS_HINTS = {
    410: " (this API version is retired)",
    414: " (the URL is too long: split the query's field list)",
}

Sleep = Callable[[float], Awaitable[None]]


class SessionLike(Protocol):
    """What the client needs from the login side (``auth.py``)."""

    @property
    def access_token(self) -> str: ...

    @property
    def instance_url(self) -> str: ...

    async def refresh(self, failed_access_token: str) -> None:
        """Get a new access token unless it already changed since ``failed_access_token``
        (single-flight); raise ``ReauthorizationNeeded`` when the refresh token is dead."""
        ...


class Requester:
    def __init__(self, session: SessionLike, *, api_version: str = "66.0", timeout: float = 60.0,
                 max_retries: int = 5, backoff_base: float = 0.5, budget_share: float = 0.8,
                 transport: httpx.AsyncBaseTransport | None = None,
                 rng: random.Random | None = None, sleep: Sleep | None = None,
                 recorder: RequestLog | None = None) -> None:
        self.session = session
        self.api_version = api_version
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 15.0))
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.budget = ApiBudget(budget_share)
        self.usage = ApiUsage()
        self.calls_sent = 0  # HTTP requests that got an answer (each composite counts once)
        self._rng = rng or random.Random()
        self._sleep = sleep or asyncio.sleep
        self.guard = ReadOnlyGuard(recorder)
        self._http = guarded_async_client(self.guard, transport=transport, timeout=self.timeout,
                                          headers=DEFAULT_HEADERS, follow_redirects=False)
        # Held by a request whose fresh sessions keep being used up by the others: they wait
        # while it refreshes and sends alone, so it gets through (sessions ended every call).
        self._alone = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def service_path(self, path: str) -> str:
        """``"sobjects/X"`` → ``"/services/data/vNN.0/sobjects/X"``; ``/services/...`` kept."""
        if path.startswith("/services/"):
            return path
        return f"{self.base_path}/{path.lstrip('/')}" if path else self.base_path

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL on the session's instance; refuses other hosts (the token would leak)."""
        instance = self.session.instance_url.rstrip("/")
        if "://" not in path_or_url:
            return instance + self.service_path(path_or_url)
        target, home = httpx.URL(path_or_url), httpx.URL(instance)
        if (target.scheme, target.host, target.port) != (home.scheme, home.host, home.port):
            raise SalesforceError(f"refusing to send credentials to {target.host}",
                                  code="FOREIGN_HOST")
        return path_or_url

    async def request(self, method: str, path_or_url: str, *, essential: bool = True,
                      authenticated: bool = True, params: Any = None, json: Any = None,
                      content: bytes | None = None, headers: dict[str, str] | None = None,
                      timeout: float | None = None, raw: bool = False) -> httpx.Response:
        """Send one call; return the 2xx/304 response or raise a typed ``SalesforceError``.

        ``raw=True`` (for SOAP callers that parse their own faults, which come as HTTP 500):
        any HTTP status other than 401 is returned as is and never retried; the budget, guard,
        timeouts, usage readings, refresh and retries on transport failures still apply.
        """
        self.budget.check(self.usage, essential=essential)
        timeout_cfg = self.timeout if timeout is None else httpx.Timeout(timeout)
        attempt = 0
        refreshes = 0
        alone = False  # holding self._alone
        try:
            while True:
                if authenticated and self._alone.locked() and not alone:
                    async with self._alone:  # one request is getting through on its own
                        pass
                token = self.session.access_token if authenticated else ""
                send_headers = dict(headers or {})
                if authenticated:
                    send_headers["Authorization"] = f"Bearer {token}"
                url = self.url_for(path_or_url)
                try:
                    response = await self._http.request(
                        method, url, params=params, json=json, content=content,
                        headers=send_headers, timeout=timeout_cfg)
                except RETRYABLE_EXCEPTIONS as exc:
                    what = self._redact(f"{type(exc).__name__}: {exc}".rstrip(": "))
                    if attempt >= self.max_retries:
                        raise ServerUnavailable(
                            f"{what} (gave up after {attempt + 1} attempts)") from None
                    attempt += 1
                    await self._backoff(attempt, method, url, what)
                    continue
                self.calls_sent += 1
                _uncycle(response)
                self._note_usage(response)
                status = response.status_code
                log.debug("%s %s -> %s", method, httpx.URL(url).path, status)
                if status == 401 and authenticated:
                    if refreshes >= MAX_REFRESHES:
                        raise SessionUnstable(
                            f"Salesforce rejected the session {refreshes + 1} times in a row, each "
                            "time right after a refresh that worked",
                            code="INVALID_SESSION_ID", status=401)
                    if refreshes >= 2 and not alone:
                        await self._alone.acquire()
                        alone = True
                    await self.session.refresh(token)  # ReauthorizationNeeded propagates: no loop
                    refreshes += 1
                    continue
                if raw:
                    return response
                if status >= 500:
                    if attempt >= self.max_retries:
                        raise self._server_error(response, attempt + 1)
                    attempt += 1
                    await self._backoff(attempt, method, url, f"HTTP {status}")
                    continue
                if 200 <= status < 300 or status == 304:
                    return response
                raise self.error_for(response)
        finally:
            if alone:
                self._alone.release()

    async def _backoff(self, attempt: int, method: str, url: str, what: str) -> None:
        """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(n-1)))."""
        delay = self._rng.uniform(0, min(BACKOFF_CAP, self.backoff_base * 2 ** (attempt - 1)))
        log.warning("%s %s failed (%s); retry %d/%d in %.1fs", method, httpx.URL(url).path,
                    what, attempt, self.max_retries, delay)
        await self._sleep(delay)

    def _note_usage(self, response: httpx.Response) -> None:
        reading = parse_limit_info(response.headers.get(LIMIT_INFO_HEADER, ""))
        if reading is not None:
            self.usage = reading

    def _redact(self, text: str) -> str:
        token = self.session.access_token
        return text.replace(token, REDACTED) if token and len(token) >= 8 else text

    def _server_error(self, response: httpx.Response, attempts: int) -> ServerUnavailable:
        err = self.error_for(response)
        detail = f"{err.detail} (gave up after {attempts} attempts)"
        return ServerUnavailable(detail, code=err.code, status=err.status)

    def error_for(self, response: httpx.Response) -> SalesforceError:
        """The typed error for a non-2xx response: REST list, OAuth object, or anything else."""
        status = response.status_code
        text = self._redact(response.text)
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, list | dict):
            err = from_rest_body(status, body)
        else:
            detail = f"HTTP {status}" + (f": {snippet}" if (snippet := _snippet(text)) else "")
            detail += _STATUS_HINTS.get(status, "")
            cls = ServerUnavailable if status >= 500 else SalesforceError
            err = cls(detail, status=status)
        if isinstance(err, RateLimitExceeded):
            err.usage = self.usage
            # The concurrent long-running-request limit clears when calls finish, not at midnight.
            err.resets_at = None if "oncurrent" in err.detail else self.usage.resets_at()
        return err


def _snippet(text: str, limit: int = 200) -> str:
    """A short, single-line excerpt of a non-JSON body (an HTML page's <title> if it has one)."""
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    raw = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    line = " ".join(raw.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or a typed error when Salesforce (or a proxy) sent something else."""
    try:
        # orjson: a 2,000-record page decodes ~3× faster than with json, and decoding runs on
        # the event loop the UI shares.
        return orjson.loads(response.content)
    except ValueError:
        raise SalesforceError(
            f"expected JSON from {response.request.url.path}, got "
            f"{response.headers.get('Content-Type', 'no content type')}: "
            f"{_snippet(response.text, 120)}", status=response.status_code) from None


def _uncycle(response: httpx.Response) -> None:
    """Let a read response be freed as soon as its caller drops it. httpx links a response and
    its stream both ways (Response.stream → BoundAsyncStream → response): a cycle, so its body
    (MBs for a Bulk results page) lived on until a full garbage collection — rare with a big
    heap, and 40+ pages' worth piled up at 100k deals. The body is already read in full."""
    response.stream = httpx.ByteStream(b"")
