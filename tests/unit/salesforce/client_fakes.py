"""Fakes shared by the client tests: a session that counts refreshes, a sleep that records."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.errors import ReauthorizationNeeded

INSTANCE = "https://acme.my.salesforce.com"
BASE = f"{INSTANCE}/services/data/v66.0"
TOKEN_1 = "00DXX0000001abc!AQ4AQFakeAccessTokenNumberOne.xyz"
TOKEN_2 = "00DXX0000001abc!AQ4AQFakeAccessTokenNumberTwo.xyz"
LIMIT_INFO = {"Sforce-Limit-Info": "api-usage=10/1000"}


class FakeSession:
    """SessionLike with the single-flight semantics auth.py promises."""

    def __init__(self, *, dead: bool = False) -> None:
        self.access_token = TOKEN_1
        self.instance_url = INSTANCE
        self.dead = dead
        self.refresh_calls: list[str] = []
        self.refreshes = 0
        self._lock = asyncio.Lock()
        self._next = iter([TOKEN_2, *(f"{TOKEN_2}-{n}" for n in range(3, 50))])

    async def refresh(self, failed_access_token: str) -> None:
        self.refresh_calls.append(failed_access_token)
        async with self._lock:
            if self.access_token != failed_access_token:
                return  # someone else already refreshed
            await asyncio.sleep(0)
            if self.dead:
                raise ReauthorizationNeeded("expired access/refresh token", code="invalid_grant",
                                            status=400)
            self.refreshes += 1
            self.access_token = next(self._next)


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_client(session: FakeSession | None = None, **kw: Any) -> SalesforceClient:
    kw.setdefault("sleep", FakeSleep())
    return SalesforceClient(session or FakeSession(), **kw)


def rest_error(code: str, message: str) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code}]


def bearer(request: Any) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def body_of(request: Any) -> Any:
    return json.loads(request.content)
