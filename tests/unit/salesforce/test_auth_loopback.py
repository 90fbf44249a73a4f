"""The loopback redirect listener receiving real HTTP redirects on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from smvue_tui.salesforce.auth import LoginFlow, RedirectListenerError
from smvue_tui.salesforce.environments import PRODUCTION
from smvue_tui.salesforce.errors import LoginDenied, WrongEnvironment
from tests.unit.salesforce.auth_helpers import (
    CONSUMER,
    IDENTITY_URL,
    TOKEN_URL,
    form,
    identity_body,
    oauth_error,
    token_body,
)


async def browser_get(flow: LoginFlow, params: str) -> tuple[int, str]:
    """What the browser does after Salesforce's 302: GET the callback on loopback."""
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{flow._listener.port}/OauthRedirect?{params}") as resp:
        return resp.status, await resp.text()


async def test_redirect_completes_the_login(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        port = flow._listener.port
        assert port and flow.listening
        assert flow.redirect_uri == f"http://localhost:{port}/OauthRedirect"
        assert f"localhost%3A{port}%2FOauthRedirect" in flow.authorization_url
        waiter = asyncio.ensure_future(flow.wait_for_redirect())
        status, page = await browser_get(flow, f"code=c0de&state={flow.state}")
        creds = await waiter
    assert status == 200 and "You can close this tab" in page and "Jane Doe" in page
    assert creds.username == "jane@acme.com"
    sent = form(httpx_mock.get_request(url=TOKEN_URL))
    assert sent["redirect_uri"] == f"http://localhost:{port}/OauthRedirect"
    assert sent["code"] == "c0de"
    assert not flow.listening or not _port_open(port)


async def test_wrong_state_is_refused_and_the_login_keeps_waiting(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        status, page = await browser_get(flow, "code=stolen&state=forged")
        assert status == 400 and "out of date" in page
        assert httpx_mock.get_requests() == []
        status, _ = await browser_get(flow, f"code=c0de&state={flow.state}")
        assert status == 200
        assert (await flow.wait_for_redirect()).user_id


async def test_error_redirect_ends_the_login():
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        status, page = await browser_get(
            flow, f"error=access_denied&error_description=end-user+denied&state={flow.state}")
        assert status == 400 and "Login failed" in page
        with pytest.raises(LoginDenied):
            await flow.wait_for_redirect()


async def test_failed_exchange_shows_the_failure_and_ends_the_login(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST",
                            **oauth_error("invalid_client_id", "client identifier invalid"))
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        status, page = await browser_get(flow, f"code=c0de&state={flow.state}")
        assert status == 400 and "client identifier invalid" in page
        with pytest.raises(WrongEnvironment):
            await flow.wait_for_redirect()


async def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        flow = LoginFlow(PRODUCTION, CONSUMER, port=port)
        with pytest.raises(RedirectListenerError) as info:
            await flow.start()
        assert "--port" in info.value.remedy
        await flow.aclose()


async def test_listener_is_closed_after_the_login():
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        port = flow._listener.port
        assert _port_open(port)
    assert not _port_open(port)


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_paste_and_redirect_racing_exchange_only_once(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=token_body())
    httpx_mock.add_response(url=IDENTITY_URL, json=identity_body())
    async with LoginFlow(PRODUCTION, CONSUMER, port=0) as flow:
        pasted, (status, page) = await asyncio.gather(
            flow.complete_with_pasted(f"?code=c0de&state={flow.state}"),
            browser_get(flow, f"code=c0de&state={flow.state}"))
        assert status == 200 and ("Already logged in" in page or "Logged in" in page)
        assert await flow.wait_for_redirect() == pasted
    assert len(httpx_mock.get_requests(url=TOKEN_URL)) == 1
