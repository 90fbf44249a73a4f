"""Refresh, password and device grants, revocation, and malformed requests, over loopback."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest

from smvue_demo_org.oauth import issue_demo_login
from smvue_demo_org.org import DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from tests.unit.demo_org.oauth_support import TOKEN_PATH, Served, served_org


@pytest.fixture
async def demo() -> AsyncIterator[Served]:
    async with served_org() as served:
        yield served


def error_of(resp: httpx.Response) -> tuple[str, str]:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == {"error", "error_description"}
    return body["error"], body["error_description"]


async def refresh(demo: Served, token: str, **extra: str) -> httpx.Response:
    return await demo.token(grant_type="refresh_token", refresh_token=token,
                            client_id=DEMO_CLIENT_ID, **extra)


# -- refresh --------------------------------------------------------------------------------


async def test_refresh_without_rotation(demo: Served) -> None:
    login = await demo.login()
    demo.clock.advance(60)
    resp = await refresh(demo, login["refresh_token"])
    assert resp.status_code == 200
    body = resp.json()
    assert "refresh_token" not in body and "expires_in" not in body
    assert body["access_token"] != login["access_token"]
    assert body["issued_at"] == str(int(demo.clock() * 1000))
    assert demo.tokens.check_access(body["access_token"]) is not None
    assert (await refresh(demo, login["refresh_token"])).status_code == 200  # reusable


async def test_refresh_with_rotation_rejects_the_old_token() -> None:
    async with served_org(rotation=True) as demo:
        login = await demo.login()
        first = (await refresh(demo, login["refresh_token"])).json()
        assert first["refresh_token"] != login["refresh_token"]
        second = await refresh(demo, first["refresh_token"])
        assert second.status_code == 200 and second.json()["refresh_token"]
        # Reusing a rotated-away token is refused, and revokes the family (issue 12).
        assert error_of(await refresh(demo, login["refresh_token"])) == (
            "invalid_grant", "expired access/refresh token")
        assert error_of(await refresh(demo, second.json()["refresh_token"]))[0] == \
            "invalid_grant"


@pytest.mark.parametrize("token", ["", "5Aep861nothingIssued", "x" * 5000])
async def test_unknown_refresh_token(demo: Served, token: str) -> None:
    assert error_of(await refresh(demo, token)) == ("invalid_grant",
                                                    "expired access/refresh token")


async def test_refresh_needs_the_secret_when_the_app_has_one() -> None:
    async with served_org(client_secret="s3cr3t") as demo:
        login = (await demo.token(grant_type="password", client_id=DEMO_CLIENT_ID,
                                  client_secret="s3cr3t", username=DEMO_USERNAME,
                                  password=DEMO_PASSWORD)).json()
        assert "refresh_token" not in login
        code = await demo.code()
        body = (await demo.token(grant_type="authorization_code", code=code,
                                 client_id=DEMO_CLIENT_ID, client_secret="s3cr3t",
                                 redirect_uri="http://localhost:1717/OauthRedirect")).json()
        assert error_of(await refresh(demo, body["refresh_token"]))[0] == "invalid_client"
        ok = await refresh(demo, body["refresh_token"], client_secret="s3cr3t")
        assert ok.status_code == 200


# -- password -------------------------------------------------------------------------------


async def test_password_grant(demo: Served) -> None:
    resp = await demo.token(grant_type="password", client_id=DEMO_CLIENT_ID,
                            username=DEMO_USERNAME.upper(), password=DEMO_PASSWORD)
    assert resp.status_code == 200
    body = resp.json()
    assert "refresh_token" not in body  # Salesforce's username-password flow has none
    assert body["access_token"].startswith(demo.org.org_id[:15] + "!")
    assert demo.tokens.check_access(body["access_token"]).user_id == demo.org.user_id


@pytest.mark.parametrize(("username", "password"), [
    (DEMO_USERNAME, "wrong"), ("someone@else", DEMO_PASSWORD), ("", ""),
    (DEMO_USERNAME, DEMO_PASSWORD + "extra")])
async def test_password_grant_wrong_credentials(demo: Served, username: str,
                                                password: str) -> None:
    resp = await demo.token(grant_type="password", client_id=DEMO_CLIENT_ID,
                            username=username, password=password)
    assert error_of(resp) == ("invalid_grant", "authentication failure")


# -- device flow ----------------------------------------------------------------------------


async def start_device(demo: Served) -> dict[str, object]:
    resp = await demo.token(response_type="device_code", client_id=DEMO_CLIENT_ID,
                            scope="api refresh_token")
    assert resp.status_code == 200
    return resp.json()


async def poll(demo: Served, device_code: object) -> httpx.Response:
    return await demo.token(grant_type="device", client_id=DEMO_CLIENT_ID, code=str(device_code))


async def test_device_start_answers_in_salesforce_dialect(demo: Served) -> None:
    body = await start_device(demo)
    assert set(body) == {"device_code", "user_code", "verification_uri", "interval"}
    assert body["verification_uri"] == f"{demo.org.base_url}/setup/connect"
    assert body["interval"] == 5 and len(str(body["user_code"])) == 8


async def test_device_pending_slow_down_then_approved(demo: Served) -> None:
    body = await start_device(demo)
    assert error_of(await poll(demo, body["device_code"]))[0] == "authorization_pending"
    assert error_of(await poll(demo, body["device_code"]))[0] == "slow_down"  # no time passed
    demo.clock.advance(5)
    assert error_of(await poll(demo, body["device_code"]))[0] == "authorization_pending"
    approve = await demo.http.post("/demo/device",
                                   json={"user_code": body["user_code"], "decision": "allow"})
    assert approve.status_code == 200 and approve.json()["status"] == "approved"
    demo.clock.advance(5)
    tokens = await poll(demo, body["device_code"])
    assert tokens.status_code == 200
    assert {"access_token", "refresh_token", "signature", "instance_url", "id", "issued_at"} \
        <= set(tokens.json())
    assert error_of(await poll(demo, body["device_code"]))[0] == "invalid_grant"


async def test_device_denied(demo: Served) -> None:
    body = await start_device(demo)
    deny = await demo.http.post("/demo/device",
                                json={"user_code": body["user_code"], "decision": "deny"})
    assert deny.json()["status"] == "denied"
    assert error_of(await poll(demo, body["device_code"]))[0] == "access_denied"


async def test_device_code_expires(demo: Served) -> None:
    body = await start_device(demo)
    demo.clock.advance(10 * 60)
    assert error_of(await poll(demo, body["device_code"]))[0] == "expired_token"
    late = await demo.http.post("/demo/device",
                                json={"user_code": body["user_code"], "decision": "allow"})
    assert late.status_code == 404


async def test_device_verification_page(demo: Served) -> None:
    body = await start_device(demo)
    page = await demo.http.get("/setup/connect", params={"user_code": body["user_code"]})
    assert page.status_code == 200 and f'value="{body["user_code"]}"' in page.text
    form = {"user_code": body["user_code"], "username": DEMO_USERNAME, "decision": "allow"}
    wrong = await demo.http.post("/setup/connect", data={**form, "password": "nope"})
    assert "Please check your username and password" in wrong.text
    bad_code = await demo.http.post("/setup/connect",
                                    data={**form, "user_code": "ZZZZ9999",
                                          "password": DEMO_PASSWORD})
    assert "invalid or expired" in bad_code.text
    assert error_of(await poll(demo, body["device_code"]))[0] == "authorization_pending"
    done = await demo.http.post("/setup/connect", data={**form, "password": DEMO_PASSWORD})
    assert done.status_code == 200 and "Connected" in done.text
    demo.clock.advance(5)
    assert (await poll(demo, body["device_code"])).status_code == 200


async def test_device_page_deny_needs_no_login(demo: Served) -> None:
    body = await start_device(demo)
    resp = await demo.http.post("/setup/connect",
                                data={"user_code": body["user_code"], "decision": "deny"})
    assert "Access Denied" in resp.text
    assert error_of(await poll(demo, body["device_code"]))[0] == "access_denied"


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"user_code": 5, "decision": "allow"}',
                                     b'{"user_code": "X", "decision": "maybe"}', b"\xff\xfe"])
async def test_demo_device_endpoint_rejects_garbage(demo: Served, payload: bytes) -> None:
    resp = await demo.http.post("/demo/device", content=payload)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


# -- revoke ---------------------------------------------------------------------------------


async def test_revoke_refresh_token_takes_its_access_tokens(demo: Served) -> None:
    login = await demo.login()
    resp = await demo.http.post("/services/oauth2/revoke", data={"token": login["refresh_token"]})
    assert resp.status_code == 200 and resp.content == b""
    assert demo.tokens.check_access(login["access_token"]) is None
    assert error_of(await refresh(demo, login["refresh_token"]))[0] == "invalid_grant"
    again = await demo.http.post("/services/oauth2/revoke", data={"token": login["refresh_token"]})
    assert error_of(again) == ("unsupported_token_type", "unsupported token type")


async def test_revoke_access_token_by_get(demo: Served) -> None:
    login = await demo.login()
    resp = await demo.http.get("/services/oauth2/revoke",
                               params={"token": login["access_token"]})
    assert resp.status_code == 200 and resp.content == b""
    assert demo.tokens.check_access(login["access_token"]) is None
    assert (await refresh(demo, login["refresh_token"])).status_code == 200


async def test_revoke_errors(demo: Served) -> None:
    assert error_of(await demo.http.post("/services/oauth2/revoke"))[0] == "invalid_token"
    assert error_of(await demo.http.post("/services/oauth2/revoke", json={"token": "x"}))[0] \
        == "invalid_token"
    assert error_of(await demo.http.get("/services/oauth2/revoke?token=nope"))[0] == \
        "unsupported_token_type"


# -- malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize(("form", "expected"), [
    ({}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"grant_type": "authorization_code"}, "invalid_client_id"),
    ({"grant_type": "authorization_code", "client_id": DEMO_CLIENT_ID}, "invalid_grant"),
    ({"grant_type": "device", "client_id": DEMO_CLIENT_ID}, "invalid_grant"),
    ({"response_type": "device_code"}, "invalid_client_id"),
    ({"response_type": "device_code", "client_id": DEMO_CLIENT_ID, "scope": "nope"},
     "invalid_scope"),
    ({"grant_type": "password", "client_id": DEMO_CLIENT_ID, "username": "x" * 9000},
     "invalid_request"),
])
async def test_malformed_token_requests(demo: Served, form: dict[str, str],
                                        expected: str) -> None:
    assert error_of(await demo.token(**form))[0] == expected


async def test_token_endpoint_wants_post(demo: Served) -> None:
    resp = await demo.http.get(TOKEN_PATH, params={"grant_type": "password"})
    assert error_of(resp) == ("invalid_request", "must use HTTP POST")


@pytest.mark.parametrize(("content", "content_type"), [
    (b'{"grant_type": "password"}', "application/json"),
    (b"\xff\xfe\x00garbage=%%%&&==", "application/x-www-form-urlencoded"),
    (b"--nope\r\ngarbage", "multipart/form-data; boundary=nope"),
    (b"--x\r\nContent-Disposition: form-data\r\n\r\nbroken", "multipart/form-data; boundary=x"),
    (b"grant_type=password", "text/plain"),
])
async def test_garbage_bodies_get_oauth_errors(demo: Served, content: bytes,
                                               content_type: str) -> None:
    for path in (TOKEN_PATH, "/services/oauth2/revoke", "/services/oauth2/authorize"):
        resp = await demo.http.post(path, content=content, headers={"Content-Type": content_type})
        assert resp.status_code == 400, (path, resp.text)
        if path != "/services/oauth2/authorize":
            assert resp.json()["error"]


async def test_random_token_requests_never_fail_the_server(demo: Served) -> None:
    rng = random.Random(7)
    names = ["grant_type", "code", "client_id", "client_secret", "redirect_uri", "code_verifier",
             "refresh_token", "username", "password", "response_type", "scope", "format"]
    values = ["", "password", "device", "authorization_code", "refresh_token", "device_code",
              DEMO_CLIENT_ID, DEMO_USERNAME, DEMO_PASSWORD, "xml", "urlencoded", "\u2603",
              "a" * 300, "api refresh_token", "%00", "http://localhost:1/cb"]
    for _ in range(150):
        form = {rng.choice(names): rng.choice(values) for _ in range(rng.randint(0, 6))}
        resp = await demo.token(**form)
        assert resp.status_code in (200, 400), (form, resp.status_code)


async def test_issue_demo_login_matches_a_web_login(demo: Served) -> None:
    body = issue_demo_login(demo.org)
    assert list(body) == ["access_token", "refresh_token", "signature", "scope", "instance_url",
                          "id", "token_type", "issued_at"]
    assert (await demo.identity(body["access_token"])).status_code == 200
    assert (await refresh(demo, body["refresh_token"])).status_code == 200


async def test_random_page_requests_never_fail_the_server(demo: Served) -> None:
    rng = random.Random(11)
    names = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
             "code_challenge_method", "prompt", "request_token", "decision", "username",
             "password", "user_code", "token", "oauth_token", "version"]
    values = ["", "code", DEMO_CLIENT_ID, "http://localhost:1717/cb", "http://[::1]:80/x",
              "http://localhost:abc/", "http://[bad", "api", "none", "login", "a" * 43,
              "\u2603", "%", "S256", "plain", "allow", "deny", DEMO_USERNAME, "x" * 2000]
    endpoints = [("GET", "/services/oauth2/authorize"), ("POST", "/services/oauth2/authorize"),
                 ("GET", "/setup/connect"), ("POST", "/setup/connect"),
                 ("GET", "/services/oauth2/revoke"), ("GET", "/services/oauth2/userinfo"),
                 ("GET", f"/id/{demo.org.org_id}/x")]
    for _ in range(40):
        params = {rng.choice(names): rng.choice(values) for _ in range(rng.randint(0, 8))}
        for method, path in endpoints:
            if method == "GET":
                resp = await demo.http.get(path, params=params)
            else:
                resp = await demo.http.post(path, data=params)
            assert resp.status_code < 500, (method, path, params)
