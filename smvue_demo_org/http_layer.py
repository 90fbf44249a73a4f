"""The HTTP face of the data API: auth, API usage, version checks and injected faults.

Everything under /services/data/vNN.0/ goes through ``DataApiView``; it turns an aiohttp request
into an ``api.Request`` for ``RestApi`` and the answer back into JSON with Sforce-Limit-Info.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from aiohttp import web

from smvue_demo_org.api import ApiError, ApiResponse, Request
from smvue_demo_org.cost_model import LONG_RUNNING_MESSAGE
from smvue_demo_org.org import API_VERSIONS, DemoOrg
from smvue_demo_org.rest import RestApi

log = logging.getLogger(__name__)
OLDEST_SUPPORTED = 31.0
_VERSION = re.compile(r"^v(\d{2})\.0$")
_RELEASES = {59: "Winter '24", 60: "Spring '24", 61: "Summer '24", 62: "Winter '25",
             63: "Spring '25", 64: "Summer '25", 65: "Winter '26", 66: "Spring '26",
             67: "Summer '26"}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    text = None if body is None else json.dumps(body, separators=(",", ":"))
    return web.Response(status=status, text=text, headers=headers,
                        content_type="application/json" if text is not None else None)


def error_response(status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> web.Response:
    return json_response(status, [{"message": message, "errorCode": code}], headers)


async def versions(request: web.Request) -> web.Response:
    """GET /services/data/ — no auth, not counted, no Sforce-Limit-Info."""
    return json_response(200, [
        {"label": _RELEASES.get(int(float(v)), f"v{v}"), "url": f"/services/data/v{v}",
         "version": v} for v in API_VERSIONS])


def bearer_token(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else ""


async def drop_mid_body(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the headers and half the body, then cut the connection (a network fault)."""
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return stream


class DataApiView:
    def __init__(self, org: DemoOrg, api: RestApi) -> None:
        self.org = org
        self.api = api

    async def handle(self, request: web.Request) -> web.StreamResponse:
        org = self.org
        await org.faults.delay()
        version = _VERSION.match(request.match_info["version"])
        if not version:
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        number = float(version.group(1))
        if number < OLDEST_SUPPORTED:
            return error_response(410, "GONE", "The requested resource is no longer available")
        if number > float(API_VERSIONS[-1]):
            return error_response(404, "NOT_FOUND", "The requested resource does not exist")
        if not org.profile.api_enabled:
            return error_response(403, "API_DISABLED_FOR_ORG",
                                  "The REST API is not enabled for this Organization.")
        if org.tokens.check_access(bearer_token(request)) is None:
            return error_response(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if org.faults.count_authenticated_call():
            org.tokens.expire_all_access()
        failure = org.faults.roll_error()
        if failure == 503:
            return error_response(503, "SERVER_UNAVAILABLE",
                                  "Server temporarily unavailable; please retry.")
        if failure:
            return error_response(500, "UNKNOWN_EXCEPTION",
                                  "An unexpected error occurred. Please include this ErrorId "
                                  "if you contact support: 1234567890-12345 (-1234567890)")
        if org.usage.exhausted():
            return error_response(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.",
                                  {"Sforce-Limit-Info": org.usage.header()})
        if not org.cost.admits():  # too many requests running 20 s or longer (cost_model.py)
            return error_response(403, "REQUEST_LIMIT_EXCEEDED", LONG_RUNNING_MESSAGE,
                                  {"Sforce-Limit-Info": org.usage.header()})
        with org.cost.in_flight():
            answer = await self._answer(request, version.group(1) + ".0")
        org.usage.record(answer.cost)
        headers = {"Sforce-Limit-Info": org.usage.header(), **answer.headers}
        if answer.content_type == "application/json":
            response = json_response(answer.status, answer.body, headers)
        else:  # Bulk 2.0 results: CSV text
            response = web.Response(status=answer.status, text=answer.body, headers=headers,
                                    content_type=answer.content_type)
            if "gzip" in request.headers.get("Accept-Encoding", ""):  # Bulk results: gzip
                response.enable_compression(web.ContentCoding.gzip)
        if org.faults.roll_drop():
            return await drop_mid_body(request, response)
        return response

    async def _answer(self, request: web.Request, version: str) -> ApiResponse:
        path = "/" + request.match_info["tail"].strip("/")
        req = Request(request.method, version, "" if path == "/" else path,
                      dict(request.query), request.headers, await request.read())
        try:
            return await self.api.handle(req)
        except ApiError as err:
            return err.response()
        except Exception:  # a bug in the demo org must still look like Salesforce
            log.exception("demo org: unexpected error answering %s %s", req.method, req.path)
            return ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.").response()
