"""Identity URL, userinfo and discovery over loopback; session timeout, fault expiry, other
orgs' tokens, and that no secret reaches the access log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from smvue_demo_org.org import DEMO_CLIENT_ID, DEMO_USERNAME
from tests.unit.demo_org.oauth_support import (
    OTHER_ORG_ID,
    Served,
    make_org,
    serve,
    served_org,
)

IDENTITY_FIELDS = {
    "id", "asserted_user", "user_id", "organization_id", "username", "nick_name",
    "display_name", "email", "email_verified", "first_name", "last_name", "timezone", "photos",
    "addr_street", "addr_city", "addr_state", "addr_country", "addr_zip", "mobile_phone",
    "mobile_phone_verified", "is_lightning_login_user", "status", "urls", "active", "user_type",
    "language", "locale", "utcOffset", "last_modified_date", "is_app_installed"}
URL_KEYS = {"enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent",
            "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users", "feed_items",
            "feed_elements", "custom_domain"}


@pytest.fixture
async def demo() -> AsyncIterator[Served]:
    async with served_org() as served:
        yield served


def refused(resp: httpx.Response, status: int, word: str) -> None:
    assert (resp.status_code, resp.text) == (status, word)
    assert resp.headers["content-type"].startswith("text/plain")


async def test_identity_url_answers_with_salesforce_fields(demo: Served) -> None:
    login = await demo.login()
    resp = await demo.http.get(login["id"].removeprefix(demo.org.base_url),
                               headers={"Authorization": f"Bearer {login['access_token']}"})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == IDENTITY_FIELDS
    org = demo.org
    assert body["id"] == login["id"]
    assert (body["organization_id"], body["user_id"]) == (org.org_id, org.user_id)
    assert (body["username"], body["display_name"], body["email"]) == (
        DEMO_USERNAME, "Morgan Manager", "morgan@demo.smvue.local")
    assert body["active"] is True and body["user_type"] == "STANDARD"
    assert body["utcOffset"] == -8 * 3600 * 1000
    urls = body["urls"]
    assert set(urls) == URL_KEYS
    assert urls["rest"] == f"{org.base_url}/services/data/v{{version}}/"
    assert urls["metadata"] == f"{org.base_url}/services/Soap/m/{{version}}/{org.org_id[:15]}"
    assert urls["sobjects"] == f"{org.base_url}/services/data/v{{version}}/sobjects/"


async def test_identity_version_and_token_in_query(demo: Served) -> None:
    login = await demo.login()
    path = f"/id/{demo.org.org_id[:15]}/{demo.org.user_id[:15]}"  # 15-char ids work too
    latest = await demo.http.get(path, params={"oauth_token": login["access_token"],
                                               "version": "latest"})
    assert latest.status_code == 200
    assert latest.json()["urls"]["rest"] == \
        f"{demo.org.base_url}/services/data/v{demo.org.latest_version}/"
    pinned = await demo.identity(login["access_token"], version="60.0")
    assert pinned.json()["urls"]["query"].endswith("/services/data/v60.0/query/")
    refused(await demo.identity(login["access_token"], version="12.0"), 400, "Bad_Version")


async def test_identity_refusals(demo: Served) -> None:
    login = await demo.login()
    org = demo.org
    refused(await demo.http.get(f"/id/{org.org_id}/{org.user_id}"), 403, "Missing_OAuth_Token")
    refused(await demo.identity("00Dbogus!token"), 403, "Bad_OAuth_Token")
    refused(await demo.identity(org.org_id[:15] + "!AQnotIssued"), 403, "Bad_OAuth_Token")
    bearer = {"Authorization": f"Bearer {login['access_token']}"}
    refused(await demo.http.get(f"/id/{OTHER_ORG_ID}/{org.user_id}", headers=bearer), 404,
            "Bad_Id")
    refused(await demo.http.get(f"/id/{org.org_id}/005000000000001AAA", headers=bearer), 404,
            "Bad_Id")
    refused(await demo.http.get(f"/id/{org.org_id}/x", headers=bearer), 404, "Bad_Id")
    refresh_only = await demo.login(scope="refresh_token")
    refused(await demo.identity(refresh_only["access_token"]), 403, "Invalid_Scope")


async def test_userinfo(demo: Served) -> None:
    login = await demo.login()
    resp = await demo.http.get("/services/oauth2/userinfo",
                               headers={"Authorization": f"Bearer {login['access_token']}"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["sub"] == login["id"]
    assert (body["user_id"], body["organization_id"]) == (demo.org.user_id, demo.org.org_id)
    assert body["preferred_username"] == DEMO_USERNAME and body["name"] == "Morgan Manager"
    assert body["zoneinfo"] == "America/Los_Angeles" and body["active"] is True
    assert body["urls"]["rest"].endswith("/services/data/v{version}/")
    refused(await demo.http.get("/services/oauth2/userinfo",
                                headers={"Authorization": "Bearer nope"}), 403, "Bad_OAuth_Token")
    refused(await demo.http.get("/services/oauth2/userinfo"), 403, "Missing_OAuth_Token")


async def test_session_timeout_slides_and_then_expires() -> None:
    async with served_org(timeout=900) as demo:
        login = await demo.login()
        for _ in range(3):  # used every 14 minutes: stays alive past the 15-minute timeout
            demo.clock.advance(14 * 60)
            assert (await demo.identity(login["access_token"])).status_code == 200
        demo.clock.advance(15 * 60)
        refused(await demo.identity(login["access_token"]), 403, "Bad_OAuth_Token")
        assert demo.tokens.check_access(login["access_token"]) is None
        renewed = await demo.token(grant_type="refresh_token", client_id=DEMO_CLIENT_ID,
                                   refresh_token=login["refresh_token"])
        assert (await demo.identity(renewed.json()["access_token"])).status_code == 200


async def test_expire_all_access_keeps_refresh_working(demo: Served) -> None:
    first, second = await demo.login(), await demo.login()
    demo.tokens.expire_all_access()
    for login in (first, second):
        refused(await demo.identity(login["access_token"]), 403, "Bad_OAuth_Token")
        renewed = await demo.token(grant_type="refresh_token", client_id=DEMO_CLIENT_ID,
                                   refresh_token=login["refresh_token"])
        assert renewed.status_code == 200
        assert (await demo.identity(renewed.json()["access_token"])).status_code == 200


async def test_tokens_from_another_org_are_refused(demo: Served) -> None:
    other = make_org(OTHER_ORG_ID, clock=demo.clock)
    async with serve(other) as other_url, httpx.AsyncClient(base_url=other_url) as http:
        foreign = Served(other, demo.clock, http)
        login = await foreign.login()
        assert (await foreign.identity(login["access_token"])).status_code == 200
    assert demo.tokens.check_access(login["access_token"]) is None
    refused(await demo.identity(login["access_token"]), 403, "Bad_OAuth_Token")
    resp = await demo.token(grant_type="refresh_token", client_id=DEMO_CLIENT_ID,
                            refresh_token=login["refresh_token"])
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


async def test_discovery_document(demo: Served) -> None:
    resp = await demo.http.get("/.well-known/openid-configuration")
    body = resp.json()
    base = demo.org.base_url
    assert body["issuer"] == base
    assert body["authorization_endpoint"] == f"{base}/services/oauth2/authorize"
    assert body["token_endpoint"] == f"{base}/services/oauth2/token"
    assert body["revocation_endpoint"] == f"{base}/services/oauth2/revoke"
    assert body["userinfo_endpoint"] == f"{base}/services/oauth2/userinfo"
    assert "code" in body["response_types_supported"]
    assert {"api", "refresh_token", "id"} <= set(body["scopes_supported"])


async def test_access_log_never_shows_a_token(demo: Served,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    login = await demo.login()
    org = demo.org
    await demo.http.get(f"/id/{org.org_id}/{org.user_id}",
                        params={"oauth_token": login["access_token"]})
    await demo.http.get(f"/id/{org.org_id}/{org.user_id}?oauth_token={login['access_token']}",
                        headers={"Referer": f"http://x/?token={login['refresh_token']}"})
    await demo.http.get("/services/oauth2/revoke", params={"token": login["refresh_token"]})
    await demo.http.get("/services/oauth2/revoke", params={"token": login["access_token"]})
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "aiohttp.access")
    assert "/services/oauth2/revoke?token=***" in logged
    for secret in (login["access_token"], login["refresh_token"],
                   login["access_token"].split("!")[1][:20]):
        assert secret not in logged
