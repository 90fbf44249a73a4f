"""The choke point's failure paths: typed errors, retries, token refresh, usage and budget."""

from __future__ import annotations

import asyncio
import random
import traceback

import httpx
import pytest

from smvue_tui.salesforce.errors import (
    ApiDisabled,
    AuthorizationError,
    BudgetExceeded,
    FieldUnavailable,
    InvalidQueryLocator,
    ObjectUnavailable,
    PermissionDenied,
    QueryError,
    QueryTimeout,
    RateLimitExceeded,
    ReauthorizationNeeded,
    SalesforceError,
    ServerUnavailable,
    SessionUnstable,
    WrongEnvironment,
)
from smvue_tui.salesforce.requester import MAX_REFRESHES
from tests.unit.salesforce.client_fakes import (
    BASE,
    TOKEN_1,
    TOKEN_2,
    FakeSession,
    FakeSleep,
    bearer,
    make_client,
    rest_error,
)

LIMITS = f"{BASE}/limits"
HTML_503 = ("<html><head><title>Maintenance — Salesforce</title></head>"
            "<body><h1>Down for maintenance</h1></body></html>")


def assert_no_token(err: BaseException) -> None:
    text = "".join(traceback.format_exception(err)) + repr(err) + str(err.args)
    for token in (TOKEN_1, TOKEN_2):
        assert token not in text
        assert token.split("!")[1] not in text


@pytest.mark.parametrize(("status", "body", "cls", "user_message"), [
    (400, rest_error("MALFORMED_QUERY", "unexpected token: FROM"), QueryError,
     "Salesforce rejected a query"),
    (400, rest_error("INVALID_FIELD", "No such column 'Foo' on entity 'Opportunity'"),
     FieldUnavailable, "A Salesforce field is missing or hidden"),
    (400, rest_error("INVALID_TYPE", "sObject type 'OpportunityTeamMember' is not supported"),
     ObjectUnavailable, "A Salesforce object is not available in this org"),
    (400, rest_error("QUERY_TIMEOUT", "Your query request was running for too long."),
     QueryTimeout, "A Salesforce query timed out"),
    (400, rest_error("INVALID_QUERY_LOCATOR", "invalid query locator"), InvalidQueryLocator,
     "A Salesforce query cursor expired"),
    (400, rest_error("EXCEEDED_ID_LIMIT", "ID limit exceeded"), QueryError,
     "Salesforce rejected a query"),
    (403, rest_error("API_DISABLED_FOR_ORG", "API is not enabled for this Organization"),
     ApiDisabled, "Salesforce API access is not enabled"),
    (403, rest_error("API_CURRENTLY_DISABLED", "API is disabled for this User"), ApiDisabled,
     "Salesforce API access is not enabled"),
    (403, rest_error("INSUFFICIENT_ACCESS", "insufficient access rights"), PermissionDenied,
     "Insufficient permissions to access Salesforce data"),
    (404, rest_error("NOT_FOUND", "The requested resource does not exist"), ObjectUnavailable,
     "A Salesforce object is not available in this org"),
    (400, {"error": "invalid_grant", "error_description": "expired access/refresh token"},
     ReauthorizationNeeded, "Salesforce connection expired — please reconnect"),
    (400, {"error": "invalid_client_id", "error_description": "client identifier invalid"},
     WrongEnvironment, "Unable to authorize Salesforce connection"),
    (400, {"error": "invalid_request", "error_description": "bad request"},
     AuthorizationError, "Unable to authorize Salesforce connection"),
    (410, "<html><title>Gone</title></html>", SalesforceError, "Salesforce returned an error"),
    (414, "Request-URI Too Large", SalesforceError, "Salesforce returned an error"),
    (405, rest_error("METHOD_NOT_ALLOWED", "HTTP Method 'GET' not allowed"), SalesforceError,
     "Salesforce returned an error"),
])
async def test_each_error_shape_is_typed(httpx_mock, status, body, cls, user_message):
    if isinstance(body, str):
        httpx_mock.add_response(url=LIMITS, status_code=status, text=body)
    else:
        httpx_mock.add_response(url=LIMITS, status_code=status, json=body)
    async with make_client() as sf:
        with pytest.raises(SalesforceError) as info:
            await sf.limits()
    err = info.value
    assert type(err) is cls
    assert err.user_message == user_message and err.remedy
    assert err.status == status
    assert len(httpx_mock.get_requests()) == 1  # 4xx is never retried
    assert_no_token(err)


