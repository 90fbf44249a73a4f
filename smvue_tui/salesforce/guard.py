"""The read-only guard: every request to Salesforce passes through ``ReadOnlyGuard.check``.

SMVue never writes org data. The guard allows only:

- ``GET /services/data/...`` (REST reads, including ``GET /services/data/`` for versions) and the
  OAuth read resources ``GET /services/oauth2/userinfo`` and ``GET /id/<org>/<user>``;
- ``POST /services/oauth2/token`` and ``POST /services/oauth2/revoke``;
- ``POST /services/data/vNN.0/composite`` and ``.../composite/batch`` when every subrequest is a
  GET;
- ``POST /services/Soap/m/NN.0`` whose SOAP call is create/upsert/update/read/deleteMetadata of
  only WorkflowOutboundMessage, WorkflowRule or Flow (the change-notification automation);
- Bulk API 2.0 *query* jobs, which read but need other verbs: ``POST .../jobs/query`` whose JSON
  body's operation is query or queryAll, ``PATCH .../jobs/query/<job id>`` whose body only sets
  ``state`` to Aborted, and ``DELETE .../jobs/query/<job id>`` (a job is ours, not org data).
  Ingest jobs (``/jobs/ingest``), which write records, stay refused.

Anything else raises ``ReadOnlyViolation`` before a byte is sent. The guard is an httpx request
event hook, so it sees every request an ``httpx.AsyncClient`` built by ``guarded_async_client``
sends (redirects included). Allowed requests are recorded (method + path, never bodies or
query strings) into an optional ``RequestLog`` and into every log opened with ``recording()``,
so a test run can list everything the app sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import defusedxml.ElementTree as SafeET
import httpx
from defusedxml import DefusedXmlException

from smvue_tui.salesforce.errors import ReadOnlyViolation

ALLOWED_METADATA_TYPES = frozenset({"WorkflowOutboundMessage", "WorkflowRule", "Flow"})
_METADATA_WRITES = frozenset({"createMetadata", "upsertMetadata", "updateMetadata"})
_METADATA_BY_TYPE = frozenset({"readMetadata", "deleteMetadata"})
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

_GET_PATHS = re.compile(r"^/services/data(/.*)?$|^/services/oauth2/userinfo/?$|^/id/[^/]+/[^/]+/?$")
_OAUTH_POST = re.compile(r"^/services/oauth2/(token|revoke)/?$")
_COMPOSITE = re.compile(r"^/services/data/v\d+\.\d+/composite/?$")
_COMPOSITE_BATCH = re.compile(r"^/services/data/v\d+\.\d+/composite/batch/?$")
_METADATA_SOAP = re.compile(r"^/services/Soap/m/\d+\.\d+/?$")
_QUERY_JOBS = re.compile(r"^/services/data/v\d+\.\d+/jobs/query/?$")
_QUERY_JOB = re.compile(
    r"^/services/data/v\d+\.\d+/jobs/query/750[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?/?$")


class Entry(NamedTuple):
    method: str
    path: str
    via: str = ""  # "composite" / "composite/batch" for subrequests, "" for direct calls


class RequestLog:
    """What the guard allowed (``entries``) and refused (``refused``), in order."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.refused: list[Entry] = []

    def pairs(self) -> set[tuple[str, str]]:
        """Distinct (method, path) pairs sent directly (not subrequests)."""
        return {(e.method, e.path) for e in self.entries if not e.via}

    def clear(self) -> None:
        self.entries.clear()
        self.refused.clear()


_GLOBAL_LOGS: list[RequestLog] = []


@contextmanager
def recording() -> Iterator[RequestLog]:
    """Record every request any guard in this process allows or refuses while the block runs."""
    log = RequestLog()
    _GLOBAL_LOGS.append(log)
    try:
        yield log
    finally:
        _GLOBAL_LOGS.remove(log)


class ReadOnlyGuard:
    """Checks a request against the allow-list; raises ``ReadOnlyViolation`` otherwise."""

    def __init__(self, recorder: RequestLog | None = None) -> None:
        self.recorder = recorder

    def check(self, method: str, url: str | httpx.URL, body: bytes | None = b"") -> None:
        method = method.upper()
        path = httpx.URL(str(url)).path
        try:
            subs = _allowed_or_raise(method, path, body)
        except ReadOnlyViolation:
            self._log(Entry(method, path), refused=True)
            raise
        self._log(Entry(method, path))
        for sub in subs:
            self._log(sub)

    async def __call__(self, request: httpx.Request) -> None:
        """httpx ``event_hooks["request"]`` entry point."""
        try:
            body: bytes | None = request.content
        except httpx.RequestNotRead:
            body = None  # a streamed body cannot be inspected, so it cannot be allowed
        self.check(request.method, request.url, body)

    def _log(self, entry: Entry, *, refused: bool = False) -> None:
        for log in [self.recorder, *_GLOBAL_LOGS]:
            if log is not None:
                (log.refused if refused else log.entries).append(entry)


