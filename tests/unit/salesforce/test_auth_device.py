"""Device login in Salesforce's dialect: request, poll states, slow_down, terminal errors."""

from __future__ import annotations

import httpx
import pytest

from smvue_tui.salesforce.device import DeviceFlow
from smvue_tui.salesforce.environments import PRODUCTION, SANDBOX
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    LoginDenied,
    LoginExpired,
    ServerUnavailable,
    WrongEnvironment,
)
from tests.unit.salesforce.auth_helpers import (
    ACCESS,
    CONSUMER,
    IDENTITY_URL,
    SECRET_CONSUMER,
    TOKEN_URL,
    form,
    identity_body,
    oauth_error,
    token_body,
)

DEVICE_BODY = {"device_code": "UGxhdGZvcm1GYWtlRGV2aWNlQ29kZQ", "user_code": "08T3AY9D",
               "verification_uri": "https://login.salesforce.com/setup/connect", "interval": 5}
PENDING = oauth_error("authorization_pending", "authorization pending")


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def flow(consumer=CONSUMER, env=PRODUCTION, **kwargs) -> tuple[DeviceFlow, FakeSleep]:
    sleep = FakeSleep()
    return DeviceFlow(env, consumer, sleep=sleep, **kwargs), sleep


def add_poll(httpx_mock, **response):
    httpx_mock.add_response(url=TOKEN_URL, method="POST",
                            match_content=b"grant_type=device&code=UGxhdGZvcm1GYWtlRGV2aWNlQ29k"
                                          b"ZQ&client_id=3MVG9FakeConsumerKey", **response)


async def test_start_sends_salesforce_dialect_and_returns_what_to_show(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    device, _ = flow()
    codes = await device.start()
    assert form(httpx_mock.get_request()) == {
        "response_type": "device_code", "scope": "api refresh_token id",
        "client_id": CONSUMER.client_id}
    assert (codes.user_code, codes.verification_uri, codes.interval) == (
        "08T3AY9D", "https://login.salesforce.com/setup/connect", 5.0)
    assert DEVICE_BODY["device_code"] not in repr(codes)


async def test_pending_then_slow_down_then_success(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    add_poll(httpx_mock, **PENDING)
    add_poll(httpx_mock, **oauth_error("slow_down", "polling too quickly"))
    add_poll(httpx_mock, **PENDING)
    add_poll(httpx_mock, json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    device, sleep = flow()
    await device.start()
    creds = await device.poll()
    assert sleep.calls == [5.0, 5.0, 10.0, 10.0]  # slow_down adds 5 s for every later poll
    polls = [form(r) for r in httpx_mock.get_requests(url=TOKEN_URL)][1:]
    assert all(p == {"grant_type": "device", "code": DEVICE_BODY["device_code"],
                     "client_id": CONSUMER.client_id} for p in polls)
    assert creds.access_token == ACCESS and creds.username == "jane@acme.com"


async def test_secret_is_sent_when_configured_and_short_interval_is_raised(httpx_mock):
    httpx_mock.add_response(url=f"{SANDBOX.login_url}/services/oauth2/token", method="POST",
                            json={**DEVICE_BODY, "interval": 1})
    device, _ = flow(SECRET_CONSUMER, SANDBOX)
    codes = await device.start()
    assert codes.interval == 5.0
    assert form(httpx_mock.get_request())["client_secret"] == "fake-consumer-secret"


@pytest.mark.parametrize(("response", "error_type", "code"), [
    (oauth_error("access_denied", "end-user denied authorization"), LoginDenied,
     "access_denied"),
    (oauth_error("expired_token", "device code expired"), LoginExpired, "expired_token"),
    (oauth_error("invalid_grant", "expired authorization code"), LoginExpired, "invalid_grant"),
    (oauth_error("invalid_client_id", "client identifier invalid"), WrongEnvironment,
     "invalid_client_id"),
    (oauth_error("invalid_request", "device flow is not enabled"), AuthorizationError,
     "invalid_request"),
    ({"status_code": 400, "text": "oops"}, AuthorizationError, ""),
])
async def test_terminal_poll_errors_are_typed(httpx_mock, response, error_type, code):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    add_poll(httpx_mock, **PENDING)
    add_poll(httpx_mock, **response)
    device, sleep = flow()
    await device.start()
    with pytest.raises(error_type) as info:
        await device.poll()
    assert info.value.code == code
    assert len(sleep.calls) == 2
    assert DEVICE_BODY["device_code"] not in str(info.value)


async def test_polls_are_capped(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    add_poll(httpx_mock, is_reusable=True, **PENDING)
    device, sleep = flow(max_polls=7)
    await device.start()
    with pytest.raises(LoginExpired, match="7 polls"):
        await device.poll()
    assert len(sleep.calls) == 7


async def test_transient_failures_are_retried_a_few_times(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    httpx_mock.add_exception(httpx.ConnectError("reset"), url=TOKEN_URL)
    add_poll(httpx_mock, status_code=503, text="busy")
    add_poll(httpx_mock, json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    device, _ = flow()
    await device.start()
    assert (await device.poll()).access_token == ACCESS

    httpx_mock.reset()
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=DEVICE_BODY)
    httpx_mock.add_exception(httpx.ConnectError("down"), url=TOKEN_URL, is_reusable=True)
    device, sleep = flow()
    await device.start()
    with pytest.raises(ServerUnavailable):
        await device.poll()
    assert len(sleep.calls) == 3


async def test_start_errors_are_typed(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST",
                            **oauth_error("invalid_client", "app must be installed into org"))
    device, _ = flow()
    with pytest.raises(AuthorizationError, match="installed into org"):
        await device.start()
    with pytest.raises(RuntimeError):
        await device.poll()
