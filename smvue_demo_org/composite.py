"""/composite (one API call for up to 25 subrequests) and /composite/batch (each one counts).

Subrequests are answered by the same handlers as direct calls. ``@{ref.path}`` references to
earlier composite results are resolved (``@{acct.records[0].Id}``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from smvue_demo_org.api import ApiError, ApiResponse, Request
from smvue_demo_org.rest import RestApi, parse_json_body

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
_VERSIONED = re.compile(r"^/?(?:services/data/)?v(\d+\.\d)(/.*)?$")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


def _sub_request(req: Request, method: str, url: str) -> Request:
    parts = urlsplit(url)
    m = _VERSIONED.match(parts.path.lstrip("/"))
    if not m:
        raise ApiError(400, "INVALID_INPUT", f"The URL {url[:200]} is not a valid REST URL")
    path = (m.group(2) or "").rstrip("/")
    return Request(method.upper(), m.group(1), path, dict(parse_qsl(parts.query)),
                   req.headers)


def _resolve(url: str, results: dict[str, Any]) -> str:
    def lookup(match: re.Match[str]) -> str:
        value: Any = results.get(match.group(1))
        for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", match.group(2)):
            try:
                value = value[step[0]] if step[0] else value[int(step[1])]
            except (KeyError, IndexError, TypeError):
                raise ApiError(400, "INVALID_REFERENCE",
                               f"Invalid reference specified: {match.group(0)}") from None
        return str(value)

    return _REFERENCE.sub(lookup, url)


def _is_query(req: Request) -> bool:
    return req.path.startswith(("/query", "/queryAll", "/composite/sobjects"))


def _subrequests(req: Request, key: str, what: str) -> tuple[dict[str, Any], list[Any]]:
    """The request body and its list under ``key`` (1 to 25 items), or Salesforce's 400."""
    body = parse_json_body(req.body)
    subs = body.get(key) if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        raise ApiError(400, "INVALID_INPUT", f"{key} is required")
    if len(subs) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"{what} can have up to {MAX_SUBREQUESTS} "
                                              "subrequests")
    return body, subs


async def composite(api: RestApi, req: Request) -> ApiResponse:
    _, subs = _subrequests(req, "compositeRequest", "Composite API requests")
    results: dict[str, Any] = {}
    out = []
    queries = 0
    for sub in subs:
        if not isinstance(sub, dict) or not sub.get("url") or not sub.get("referenceId"):
            raise ApiError(400, "INVALID_INPUT", "each subrequest needs method, url, referenceId")
        ref = str(sub["referenceId"])
        try:
            inner = _sub_request(req, str(sub.get("method", "GET")),
                                 _resolve(str(sub["url"]), results))
            queries += _is_query(inner)
            if queries > MAX_QUERIES:
                raise ApiError(400, "LIMIT_EXCEEDED", "A composite request can have at most "
                               f"{MAX_QUERIES} query or sObject Collections subrequests")
            response = await api.handle(inner)
        except ApiError as err:
            response = err.response()
        if response.status < 300:
            results[ref] = response.body
        out.append({"body": response.body, "httpHeaders": {},
                    "httpStatusCode": response.status, "referenceId": ref})
    return ApiResponse(200, {"compositeResponse": out}, cost=1)


async def composite_batch(api: RestApi, req: Request) -> ApiResponse:
    body, subs = _subrequests(req, "batchRequests", "A batch")
    halt = bool(body.get("haltOnError"))
    results = []
    halted = False
    for sub in subs:
        if halted:
            results.append({"statusCode": 412, "result": [{
                "errorCode": "BATCH_PROCESSING_HALTED",
                "message": "Batch processing halted per request"}]})
            continue
        try:
            if not isinstance(sub, dict) or not sub.get("url"):
                raise ApiError(400, "INVALID_INPUT", "each batch request needs method and url")
            response = await api.handle(_sub_request(req, str(sub.get("method", "GET")),
                                                     str(sub["url"])))
        except ApiError as err:
            response = err.response()
        results.append({"statusCode": response.status, "result": response.body})
        halted = halt and response.status >= 400
    has_errors = any(r["statusCode"] >= 400 for r in results)
    return ApiResponse(200, {"hasErrors": has_errors, "results": results}, cost=len(subs))
