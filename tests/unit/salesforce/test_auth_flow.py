"""Web-server login with PKCE: URL, code exchange body, pasted URL/code, state, errors."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from smvue_tui.salesforce.auth import LoginFlow, parse_pasted
from smvue_tui.salesforce.environments import PRODUCTION
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    LoginDenied,
    ReauthorizationNeeded,
    ServerUnavailable,
    WrongEnvironment,
)
from tests.unit.salesforce.auth_helpers import (
    ACCESS,
    CONSUMER,
    IDENTITY_URL,
    INSTANCE,
    ORG_ID,
    REFRESH,
    SECRET_CONSUMER,
    TOKEN_URL,
    USER_ID,
    form,
    identity_body,
    oauth_error,
    token_body,
)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def started(consumer=CONSUMER, **kwargs) -> LoginFlow:
    flow = LoginFlow(PRODUCTION, consumer, listen=False, **kwargs)
    await flow.start()
    return flow


def mock_success(httpx_mock, identity_status: int = 200):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, method="GET", status_code=identity_status,
                            json=identity_body() if identity_status == 200 else
                            [{"errorCode": "FORBIDDEN", "message": "no"}])


async def test_authorization_url_carries_pkce_s256_state_and_callback():
    flow = await started(port=1717)
    q = query(flow.authorization_url)
    assert flow.authorization_url.startswith(
        "https://login.salesforce.com/services/oauth2/authorize?")
    assert q["response_type"] == "code"
    assert q["client_id"] == CONSUMER.client_id
    assert q["redirect_uri"] == "http://localhost:1717/OauthRedirect"
    assert q["scope"] == "api refresh_token id"
    assert q["state"] == flow.state and len(flow.state) >= 32
    assert q["code_challenge_method"] == "S256"
    digest = hashlib.sha256(flow.code_verifier.encode()).digest()
    assert q["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert "=" not in q["code_challenge"]
    assert 43 <= len(flow.code_verifier) <= 128
    other = await started()
    assert (other.state, other.code_verifier) != (flow.state, flow.code_verifier)


async def test_pasted_redirect_url_exchanges_the_code_with_the_exact_form(httpx_mock):
    mock_success(httpx_mock)
    flow = await started()
    creds = await flow.complete_with_pasted(
        f"  http://localhost:1717/OauthRedirect?code=aPrx%3D%3D&state={flow.state}\n")
    sent = form(httpx_mock.get_request(url=TOKEN_URL))
    assert sent == {"grant_type": "authorization_code", "code": "aPrx==",
                    "code_verifier": flow.code_verifier, "client_id": CONSUMER.client_id,
                    "redirect_uri": "http://localhost:1717/OauthRedirect"}
    identity = httpx_mock.get_request(url=IDENTITY_URL)
    assert identity.headers["Authorization"] == f"Bearer {ACCESS}"
    assert (creds.access_token, creds.refresh_token) == (ACCESS, REFRESH)
    assert (creds.org_id, creds.user_id, creds.username) == (ORG_ID, USER_ID, "jane@acme.com")
    assert creds.instance_url == INSTANCE and creds.identity_url == IDENTITY_URL
    assert creds.environment == PRODUCTION and creds.client_id == CONSUMER.client_id
    assert creds.issued_at.timestamp() == 1767225600
    assert creds.who() == "Jane Doe <jane@acme.com>"
    assert await flow.wait_for_redirect() == creds
    assert ACCESS not in repr(creds) and REFRESH not in repr(creds) and ACCESS not in str(creds)


async def test_secret_goes_in_the_form_when_the_app_has_one(httpx_mock):
    mock_success(httpx_mock)
    flow = await started(SECRET_CONSUMER)
    await flow.complete_with_pasted("the-code")
    sent = form(httpx_mock.get_request(url=TOKEN_URL))
    assert sent["client_secret"] == "fake-consumer-secret"
    assert sent["client_id"] == SECRET_CONSUMER.client_id and sent["code"] == "the-code"


async def test_bare_code_is_accepted_for_the_pending_login_only(httpx_mock):
    mock_success(httpx_mock)
    flow = await started()
    creds = await flow.complete_with_pasted("aPrxSomeCode%3D%3D")
    assert form(httpx_mock.get_request(url=TOKEN_URL))["code"] == "aPrxSomeCode=="
    assert creds.org_id == ORG_ID
    with pytest.raises(AuthorizationError) as info:
        await flow.complete_with_pasted("anotherCode")
    assert info.value.code == "login_finished"
    assert len(httpx_mock.get_requests(url=TOKEN_URL)) == 1


async def test_pasted_url_with_wrong_or_missing_state_is_refused(httpx_mock):
    flow = await started()
    for text in ("http://localhost:1717/OauthRedirect?code=abc&state=forged",
                 "http://localhost:1717/OauthRedirect?code=abc",
                 "code=abc&state=forged"):
        with pytest.raises(AuthorizationError) as info:
            await flow.complete_with_pasted(text)
        assert info.value.code == "state_mismatch"
    assert httpx_mock.get_requests() == []
    mock_success(httpx_mock)  # the login is still pending: the right URL still works
    creds = await flow.complete_with_pasted(f"?code=abc&state={flow.state}")
    assert creds.user_id == USER_ID


async def test_pasted_error_url_ends_the_login_with_a_typed_error():
    flow = await started()
    url = (f"http://localhost:1717/OauthRedirect?error=access_denied"
           f"&error_description=end-user+denied+authorization&state={flow.state}")
    with pytest.raises(LoginDenied, match="end-user denied authorization"):
        await flow.complete_with_pasted(url)
    with pytest.raises(LoginDenied):
        await flow.wait_for_redirect()


@pytest.mark.parametrize("text", ["", "   ", "two words", "http://localhost:1717/OauthRedirect"])
async def test_unrecognised_paste_is_a_retryable_error(text):
    flow = await started()
    with pytest.raises(AuthorizationError) as info:
        await flow.complete_with_pasted(text)
    assert info.value.code == "unrecognised_paste"


def test_parse_pasted_shapes():
    assert parse_pasted("abc==").code == "abc==" and parse_pasted("abc==").state is None
    assert parse_pasted("'http://x/cb?code=c1&state=s1'").state == "s1"
    assert parse_pasted("http://x/cb#code=c2&state=s2").code == "c2"
    assert parse_pasted("http://x/cb?error=access_denied&state=s").error["error"] == \
        "access_denied"


@pytest.mark.parametrize(("response", "error_type", "code"), [
    (oauth_error("invalid_grant", "invalid authorization code"), AuthorizationError,
     "invalid_grant"),
    (oauth_error("invalid_client_id", "client identifier invalid"), WrongEnvironment,
     "invalid_client_id"),
    (oauth_error("invalid_client", "invalid client credentials"), AuthorizationError,
     "invalid_client"),
    (oauth_error("invalid_request", "invalid code verifier"), AuthorizationError,
     "invalid_request"),
    (oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration"),
     AuthorizationError, "redirect_uri_mismatch"),
    ({"status_code": 400, "text": "<html>Bad Request</html>"}, AuthorizationError, ""),
    ({"status_code": 503, "text": "maintenance"}, ServerUnavailable, ""),
    ({"status_code": 200, "text": "not json"}, AuthorizationError, "invalid_token_response"),
    ({"status_code": 200, "json": {"token_type": "Bearer"}}, AuthorizationError,
     "invalid_token_response"),
])
async def test_exchange_errors_become_typed_errors(httpx_mock, response, error_type, code):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", **response)
    flow = await started()
    with pytest.raises(error_type) as info:
        await flow.complete_with_pasted("c0de")
    assert info.value.code == code
    assert not isinstance(info.value, ReauthorizationNeeded)  # a bad code is not a lost session
    assert flow.code_verifier not in str(info.value)


async def test_network_failure_is_server_unavailable(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("Connection refused"), url=TOKEN_URL)
    flow = await started()
    with pytest.raises(ServerUnavailable, match="Connection refused"):
        await flow.complete_with_pasted("c0de")


async def test_identity_failure_still_logs_in_with_ids_from_the_id_url(httpx_mock):
    mock_success(httpx_mock, identity_status=403)
    flow = await started()
    creds = await flow.complete_with_pasted("c0de")
    assert (creds.org_id, creds.user_id, creds.username) == (ORG_ID, USER_ID, "")
    assert creds.who() == USER_ID


async def test_identity_is_never_fetched_over_plain_http_off_loopback(httpx_mock):
    body = token_body()
    body["id"] = f"http://evil.example.com/id/{ORG_ID}/{USER_ID}"
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=body)
    flow = await started()
    creds = await flow.complete_with_pasted("c0de")
    assert creds.org_id == ORG_ID
    assert len(httpx_mock.get_requests()) == 1
