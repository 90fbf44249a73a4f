"""Logout: revoke at Salesforce (refresh token, then access token), always forget locally."""

from __future__ import annotations

import httpx

from smvue_tui.salesforce.auth import logout
from smvue_tui.salesforce.errors import AuthorizationError, ServerUnavailable
from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError
from tests.unit.salesforce.auth_helpers import (
    ACCESS,
    REFRESH,
    REVOKE_URL,
    form,
    make_creds,
    oauth_error,
)


async def test_revokes_the_refresh_token_and_clears_the_store(httpx_mock):
    httpx_mock.add_response(url=REVOKE_URL, method="POST", text="")
    store = TokenStore()
    store.save(make_creds())
    result = await logout(store)
    assert (result.had_login, result.revoked, result.error) == (True, True, None)
    assert [form(r) for r in httpx_mock.get_requests()] == [{"token": REFRESH}]
    assert store.load() is None


async def test_without_refresh_token_the_access_token_is_revoked(httpx_mock):
    httpx_mock.add_response(url=REVOKE_URL, method="POST")
    TokenStore().save(make_creds(refresh_token=None))
    assert (await logout()).revoked
    assert form(httpx_mock.get_request()) == {"token": ACCESS}


async def test_refused_refresh_token_falls_back_to_the_access_token(httpx_mock):
    httpx_mock.add_response(url=REVOKE_URL, method="POST", match_content=f"token={REFRESH}"
                            .encode(), **oauth_error("invalid_token", "invalid token"))
    httpx_mock.add_response(url=REVOKE_URL, method="POST", match_content=b"token=" +
                            ACCESS.replace("!", "%21").encode())
    TokenStore().save(make_creds())
    result = await logout()
    assert result.revoked and result.error is None


async def test_revoke_refused_still_forgets_and_reports(httpx_mock):
    httpx_mock.add_response(url=REVOKE_URL, method="POST", is_reusable=True,
                            **oauth_error("invalid_token", "invalid token"))
    store = TokenStore()
    store.save(make_creds())
    result = await logout(store)
    assert result.had_login and not result.revoked
    assert isinstance(result.error, AuthorizationError) and result.error.code == "invalid_token"
    assert store.load() is None
    assert REFRESH not in str(result.error) and ACCESS not in str(result.error)


async def test_network_failure_still_forgets_and_is_not_retried(httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("no route to host"), url=REVOKE_URL)
    store = TokenStore()
    store.save(make_creds())
    result = await logout(store)
    assert isinstance(result.error, ServerUnavailable) and not result.revoked
    assert len(httpx_mock.get_requests()) == 1
    assert store.load() is None


async def test_nothing_stored_is_fine(httpx_mock):
    result = await logout()
    assert (result.had_login, result.revoked, result.error) == (False, False, None)


async def test_damaged_store_is_removed_and_reported(httpx_mock):
    store = TokenStore()
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{damaged")
    result = await logout(store)
    assert isinstance(result.error, TokenStoreError) and result.had_login
    assert not store.path.exists()
