"""The REST API's plumbing: responses, Salesforce error bodies, and a small route table.

Handlers are plain coroutines ``(ctx, **path_params) -> ApiResponse`` so that /composite can call
them directly, without another HTTP round trip.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # JSON-able; None means an empty body
    headers: dict[str, str] = field(default_factory=dict)
    cost: int = 1  # API calls this response counts against the daily allocation
    content_type: str = "application/json"  # anything else: ``body`` is that text (Bulk CSV)


class ApiError(Exception):
    """Answered as Salesforce's error list: ``[{"message": ..., "errorCode": ...}]``."""

    def __init__(self, status: int, code: str, message: str,
                 fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> ApiResponse:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return ApiResponse(self.status, [item])


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


@dataclass
class Request:
    """One API call, whether it came over HTTP or inside /composite."""

    method: str
    version: str  # "67.0"
    path: str  # after /services/data/vNN.0, no trailing slash, e.g. "/sobjects/Account"
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""


Handler = Callable[..., Awaitable[ApiResponse]]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """``pattern`` uses ``{name}`` for one path segment."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = []
        for route_method, regex, handler in self._routes:
            m = regex.match(path)
            if m:
                if route_method == method:
                    return handler, m.groupdict()
                allowed.append(route_method)
        if allowed:
            raise ApiError(405, "METHOD_NOT_ALLOWED",
                           f"HTTP Method '{method}' not allowed. Allowed are "
                           f"{','.join(sorted(set(allowed)))}")
        raise not_found()
