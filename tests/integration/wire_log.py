"""Every request a client sends, and every one the org refused — composite parts included.

A transport wrapped around the real one (the client talks to the demo org over loopback as
usual); tests read ``soql`` (each statement sent: query, queryAll, inside /composite) and
``refused`` (a request answered ≥ 400, alone or as a composite part: a SOQL statement, a
record fetch by id with its field list…). Describes of objects the org lacks answer NOT_FOUND
by design (sync/fields.py) and are not counted.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

_SELECT = re.compile(r"SELECT\s+(.+?)\s+FROM\s+(\w+)", re.IGNORECASE | re.DOTALL)


class WireLog(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.soql: list[str] = []
        self.urls: list[str] = []  # every request, composite parts one by one
        self.refused: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parts = {"": str(request.url)}
        if request.url.path.endswith("/composite") and request.content:
            parts = {part.get("referenceId", ""): part.get("url", "") for part in
                     json.loads(request.content).get("compositeRequest", [])}
        statements = {ref: parse_qs(urlsplit(url).query).get("q", [""])[0]
                      for ref, url in parts.items()}
        self.soql += [q for q in statements.values() if q]
        self.urls += list(parts.values())
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        counted = {ref: statements[ref] or url for ref, url in parts.items()
                   if not urlsplit(url).path.endswith("/describe")}
        if response.status_code >= 400 and "" in counted:
            self.refused.append((counted[""], body[:300]))
        elif request.url.path.endswith("/composite") and response.status_code < 400:
            for part in json.loads(body).get("compositeResponse", []):
                what = counted.get(part.get("referenceId", ""))
                if what and part.get("httpStatusCode", 200) >= 400:
                    self.refused.append((what, part.get("body")))
        headers = [(k, v) for k, v in response.headers.items()
                   if k.lower() not in ("content-encoding", "content-length")]  # body decoded
        return httpx.Response(response.status_code, headers=headers, content=body,
                              request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def selected_fields(soql: str) -> list[tuple[str, str]]:
    """(object, field) for every plain field of every SELECT list in ``soql``."""
    pairs = []
    for fields, sobject in _SELECT.findall(soql):
        for name in (f.strip() for f in fields.split(",")):
            if re.fullmatch(r"\w+", name):
                pairs.append((sobject, name))
    return pairs
