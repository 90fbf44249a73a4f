"""Shared set-up for the demo org's OAuth tests: a clock to move by hand, an org served by a real
aiohttp site on 127.0.0.1 port 0, and helpers that walk the flows the way a client does.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from aiohttp import web

from smvue_demo_org.oauth import add_oauth_routes
from smvue_demo_org.oauth_http import SafeAccessLogger
from smvue_demo_org.org import DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME, DemoOrg
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.tokens import TokenRegistry

ORG_ID = "00D8W0000012345AAA"
OTHER_ORG_ID = "00D5g0000067890AAA"
USER_ID = "0058W000000abcdAAA"
CALLBACK = "http://localhost:1717/OauthRedirect"
TOKEN_PATH = "/services/oauth2/token"
AUTHORIZE_PATH = "/services/oauth2/authorize"


class FakeClock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_org(org_id: str = ORG_ID, *, clock: FakeClock | None = None, rotation: bool = False,
             timeout: int = 7200, **fields: Any) -> DemoOrg:
    profile = OrgProfile(session_timeout_seconds=timeout, refresh_token_rotation=rotation)
    tokens = TokenRegistry.for_profile(org_id, profile, clock=clock or FakeClock())
    org = DemoOrg(profile=profile, catalog=None, visible=None,  # type: ignore[arg-type]
                  org_id=org_id, user_id=USER_ID, store=None, tokens=tokens, usage=None,
                  faults=None, **fields)
    org.user_profile = {"user_id": USER_ID, "username": DEMO_USERNAME,
                        "display_name": "Morgan Manager", "email": "morgan@demo.smvue.local",
                        "first_name": "Morgan", "last_name": "Manager",
                        "timezone": "America/Los_Angeles"}
    return org


@dataclass
class Served:
    org: DemoOrg
    clock: FakeClock
    http: httpx.AsyncClient

    @property
    def tokens(self) -> TokenRegistry:
        return self.org.tokens

    async def token(self, **form: str) -> httpx.Response:
        return await self.http.post(TOKEN_PATH, data=form)

    async def authorize(self, **params: str) -> httpx.Response:
        query = {"response_type": "code", "client_id": DEMO_CLIENT_ID,
                 "redirect_uri": CALLBACK, **params}
        return await self.http.get(AUTHORIZE_PATH, params={k: v for k, v in query.items()
                                                           if v is not None})

    async def consent(self, page: httpx.Response, decision: str = "allow",
                      username: str = DEMO_USERNAME,
                      password: str = DEMO_PASSWORD) -> httpx.Response:
        """Post the consent page's form as a browser would."""
        return await self.http.post(AUTHORIZE_PATH, data={
            "request_token": request_token(page.text), "username": username,
            "password": password, "decision": decision})

    async def code(self, challenge: str | None = None, state: str = "xyz",
                   scope: str = "api refresh_token id") -> str:
        """A fresh authorization code through the login + consent page."""
        params = {"state": state, "scope": scope}
        if challenge:
            params.update(code_challenge=challenge, code_challenge_method="S256")
        redirect = await self.consent(await self.authorize(**params))
        assert redirect.status_code == 302, redirect.text
        return query_of(redirect)["code"]

    async def login(self, scope: str = "api refresh_token id") -> dict[str, str]:
        """A full web-server + PKCE login; the token response body."""
        verifier, challenge = pkce_pair()
        code = await self.code(challenge, scope=scope)
        resp = await self.token(grant_type="authorization_code", code=code,
                                client_id=DEMO_CLIENT_ID, redirect_uri=CALLBACK,
                                code_verifier=verifier)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def identity(self, access_token: str, **params: str) -> httpx.Response:
        return await self.http.get(f"/id/{self.org.org_id}/{self.org.user_id}", params=params,
                                   headers={"Authorization": f"Bearer {access_token}"})


def request_token(page: str) -> str:
    found = re.search(r'name="request_token" value="([^"]+)"', page)
    assert found, "no request_token field on the page"
    return found.group(1)


def query_of(redirect: httpx.Response) -> dict[str, str]:
    location = redirect.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@asynccontextmanager
async def serve(org: DemoOrg) -> AsyncIterator[str]:
    """Run ``org``'s OAuth routes on 127.0.0.1:<free port>; yields the base URL."""
    app = web.Application()
    add_oauth_routes(app, org)
    runner = web.AppRunner(app, access_log_class=SafeAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        org.base_url = f"http://{host}:{port}"
        yield org.base_url
    finally:
        await runner.cleanup()


@asynccontextmanager
async def served_org(**kwargs: Any) -> AsyncIterator[Served]:
    clock = kwargs.pop("clock", None) or FakeClock()
    org = make_org(clock=clock, **kwargs)
    async with serve(org) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield Served(org, clock, http)