async def test_non_json_bodies_get_a_short_readable_detail(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=410, text="<html><title>Gone</title></html>")
    httpx_mock.add_response(url=LIMITS, status_code=414, text="<h1>URI Too Long</h1>")
    httpx_mock.add_response(url=LIMITS, status_code=400, text="x" * 5000)
    async with make_client() as sf:
        with pytest.raises(SalesforceError, match=r"HTTP 410: Gone \(this API version is retired"):
            await sf.limits()
        with pytest.raises(SalesforceError, match=r"HTTP 414: URI Too Long .*split the query"):
            await sf.limits()
        with pytest.raises(SalesforceError) as info:
            await sf.limits()
    assert len(str(info.value)) < 300


async def test_html_200_is_a_typed_error(httpx_mock):
    httpx_mock.add_response(url=LIMITS, text="<html><title>Login</title></html>",
                            headers={"Content-Type": "text/html"})
    async with make_client() as sf:
        with pytest.raises(SalesforceError, match=r"expected JSON.*text/html: Login"):
            await sf.limits()


async def test_token_echoed_in_error_body_is_redacted(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=400,
                            json=rest_error("INVALID_HEADER", f"bad header Bearer {TOKEN_1}"))
    httpx_mock.add_response(url=LIMITS, status_code=400, text=f"<p>session {TOKEN_1}</p>")
    async with make_client() as sf:
        for _ in range(2):
            with pytest.raises(SalesforceError) as info:
                await sf.limits()
            assert "[redacted]" in str(info.value)
            assert_no_token(info.value)


@pytest.mark.parametrize("failure", [
    {"status_code": 500, "json": rest_error("UNKNOWN_EXCEPTION", "An unexpected error")},
    {"status_code": 503, "json": rest_error("SERVER_UNAVAILABLE", "Server unavailable")},
    {"status_code": 502, "text": HTML_503},
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadError("connection reset by peer"),
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ReadTimeout("The read operation timed out"),
    httpx.ConnectTimeout("timed out"),
])
async def test_transient_failures_are_retried_with_backoff(httpx_mock, failure):
    for _ in range(2):
        if isinstance(failure, Exception):
            httpx_mock.add_exception(failure, url=LIMITS)
        else:
            httpx_mock.add_response(url=LIMITS, **failure)
    httpx_mock.add_response(url=LIMITS, json={"DailyApiRequests": {}})
    sleep = FakeSleep()
    async with make_client(sleep=sleep, backoff_base=1.0, rng=random.Random(7)) as sf:
        assert await sf.limits() == {"DailyApiRequests": {}}
    assert len(httpx_mock.get_requests()) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 1.0 and 0 <= sleep.delays[1] <= 2.0  # full jitter, doubling


@pytest.mark.parametrize("failure", [
    {"status_code": 503, "json": rest_error("SERVER_UNAVAILABLE", "Server unavailable")},
    {"status_code": 503, "text": HTML_503},
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadTimeout("The read operation timed out"),
])
async def test_retries_are_bounded_then_server_unavailable(httpx_mock, failure):
    for _ in range(4):
        if isinstance(failure, Exception):
            httpx_mock.add_exception(failure, url=LIMITS)
        else:
            httpx_mock.add_response(url=LIMITS, **failure)
    sleep = FakeSleep()
    async with make_client(max_retries=3, backoff_base=0, sleep=sleep) as sf:
        with pytest.raises(ServerUnavailable) as info:
            await sf.limits()
    assert len(httpx_mock.get_requests()) == 4  # 1 + max_retries, then stop
    assert sleep.delays == [0, 0, 0]
    assert sf.calls_sent == (0 if isinstance(failure, Exception) else 4)
    err = info.value
    assert "gave up after 4 attempts" in str(err)
    assert err.user_message == "Salesforce is not responding"
    assert err.__cause__ is None or TOKEN_1 not in str(err.__cause__)
    assert_no_token(err)


