"""Integration fixtures: real demo orgs served over loopback HTTP.

The org data is generated once per test session (per xdist worker) into a shared cache; every
test gets a fresh org started from that cache, so tests never see each other's changes.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from smvue_demo_org.org import DemoOrg
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.server import build_org, serve_in_thread

SMALL = 300  # opportunities in the default test org


@pytest.fixture(scope="session")
def org_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-org-cache")


class RunningOrg:
    """A served org plus helpers to log in and call it."""

    def __init__(self, org: DemoOrg, base_url: str) -> None:
        self.org = org
        self.base_url = base_url

    def password_login(self) -> dict:
        response = httpx.post(f"{self.base_url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": self.org.client_id,
            "username": self.org.username, "password": self.org.password})
        response.raise_for_status()
        return response.json()

    def web_login(self) -> dict:
        """The web-server flow with PKCE, approved as a returning user (auto-approve)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect_uri = "http://localhost:1717/OauthRedirect"
        self.org.auto_approve = True
        response = httpx.get(f"{self.base_url}/services/oauth2/authorize", params={
            "response_type": "code", "client_id": self.org.client_id, "state": "s1",
            "redirect_uri": redirect_uri, "code_challenge": challenge,
            "code_challenge_method": "S256", "scope": "api refresh_token id"})
        code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
        token = httpx.post(f"{self.base_url}/services/oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": self.org.client_id,
            "redirect_uri": redirect_uri, "code_verifier": verifier})
        token.raise_for_status()
        return token.json()

    def api(self, token: str | None = None, version: str = "67.0") -> httpx.Client:
        token = token or self.password_login()["access_token"]
        return httpx.Client(base_url=f"{self.base_url}/services/data/v{version}",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def admin(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.base_url}/demo{path}", timeout=30, **kw)


@pytest.fixture
def make_org(org_cache):
    """Start orgs on demand: ``make_org(profile=..., size=...)``; all stopped after the test."""
    stack = []

    def start(*, size: int = SMALL, seed: int = 1, profile: OrgProfile | None = None,
              **options) -> RunningOrg:
        org = build_org(size=size, seed=seed, profile=profile, cache_dir=org_cache)
        ctx = serve_in_thread(org, **options)
        url = ctx.__enter__()
        stack.append((ctx, org))
        return RunningOrg(org, url)

    yield start
    for ctx, org in reversed(stack):
        ctx.__exit__(None, None, None)
        org.store.close()


@pytest.fixture
def demo(make_org) -> RunningOrg:
    return make_org()


class HttpsToHttp(requests.Session):
    """simple-salesforce always builds https:// URLs; the demo org serves plain loopback HTTP."""

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith("https://127.0.0.1"):
            url = "http://" + url[len("https://"):]
        return super().request(method, url, *args, **kwargs)


def simple_salesforce(demo: RunningOrg):
    """A simple-salesforce client logged in to ``demo`` over loopback HTTP."""
    from simple_salesforce import Salesforce

    token = demo.password_login()
    host = demo.base_url.removeprefix("http://")
    return Salesforce(instance_url=f"https://{host}", session_id=token["access_token"],
                      version="67.0", session=HttpsToHttp())


# --- read-only audit: every request a guarded client sends during the integration run ---------
# (imports kept here so this block only appends to the file)

import os  # noqa: E402

from smvue_tui.salesforce.guard import RequestLog, recording  # noqa: E402
from tests.integration.guard_audit import (  # noqa: E402
    REPORT_ENV,
    run_id,
    summarise,
    write_report,
)


@pytest.fixture(scope="session", autouse=True)
def guard_recorder():
    """All requests the read-only guard allowed (``entries``) or refused (``refused``) during
    this session's integration tests; at the end, the sorted unique normalised ``METHOD path``
    list goes to the file named by ``$SMVUE_GUARD_REPORT`` (merged across xdist workers)."""
    log = RequestLog()
    run = run_id()  # read at start: the same for every xdist worker of this run
    yield log
    target = os.environ.get(REPORT_ENV)
    if target:
        write_report(summarise(log.entries), target, run)


@pytest.fixture(autouse=True)
def _guard_recording(guard_recorder):
    """Record per integration test (``recording()`` is process-wide: other suites stay out)."""
    with recording() as log:
        yield
    guard_recorder.entries.extend(log.entries)
    guard_recorder.refused.extend(log.refused)
