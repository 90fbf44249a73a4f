"""Web-server flow over real loopback: authorize page, consent form, auto-approve, code exchange
with PKCE, client secrets, and the token response's exact shape."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator

import httpx
import pytest

from smvue_demo_org.oauth_http import DEMO_SIGNATURE_KEY
from smvue_demo_org.org import DEMO_CLIENT_ID, DEMO_USERNAME
from tests.unit.demo_org.oauth_support import (
    AUTHORIZE_PATH,
    CALLBACK,
    Served,
    pkce_pair,
    query_of,
    request_token,
    served_org,
)

TOKEN_KEYS = ["access_token", "refresh_token", "signature", "scope", "instance_url", "id",
              "token_type", "issued_at"]


@pytest.fixture
async def demo() -> AsyncIterator[Served]:
    async with served_org() as served:
        yield served


async def test_authorize_renders_the_login_and_consent_page(demo: Served) -> None:
    page = await demo.authorize(state="s1", scope="api refresh_token id",
                                login_hint=DEMO_USERNAME)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    for line in ("Allow Access?", "Access and manage your data (api)",
                 "Perform requests at any time (refresh_token, offline_access)",
                 "Access the identity URL service (id)",
                 'action="/services/oauth2/authorize"', 'name="username"', 'name="password"',
                 'name="decision" value="allow"', 'name="decision" value="deny"',
                 f'value="{DEMO_USERNAME}"'):
        assert line in text
    assert request_token(text)


async def test_allow_redirects_with_code_and_state(demo: Served) -> None:
    page = await demo.authorize(state="st ate/1", scope="api id")
    redirect = await demo.consent(page)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(CALLBACK + "?code=")
    params = query_of(redirect)
    assert params["state"] == "st ate/1" and len(params["code"]) > 40
    # The page's request token is used up.
    again = await demo.consent(page)
    assert again.status_code == 400 and "OAuth Error" in again.text


async def test_deny_redirects_with_access_denied(demo: Served) -> None:
    page = await demo.authorize(state="abc")
    redirect = await demo.consent(page, decision="deny", username="", password="")
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == (
        CALLBACK + "?error=access_denied&error_description=end-user+denied+authorization"
        "&state=abc")


async def test_wrong_credentials_show_the_page_again(demo: Served) -> None:
    page = await demo.authorize(state="s")
    wrong = await demo.consent(page, password="nope")
    assert wrong.status_code == 200
    assert "Please check your username and password" in wrong.text
    assert f'value="{DEMO_USERNAME}"' in wrong.text  # the username typed stays filled in
    assert (await demo.consent(wrong, decision="maybe")).status_code == 200
    redirect = await demo.consent(wrong)  # same request token, now right
    assert redirect.status_code == 302 and "code" in query_of(redirect)


async def test_unknown_or_missing_request_token_is_an_error_page(demo: Served) -> None:
    for form in ({"request_token": "made-up", "decision": "allow"}, {"decision": "allow"}, {}):
        resp = await demo.http.post(AUTHORIZE_PATH, data=form)
        assert resp.status_code == 400 and "Location" not in resp.headers
        assert "OAuth Error" in resp.text


@pytest.mark.parametrize(("params", "error"), [
    ({"client_id": "3MVGnotTheDemoApp"}, "invalid_client_id"),
    ({"client_id": None}, "invalid_client_id"),
    ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri_mismatch"),
    ({"redirect_uri": "http://localhost.evil.example:1717/cb"}, "redirect_uri_mismatch"),
    ({"redirect_uri": "http://localhost:99999/cb"}, "redirect_uri_mismatch"),
    ({"redirect_uri": "http://user@localhost:1717/cb"}, "redirect_uri_mismatch"),
    ({"redirect_uri": None}, "redirect_uri_mismatch"),
])
async def test_untrusted_requests_get_an_error_page_not_a_redirect(
        demo: Served, params: dict[str, str | None], error: str) -> None:
    resp = await demo.authorize(state="s", **params)
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert f"error={error}" in resp.text


@pytest.mark.parametrize(("params", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "unsupported_response_type"),
    ({"scope": "api launch_missiles"}, "invalid_scope"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ({"prompt": "none"}, "login_required"),
])
async def test_bad_requests_with_a_good_callback_redirect_an_error(
        demo: Served, params: dict[str, str | None], error: str) -> None:
    resp = await demo.authorize(state="s9", **params)
    assert resp.status_code == 302
    got = query_of(resp)
    assert got["error"] == error and got["state"] == "s9" and got["error_description"]


async def test_auto_approve_redirects_straight_back() -> None:
    async with served_org(auto_approve=True) as demo:
        resp = await demo.authorize(state="auto",
                                    redirect_uri="http://127.0.0.1:5555/OauthRedirect?x=1")
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith(
            "http://127.0.0.1:5555/OauthRedirect?x=1&code=")
        assert query_of(resp)["state"] == "auto"
        forced = await demo.authorize(prompt="login")
        assert forced.status_code == 200 and request_token(forced.text)


async def test_only_the_registered_callback_path_is_accepted() -> None:
    """Salesforce matches the callback URL exactly: the CLI's /OauthRedirect, not /OAuthRedirect
    (issue 12: an admin following Salesforce's docs registers the former)."""
    async with served_org(auto_approve=True) as demo:
        for path in ("/OAuthRedirect", "/cb", "/OauthRedirect/"):
            resp = await demo.authorize(redirect_uri=f"http://localhost:1717{path}")
            assert resp.status_code == 400 and "redirect_uri_mismatch" in resp.text


async def test_pkce_exchange_returns_salesforce_token_response(demo: Served) -> None:
    verifier, challenge = pkce_pair()
    code = await demo.code(challenge)
    resp = await demo.token(grant_type="authorization_code", code=code, client_id=DEMO_CLIENT_ID,
                            redirect_uri=CALLBACK, code_verifier=verifier)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert "no-store" in resp.headers["cache-control"]
    body = resp.json()
    assert list(body) == TOKEN_KEYS  # and no expires_in
    org = demo.org
    assert body["access_token"].startswith(org.org_id[:15] + "!")
    assert body["instance_url"] == org.base_url
    assert body["id"] == f"{org.base_url}/id/{org.org_id}/{org.user_id}"
    assert body["token_type"] == "Bearer" and body["scope"] == "api refresh_token id"
    assert body["issued_at"] == str(int(demo.clock() * 1000))
    mac = hmac.new(DEMO_SIGNATURE_KEY.encode(), (body["id"] + body["issued_at"]).encode(),
                   hashlib.sha256)
    assert body["signature"] == base64.b64encode(mac.digest()).decode()
    assert demo.tokens.check_access(body["access_token"]) is not None


async def _exchange(demo: Served, code: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": DEMO_CLIENT_ID,
            "redirect_uri": CALLBACK, **extra}
    return await demo.token(**{k: v for k, v in form.items() if v is not None})


async def test_pkce_wrong_verifier_is_invalid_request(demo: Served) -> None:
    _, challenge = pkce_pair()
    resp = await _exchange(demo, await demo.code(challenge), code_verifier=pkce_pair()[0])
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_request", "error_description": "invalid code verifier"}


async def test_pkce_missing_verifier_is_invalid_grant(demo: Served) -> None:
    _, challenge = pkce_pair()
    resp = await _exchange(demo, await demo.code(challenge))
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


async def test_code_reuse_and_expiry(demo: Served) -> None:
    code = await demo.code()
    assert (await _exchange(demo, code)).status_code == 200
    reused = await _exchange(demo, code)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant",
                             "error_description": "invalid authorization code"}
    late = await demo.code()
    demo.clock.advance(15 * 60 + 1)
    expired = await _exchange(demo, late)
    assert expired.json() == {"error": "invalid_grant",
                              "error_description": "expired authorization code"}