def guarded_async_client(guard: ReadOnlyGuard | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request passes through ``guard`` first."""
    guard = guard or ReadOnlyGuard()
    hooks = dict(kwargs.pop("event_hooks", None) or {})
    hooks["request"] = [guard, *hooks.get("request", [])]
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Which of two same-named keys Salesforce's parser keeps is not ours to guess: refuse both.
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _DuplicateKey("a JSON key is given twice")
    return dict(pairs)


def _loads(body: bytes | None) -> Any:
    return json.loads(body or b"null", object_pairs_hook=_unique_keys)


def _refuse(method: str, path: str, why: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(f"{method} {path}: {why}", code="READ_ONLY")


def _allowed_or_raise(method: str, path: str, body: bytes | None) -> list[Entry]:
    """Return composite subrequests to record; raise ``ReadOnlyViolation`` if not allowed."""
    if any(seg in (".", "..") for seg in path.split("/")):
        raise _refuse(method, path, "dot segments in the path")
    if method == "GET":
        if _GET_PATHS.fullmatch(path):
            return []
        raise _refuse(method, path, "not a Salesforce REST read")
    if method in ("PATCH", "DELETE") and _QUERY_JOB.fullmatch(path):
        _check_job_change(method, path, body)
        return []
    if method != "POST":
        raise _refuse(method, path, f"{method} is never sent")
    if _OAUTH_POST.fullmatch(path):
        return []
    if body is None:
        raise _refuse(method, path, "a streamed body cannot be checked")
    if _COMPOSITE.fullmatch(path):
        return _composite_subrequests(path, body, "compositeRequest", "composite")
    if _COMPOSITE_BATCH.fullmatch(path):
        return _composite_subrequests(path, body, "batchRequests", "composite/batch")
    if _METADATA_SOAP.fullmatch(path):
        _check_metadata_call(path, body)
        return []
    if _QUERY_JOBS.fullmatch(path):
        _check_query_job(path, body)
        return []
    raise _refuse(method, path, "writes are not allowed")


def _composite_subrequests(path: str, body: bytes, key: str, via: str) -> list[Entry]:
    try:
        payload = _loads(body)
    except _DuplicateKey:
        raise _refuse("POST", path, "composite body gives a key twice") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse("POST", path, "composite body is not JSON") from None
    subs = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(subs, list) or not subs:
        raise _refuse("POST", path, f"composite body has no {key}")
    entries = []
    for sub in subs:
        method = str(sub.get("method", "")).upper() if isinstance(sub, dict) else ""
        if method != "GET":
            raise _refuse("POST", path, f"composite subrequest {method or '?'} is not a GET")
        entries.append(Entry("GET", httpx.URL(str(sub.get("url", ""))).path, via))
    return entries


def _json_object(method: str, path: str, body: bytes) -> dict[str, Any]:
    try:
        payload = _loads(body)
    except _DuplicateKey:
        raise _refuse(method, path, "the body gives a key twice") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refuse(method, path, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise _refuse(method, path, "the body is not a JSON object")
    return payload


def _check_query_job(path: str, body: bytes) -> None:
    """A Bulk 2.0 query job reads: its operation must be query or queryAll."""
    operation = _json_object("POST", path, body).get("operation")
    if operation not in ("query", "queryAll"):
        raise _refuse("POST", path, f"a {operation or '?'} job is not a query")


def _check_job_change(method: str, path: str, body: bytes | None) -> None:
    """PATCH only aborts a query job; DELETE carries no body."""
    if method == "DELETE":
        if body:
            raise _refuse(method, path, "a job delete carries no body")
        return
    if body is None or _json_object(method, path, body) != {"state": "Aborted"}:
        raise _refuse(method, path, "a query job may only be aborted")


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _check_metadata_call(path: str, body: bytes) -> None:
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        raise _refuse("POST", path, "SOAP body is not plain XML") from None
    bodies = [el for el in root if _local(el.tag) == "Body"]
    calls = [el for el in bodies[0]] if _local(root.tag) == "Envelope" and bodies else []
    if len(calls) != 1:
        raise _refuse("POST", path, "expected exactly one SOAP call")
    call = calls[0]
    name = _local(call.tag)
    children = [_local(el.tag) for el in call]
    if name in _METADATA_WRITES:
        if any(c != "metadata" for c in children):
            raise _refuse("POST", path, f"{name} may only carry metadata elements")
        types = [_local_type(el.get(_XSI_TYPE, "")) for el in call]
    elif name in _METADATA_BY_TYPE:
        types = [(el.text or "").strip() for el in call if _local(el.tag) == "type"]
        if len(types) != 1 or any(c not in ("type", "fullNames") for c in children):
            raise _refuse("POST", path, f"{name} needs exactly one type and fullNames")
    else:
        raise _refuse("POST", path, f"SOAP call {name} is not allowed")
    if not types or any(t not in ALLOWED_METADATA_TYPES for t in types):
        shown = ", ".join(sorted(set(types))) or "none"
        raise _refuse("POST", path, f"{name} of metadata type {shown} is not allowed")


def _local_type(value: str) -> str:
    return value.rsplit(":", 1)[-1].strip()
