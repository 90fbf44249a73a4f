"""Session refresh: single-flight, rotation saved, invalid_grant latches, client conformance."""

from __future__ import annotations

import asyncio
import inspect

import httpx
import pytest

from smvue_tui.config import app_paths
from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.errors import ReauthorizationNeeded, ServerUnavailable
from smvue_tui.salesforce.requester import SessionLike
from smvue_tui.salesforce.session import Session
from smvue_tui.salesforce.token_store import TokenStore
from tests.unit.salesforce.auth_helpers import (
    ACCESS,
    ACCESS_2,
    CONSUMER,
    INSTANCE,
    REFRESH,
    REFRESH_2,
    TOKEN_URL,
    form,
    make_creds,
    oauth_error,
    token_body,
)

MOVED = "https://acme2.my.salesforce.com"


def refresh_response(httpx_mock, **kwargs):
    body = token_body(access=ACCESS_2, refresh=kwargs.pop("refresh", None),
                      instance=kwargs.pop("instance", INSTANCE))
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=body, **kwargs)


def test_session_is_what_the_client_expects():
    session: SessionLike = Session(make_creds(), CONSUMER)
    assert inspect.iscoroutinefunction(session.refresh)
    assert list(inspect.signature(session.refresh).parameters) == ["failed_access_token"]
    assert (session.access_token, session.instance_url) == (ACCESS, INSTANCE)


async def test_ten_concurrent_refreshes_send_one_request(httpx_mock):
    refresh_response(httpx_mock)
    session = Session(make_creds(), CONSUMER)
    await asyncio.gather(*(session.refresh(ACCESS) for _ in range(10)))
    requests = httpx_mock.get_requests()
    assert len(requests) == 1
    assert form(requests[0]) == {"grant_type": "refresh_token", "refresh_token": REFRESH,
                                 "client_id": CONSUMER.client_id}
    assert session.access_token == ACCESS_2 and session.refresh_count == 1
    assert session.credentials.refresh_token == REFRESH  # not rotated: the old one stays
    await session.refresh(ACCESS)  # a stale failure: already refreshed, nothing sent
    assert len(httpx_mock.get_requests()) == 1


async def test_rotated_refresh_token_and_new_instance_are_saved(httpx_mock):
    refresh_response(httpx_mock, refresh=REFRESH_2, instance=MOVED + "/")
    store = TokenStore()
    store.save(make_creds())
    session = Session(make_creds(), CONSUMER, store=store)
    await session.refresh(ACCESS)
    assert session.instance_url == MOVED
    saved = store.load()
    assert (saved.access_token, saved.refresh_token, saved.instance_url) == (
        ACCESS_2, REFRESH_2, MOVED)
    assert saved.username == "jane@acme.com"  # identity facts survive a refresh


@pytest.mark.parametrize("meanwhile", ["another_org", "logged_out"])
async def test_a_refresh_never_writes_over_a_newer_login_or_a_logout(httpx_mock, meanwhile):
    refresh_response(httpx_mock, refresh=REFRESH_2)
    store = TokenStore()
    store.save(make_creds())
    session = Session(make_creds(), CONSUMER, store=store)
    other = make_creds(org_id="00D000000000002EAA", access_token="other-access",
                       refresh_token="other-refresh")
    if meanwhile == "another_org":
        store.save(other)  # `smvue-tui login` to another org in another terminal
    else:
        store.clear()  # `smvue-tui logout`
    await session.refresh(ACCESS)
    assert session.access_token == ACCESS_2  # this process keeps working
    stored = store.load()
    assert (stored is None) if meanwhile == "logged_out" else stored == other


async def test_invalid_grant_latches_without_hammering(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST",
                            **oauth_error("invalid_grant", "expired access/refresh token"))
    session = Session(make_creds(), CONSUMER)
    results = await asyncio.gather(*(session.refresh(ACCESS) for _ in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, ReauthorizationNeeded) for r in results)
    assert session.needs_login
    for _ in range(3):
        with pytest.raises(ReauthorizationNeeded, match="expired access/refresh token"):
            await session.refresh(session.access_token)
    assert len(httpx_mock.get_requests()) == 1


async def test_no_refresh_token_needs_login_at_once(httpx_mock):
    session = Session(make_creds(refresh_token=None), CONSUMER)
    with pytest.raises(ReauthorizationNeeded):
        await session.refresh(ACCESS)
    assert httpx_mock.get_requests() == []