async def test_token_redirect_uri_must_match_authorize(demo: Served) -> None:
    resp = await _exchange(demo, await demo.code(), redirect_uri="http://localhost:1717/other")
    assert resp.status_code == 400 and resp.json()["error"] == "redirect_uri_mismatch"


async def test_wrong_client_id_at_token_endpoint(demo: Served) -> None:
    resp = await _exchange(demo, await demo.code(), client_id="3MVGsomeoneElse")
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_client_id",
                           "error_description": "client identifier invalid"}


async def test_client_secret_checked_when_the_app_has_one() -> None:
    async with served_org(client_secret="s3cr3t") as demo:
        missing = await _exchange(demo, await demo.code())
        assert missing.json()["error"] == "invalid_client"
        wrong = await _exchange(demo, await demo.code(), client_secret="nope")
        assert wrong.json() == {"error": "invalid_client",
                                "error_description": "invalid client credentials"}
        good = await _exchange(demo, await demo.code(), client_secret="s3cr3t")
        assert good.status_code == 200
        body = good.json()
        mac = hmac.new(b"s3cr3t", (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
        assert body["signature"] == base64.b64encode(mac.digest()).decode()
        basic = await demo.http.post(
            "/services/oauth2/token", auth=(DEMO_CLIENT_ID, "s3cr3t"),
            data={"grant_type": "authorization_code", "code": await demo.code(),
                  "redirect_uri": CALLBACK})
        assert basic.status_code == 200
        bad_basic = await demo.http.post(
            "/services/oauth2/token", headers={"Authorization": "Basic !!notbase64"},
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK})
        assert bad_basic.json()["error"] == "invalid_client"


async def test_failed_client_check_does_not_burn_the_code() -> None:
    async with served_org(client_secret="s3cr3t") as demo:
        code = await demo.code()
        assert (await _exchange(demo, code, client_secret="nope")).status_code == 400
        assert (await _exchange(demo, code, client_secret="s3cr3t")).status_code == 200


async def test_scope_without_refresh_token_gets_no_refresh_token(demo: Served) -> None:
    resp = await _exchange(demo, await demo.code(scope="api id"))
    assert resp.status_code == 200
    assert "refresh_token" not in resp.json() and resp.json()["scope"] == "api id"


@pytest.mark.parametrize(("fmt", "accept", "marker"), [
    ("urlencoded", None, "access_token="), ("xml", None, "<OAuth><access_token>"),
    (None, "application/xml", "<OAuth>"), (None, "application/json", '"access_token"')])
async def test_response_formats(demo: Served, fmt: str | None, accept: str | None,
                                marker: str) -> None:
    form = {"grant_type": "authorization_code", "code": await demo.code(),
            "client_id": DEMO_CLIENT_ID, "redirect_uri": CALLBACK}
    if fmt:
        form["format"] = fmt
    resp = await demo.http.post("/services/oauth2/token", data=form,
                                headers={"Accept": accept} if accept else {})
    assert resp.status_code == 200 and marker in resp.text