async def test_backoff_is_capped_and_jittered():
    from smvue_tui.salesforce.requester import BACKOFF_CAP

    sleep = FakeSleep()
    async with make_client(sleep=sleep, backoff_base=0.5, rng=random.Random(1)) as sf:
        for attempt in range(1, 12):
            await sf._rq._backoff(attempt, "GET", LIMITS, "HTTP 503")
    assert all(0 <= d <= BACKOFF_CAP for d in sleep.delays)
    assert max(sleep.delays[8:]) > 2.0  # later attempts may wait longer
    assert len(set(sleep.delays)) == len(sleep.delays)  # jittered, not a fixed schedule


async def test_401_refreshes_once_and_retries_with_the_new_token(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=401,
                            json=rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
    httpx_mock.add_response(url=LIMITS, json={"ok": True})
    session = FakeSession()
    async with make_client(session) as sf:
        assert await sf.limits() == {"ok": True}
    assert session.refresh_calls == [TOKEN_1]
    assert [bearer(r) for r in httpx_mock.get_requests()] == [TOKEN_1, TOKEN_2]


async def test_401s_after_refreshes_that_worked_are_not_a_dead_login(httpx_mock):
    """Issue 20: sessions ended every 1–3 calls (by other requests using up each new one) said
    "Log in again" although the login worked. Only a refused refresh means that; 401s after
    refreshes that worked are retried, then end in a retryable error saying so."""
    for _ in range(MAX_REFRESHES + 1):
        httpx_mock.add_response(url=LIMITS, status_code=401,
                                json=rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
    session = FakeSession()
    async with make_client(session) as sf:
        with pytest.raises(SessionUnstable) as info:
            await sf.limits()
    assert not isinstance(info.value, ReauthorizationNeeded)
    assert "again" in info.value.remedy and "Log in" not in info.value.remedy
    assert session.refreshes == MAX_REFRESHES
    assert len(httpx_mock.get_requests()) == MAX_REFRESHES + 1
    assert_no_token(info.value)


async def test_a_second_401_after_a_refresh_is_refreshed_again(httpx_mock):
    for _ in range(2):
        httpx_mock.add_response(url=LIMITS, status_code=401,
                                json=rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
    httpx_mock.add_response(url=LIMITS, json={"DailyApiRequests": {"Max": 15000,
                                                                   "Remaining": 14000}})
    session = FakeSession()
    async with make_client(session) as sf:
        await sf.limits()
    assert session.refreshes == 2


async def test_dead_refresh_token_does_not_loop(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=401,
                            json=rest_error("INVALID_SESSION_ID", "Session expired or invalid"))
    session = FakeSession(dead=True)
    async with make_client(session) as sf:
        with pytest.raises(ReauthorizationNeeded) as info:
            await sf.limits()
    assert session.refresh_calls == [TOKEN_1]
    assert len(httpx_mock.get_requests()) == 1
    assert info.value.user_message == "Salesforce connection expired — please reconnect"
    assert_no_token(info.value)


async def test_concurrent_401s_share_one_refresh(httpx_mock):
    callers = 5
    arrived = 0
    all_in = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal arrived
        if bearer(request) == TOKEN_1:
            arrived += 1
            if arrived == callers:
                all_in.set()
            await all_in.wait()  # every caller holds the old token before any refresh
            return httpx.Response(401, json=rest_error("INVALID_SESSION_ID", "Session expired"))
        return httpx.Response(200, json={"ok": True})

    httpx_mock.add_callback(answer, url=LIMITS, is_reusable=True)
    session = FakeSession()
    async with make_client(session) as sf:
        results = await asyncio.gather(*(sf.limits() for _ in range(callers)))
    assert results == [{"ok": True}] * callers
    assert session.refresh_calls == [TOKEN_1] * callers  # each passed the token that failed
    assert session.refreshes == 1
    tokens = [bearer(r) for r in httpx_mock.get_requests()]
    assert tokens.count(TOKEN_1) == callers and tokens.count(TOKEN_2) == callers


async def test_limit_info_updates_usage_on_every_response(httpx_mock):
    httpx_mock.add_response(url=LIMITS, json={}, headers={"Sforce-Limit-Info": "api-usage=10/100"})
    httpx_mock.add_response(url=LIMITS, status_code=400, json=rest_error("X", "y"),
                            headers={"Sforce-Limit-Info": "api-usage=11/100; api-bursts=2/750"})
    async with make_client() as sf:
        assert sf.usage.share is None
        await sf.limits()
        assert (sf.usage.used, sf.usage.max, sf.usage.share) == (10, 100, 0.1)
        first_at = sf.usage.updated_at
        with pytest.raises(SalesforceError):
            await sf.limits()
        assert (sf.usage.used, sf.usage.bursts_used, sf.usage.bursts_max) == (11, 2, 750)
        assert sf.usage.updated_at >= first_at


async def test_budget_refuses_non_essential_before_sending(httpx_mock):
    httpx_mock.add_response(url=LIMITS, json={}, headers={"Sforce-Limit-Info": "api-usage=80/100"})
    httpx_mock.add_response(url=LIMITS, json={"essential": True})
    async with make_client() as sf:
        await sf.limits()
        assert not sf.budget_allows(essential=False) and sf.budget_allows(essential=True)
        with pytest.raises(BudgetExceeded) as info:
            await sf.request("GET", "limits", essential=False)
        with pytest.raises(BudgetExceeded):
            await anext(sf.query_pages("SELECT Id FROM Task", essential=False))
        with pytest.raises(BudgetExceeded):
            await sf.count("FROM Task", essential=False)
        assert len(httpx_mock.get_requests()) == 1  # nothing went out
        assert info.value.resets_at is not None and info.value.usage.used == 80
        assert (await sf.limits()) == {"essential": True}  # essential calls still go


async def test_budget_share_is_configurable(httpx_mock):
    httpx_mock.add_response(url=LIMITS, json={}, headers={"Sforce-Limit-Info": "api-usage=80/100"})
    httpx_mock.add_response(url=LIMITS, json={})
    async with make_client(budget_share=0.9) as sf:
        await sf.limits()
        await sf.request("GET", "limits", essential=False)
    assert len(httpx_mock.get_requests()) == 2


async def test_request_limit_exceeded_is_not_retried(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=403,
                            json=rest_error("REQUEST_LIMIT_EXCEEDED",
                                            "TotalRequests Limit exceeded."),
                            headers={"Sforce-Limit-Info": "api-usage=15001/15000"})
    async with make_client() as sf:
        with pytest.raises(RateLimitExceeded) as info:
            await sf.limits()
    err = info.value
    assert type(err) is RateLimitExceeded
    assert err.user_message == "Salesforce API rate limit exceeded"
    assert "midnight Pacific" in err.remedy
    assert err.resets_at is not None and err.usage.used == 15001
    assert len(httpx_mock.get_requests()) == 1


async def test_concurrent_request_limit_has_no_midnight_reset(httpx_mock):
    httpx_mock.add_response(url=LIMITS, status_code=403, json=rest_error(
        "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."))
    async with make_client() as sf:
        with pytest.raises(RateLimitExceeded) as info:
            await sf.limits()
    assert info.value.resets_at is None


async def test_refused_write_never_reaches_the_network(httpx_mock):
    from smvue_tui.salesforce.errors import ReadOnlyViolation

    async with make_client() as sf:
        for method in ("POST", "PATCH", "DELETE", "PUT"):
            with pytest.raises(ReadOnlyViolation):
                await sf.request(method, "sobjects/Account/001XX000003DHP0", json={"Name": "x"})
    assert not httpx_mock.get_requests()


async def test_raw_returns_soap_faults_without_retrying(httpx_mock):
    fault = "<soapenv:Fault><faultcode>sf:INVALID_TYPE</faultcode></soapenv:Fault>"
    url = "https://acme.my.salesforce.com/services/Soap/m/66.0"
    httpx_mock.add_response(url=url, status_code=500, text=fault,
                            headers={"Sforce-Limit-Info": "api-usage=5/100"})
    body = (b'<Envelope><Body><readMetadata><type>Flow</type><fullNames>X</fullNames>'
            b"</readMetadata></Body></Envelope>")
    async with make_client() as sf:
        response = await sf.request("POST", "/services/Soap/m/66.0", content=body, raw=True,
                                    headers={"Content-Type": "text/xml", "SOAPAction": "''"})
        assert (response.status_code, response.text) == (500, fault)
        assert sf.usage.used == 5
    assert len(httpx_mock.get_requests()) == 1