async def test_transient_failure_is_shared_then_retried(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST", status_code=503, text="down")
    refresh_response(httpx_mock)
    session = Session(make_creds(), CONSUMER)
    results = await asyncio.gather(*(session.refresh(ACCESS) for _ in range(4)),
                                   return_exceptions=True)
    assert all(isinstance(r, ServerUnavailable) for r in results)
    assert not session.needs_login  # a network problem is not a dead login
    await session.refresh(ACCESS)
    assert session.access_token == ACCESS_2
    assert len(httpx_mock.get_requests()) == 2


async def test_a_cancelled_caller_does_not_cancel_the_shared_refresh(httpx_mock):
    refresh_response(httpx_mock)
    session = Session(make_creds(), CONSUMER)
    first = asyncio.ensure_future(session.refresh(ACCESS))
    second = asyncio.ensure_future(session.refresh(ACCESS))
    await asyncio.sleep(0)
    first.cancel()
    await second
    assert session.access_token == ACCESS_2
    await session.aclose()


def test_from_store(monkeypatch):
    with pytest.raises(ReauthorizationNeeded):
        Session.from_store()
    TokenStore().save(make_creds())
    path = app_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text(f'[salesforce]\nclient_id = "{CONSUMER.client_id}"\n'
                    'client_secret = "the-secret"\n')
    session = Session.from_store()
    assert session.consumer.client_id == CONSUMER.client_id
    assert session.consumer.client_secret == "the-secret"
    assert session.store is not None and session.access_token == ACCESS
    monkeypatch.setenv("SMVUE_SF_CLIENT_ID", "3MVG9SomeOtherApp")
    assert Session.from_store().consumer.client_secret is None  # never another app's secret


async def test_the_rest_client_refreshes_through_the_session(httpx_mock):
    limits = f"{INSTANCE}/services/data/v66.0/limits"
    httpx_mock.add_response(url=limits, status_code=401, json=[
        {"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}])
    refresh_response(httpx_mock, refresh=REFRESH_2)
    httpx_mock.add_response(url=limits, json={"DailyApiRequests": {"Max": 1, "Remaining": 1}})
    store = TokenStore()
    store.save(make_creds())  # as every login is saved before its session is made
    session = Session(make_creds(), CONSUMER, store=store)
    async with SalesforceClient(session, api_version="66.0") as sf:
        assert "DailyApiRequests" in await sf.limits()
    bearers = [r.headers.get("Authorization") for r in httpx_mock.get_requests(url=limits)]
    assert bearers == [f"Bearer {ACCESS}", f"Bearer {ACCESS_2}"]
    assert store.load().refresh_token == REFRESH_2


async def test_a_login_another_process_refreshed_is_adopted_without_a_refresh(httpx_mock):
    """The sync child and the app each load the login; one refreshes (and, with rotation,
    rotates). The other, refreshing next under the lock, takes the stored login instead of
    presenting a replaced refresh token (Salesforce would revoke the whole login)."""
    store = TokenStore()
    store.save(make_creds())
    session = Session(make_creds(), CONSUMER, store=store)
    store.save(make_creds(access_token=ACCESS_2, refresh_token=REFRESH_2))  # the other one
    await session.refresh(ACCESS)
    assert (session.access_token, session.credentials.refresh_token) == (ACCESS_2, REFRESH_2)
    assert not session.needs_login and httpx_mock.get_requests() == []


async def test_a_rotation_by_a_process_without_the_lock_is_still_adopted(httpx_mock):
    """An older SMVue (no lock) rotated the token while our refresh was on the wire: ours is
    refused, and the stored login is taken rather than asking the user to log in again."""
    store = TokenStore()
    store.save(make_creds())
    session = Session(make_creds(), CONSUMER, store=store)

    def rotated_meanwhile(request):
        store.save(make_creds(access_token=ACCESS_2, refresh_token=REFRESH_2))
        return httpx.Response(**oauth_error("invalid_grant", "expired access/refresh token"))

    httpx_mock.add_callback(rotated_meanwhile, url=TOKEN_URL, method="POST")
    await session.refresh(ACCESS)
    assert (session.access_token, session.credentials.refresh_token) == (ACCESS_2, REFRESH_2)
    assert not session.needs_login


async def test_invalid_grant_with_nothing_newer_stored_still_needs_login(httpx_mock):
    httpx_mock.add_response(url=TOKEN_URL, method="POST",
                            **oauth_error("invalid_grant", "expired access/refresh token"))
    store = TokenStore()
    store.save(make_creds())
    session = Session(make_creds(), CONSUMER, store=store)
    with pytest.raises(ReauthorizationNeeded):
        await session.refresh(ACCESS)
    assert session.needs_login
