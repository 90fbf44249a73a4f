"""TokenRegistry on its own: token shapes, lifetimes, revocation, rotation, codes, device codes."""

from __future__ import annotations

import pytest

from smvue_demo_org.tokens import (
    CODE_TTL,
    DEVICE_TTL,
    AccessSession,
    OAuthError,
    TokenRegistry,
    pkce_challenge,
)
from tests.unit.demo_org.oauth_support import ORG_ID, OTHER_ORG_ID, USER_ID, FakeClock

SESSION = AccessSession(USER_ID, "api refresh_token id", "client")
TIMEOUT = 7200


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registry(clock: FakeClock) -> TokenRegistry:
    return TokenRegistry(ORG_ID, session_timeout_seconds=TIMEOUT, clock=clock)


def oauth_error(call, *args, **kwargs) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_access_tokens_look_like_salesforce_and_are_unique(registry: TokenRegistry) -> None:
    tokens = {registry.issue_access(SESSION) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        prefix, _, rest = token.partition("!")
        assert prefix == ORG_ID[:15]
        assert len(rest) >= 90
        assert registry.check_access(token) == SESSION


def test_session_slides_with_each_check_and_expires_when_idle(
        registry: TokenRegistry, clock: FakeClock) -> None:
    token = registry.issue_access(SESSION)
    for _ in range(4):  # used just before it would expire, four times over: 8 hours in all
        clock.advance(TIMEOUT - 1)
        assert registry.check_access(token) == SESSION
    clock.advance(TIMEOUT)
    assert registry.check_access(token) is None
    clock.advance(-TIMEOUT)  # gone for good, even if the clock went back
    assert registry.check_access(token) is None


def test_expire_all_access_keeps_refresh_tokens(registry: TokenRegistry) -> None:
    grant = registry.issue_grant(SESSION, with_refresh=True)
    registry.expire_all_access()
    assert registry.check_access(grant.access_token) is None
    renewed = registry.refresh(grant.refresh_token or "", "client")
    assert registry.check_access(renewed.access_token) == SESSION
    assert renewed.refresh_token is None  # no rotation: the old refresh token stays


def test_tokens_of_another_org_never_work(registry: TokenRegistry, clock: FakeClock) -> None:
    other = TokenRegistry(OTHER_ORG_ID, session_timeout_seconds=TIMEOUT, clock=clock)
    foreign = other.issue_grant(SESSION, with_refresh=True)
    assert registry.check_access(foreign.access_token) is None
    with pytest.raises(OAuthError):
        registry.refresh(foreign.refresh_token or "", "client")
    # A token with this org's prefix that this registry never issued is unknown too.
    forged = ORG_ID[:15] + foreign.access_token[15:]
    assert registry.check_access(forged) is None
    for junk in ("", "!", ORG_ID[:15] + "!", "Bearer x", None, 42):
        assert registry.check_access(junk) is None  # type: ignore[arg-type]


def test_refresh_token_only_with_its_scope(registry: TokenRegistry) -> None:
    assert registry.issue_grant(SESSION, with_refresh=True).refresh_token
    offline = AccessSession(USER_ID, "api offline_access", "client")
    assert registry.issue_grant(offline, with_refresh=True).refresh_token
    api_only = AccessSession(USER_ID, "api id", "client")
    assert registry.issue_grant(api_only, with_refresh=True).refresh_token is None
    assert registry.issue_grant(SESSION, with_refresh=False).refresh_token is None


def test_revoking_a_refresh_token_revokes_its_access_tokens(registry: TokenRegistry) -> None:
    grant = registry.issue_grant(SESSION, with_refresh=True)
    second = registry.refresh(grant.refresh_token or "", "client")
    unrelated = registry.issue_access(SESSION)
    assert registry.revoke(grant.refresh_token or "")
    assert registry.check_access(grant.access_token) is None
    assert registry.check_access(second.access_token) is None
    assert registry.check_access(unrelated) == SESSION
    err = oauth_error(registry.refresh, grant.refresh_token or "", "client")
    assert (err.error, err.description) == ("invalid_grant", "expired access/refresh token")
    assert not registry.revoke(grant.refresh_token or "")  # a second time: unknown


def test_revoking_an_access_token_leaves_the_refresh_token(registry: TokenRegistry) -> None:
    grant = registry.issue_grant(SESSION, with_refresh=True)
    assert registry.revoke(grant.access_token)
    assert registry.check_access(grant.access_token) is None
    assert registry.refresh(grant.refresh_token or "", "client").access_token
    assert not registry.revoke("no-such-token")


def test_rotation_replaces_the_refresh_token(clock: FakeClock) -> None:
    registry = TokenRegistry(ORG_ID, session_timeout_seconds=TIMEOUT, rotation=True, clock=clock)
    first = registry.issue_grant(SESSION, with_refresh=True)
    second = registry.refresh(first.refresh_token or "", "client")
    assert second.refresh_token and second.refresh_token != first.refresh_token
    # (Presenting ``first`` again now would revoke the family: see the test below.)
    # Access tokens already handed out keep working, and now hang off the new refresh token.
    assert registry.check_access(first.access_token) == SESSION
    registry.revoke(second.refresh_token)
    assert registry.check_access(first.access_token) is None
    assert registry.check_access(second.access_token) is None


def test_reusing_a_rotated_refresh_token_revokes_the_family(clock: FakeClock) -> None:
    """Salesforce treats a rotated-away refresh token presented again as stolen: it revokes
    the current refresh token and every access token of that grant (issue 12)."""
    registry = TokenRegistry(ORG_ID, session_timeout_seconds=TIMEOUT, rotation=True, clock=clock)
    other = registry.issue_grant(SESSION, with_refresh=True)  # another grant: untouched
    first = registry.issue_grant(SESSION, with_refresh=True)
    second = registry.refresh(first.refresh_token or "", "client")
    third = registry.refresh(second.refresh_token or "", "client")
    assert oauth_error(registry.refresh, first.refresh_token or "", "client").error == \
        "invalid_grant"
    for token in (first.access_token, second.access_token, third.access_token):
        assert registry.check_access(token) is None
    assert oauth_error(registry.refresh, third.refresh_token or "", "client").error == \
        "invalid_grant"
    assert registry.check_access(other.access_token) == SESSION
    assert registry.refresh(other.refresh_token or "", "client").access_token


def test_refresh_token_of_another_client_is_refused(registry: TokenRegistry) -> None:
    grant = registry.issue_grant(SESSION, with_refresh=True)
    assert oauth_error(registry.refresh, grant.refresh_token or "", "other").error == \
        "invalid_grant"


def test_a_sixth_grant_evicts_the_oldest(registry: TokenRegistry) -> None:
    grants = [registry.issue_grant(SESSION, with_refresh=True) for _ in range(6)]
    with pytest.raises(OAuthError):
        registry.refresh(grants[0].refresh_token or "", "client")
    assert registry.check_access(grants[0].access_token) is None
    for grant in grants[1:]:
        assert registry.refresh(grant.refresh_token or "", "client")
    other_user = AccessSession("005OTHER", SESSION.scope, "client")
    registry.issue_grant(other_user, with_refresh=True)  # another user's grants don't count
    assert registry.refresh(grants[1].refresh_token or "", "client")


def test_codes_are_single_use_and_expire(registry: TokenRegistry, clock: FakeClock) -> None:
    code = registry.issue_code(SESSION, "http://localhost:1/cb", None)
    grant = registry.redeem_code(code, client_id="client", redirect_uri="http://localhost:1/cb",
                                 code_verifier=None)
    assert registry.check_access(grant.access_token) == SESSION
    again = oauth_error(registry.redeem_code, code, client_id="client",
                        redirect_uri="http://localhost:1/cb", code_verifier=None)
    assert (again.error, again.description) == ("invalid_grant", "invalid authorization code")
    late = registry.issue_code(SESSION, "http://localhost:1/cb", None)
    clock.advance(CODE_TTL)
    err = oauth_error(registry.redeem_code, late, client_id="client",
                      redirect_uri="http://localhost:1/cb", code_verifier=None)
    assert (err.error, err.description) == ("invalid_grant", "expired authorization code")


@pytest.mark.parametrize(("verifier", "error"), [
    (None, "invalid_grant"), ("", "invalid_grant"), ("x" * 50, "invalid_request")])
def test_pkce_failures(registry: TokenRegistry, verifier: str | None, error: str) -> None:
    code = registry.issue_code(SESSION, "http://localhost:1/cb", pkce_challenge("v" * 50))
    err = oauth_error(registry.redeem_code, code, client_id="client",
                      redirect_uri="http://localhost:1/cb", code_verifier=verifier)
    assert (err.error, err.description) == (error, "invalid code verifier")


def test_pkce_success_and_redirect_mismatch(registry: TokenRegistry) -> None:
    code = registry.issue_code(SESSION, "http://localhost:1/cb", pkce_challenge("v" * 50))
    assert registry.redeem_code(code, client_id="client", redirect_uri="http://localhost:1/cb",
                                code_verifier="v" * 50).refresh_token
    code = registry.issue_code(SESSION, "http://localhost:1/cb", None)
    err = oauth_error(registry.redeem_code, code, client_id="client",
                      redirect_uri="http://localhost:2/cb", code_verifier=None)
    assert err.error == "redirect_uri_mismatch"


def test_device_flow_states(clock: FakeClock) -> None:
    registry = TokenRegistry(ORG_ID, session_timeout_seconds=TIMEOUT, clock=clock)
    codes = registry.start_device("client", "api refresh_token")
    assert len(codes.user_code) == 8 and codes.interval == 5

    def poll() -> str:
        return oauth_error(registry.poll_device, codes.device_code, "client").error

    assert poll() == "authorization_pending"
    clock.advance(2)
    assert poll() == "slow_down"
    clock.advance(5)
    assert poll() == "authorization_pending"
    assert not registry.decide_device("WRONG123", USER_ID, True)
    assert registry.decide_device(codes.user_code.lower()[:4] + "-" + codes.user_code[4:],
                                  USER_ID, True)  # typed loosely
    assert not registry.decide_device(codes.user_code, USER_ID, False)  # already decided
    grant = registry.poll_device(codes.device_code, "client")
    assert grant.refresh_token and registry.check_access(grant.access_token) == AccessSession(
        USER_ID, "api refresh_token", "client")
    assert poll() == "invalid_grant"  # used up


def test_device_denied_and_expired(clock: FakeClock) -> None:
    registry = TokenRegistry(ORG_ID, session_timeout_seconds=TIMEOUT, clock=clock)
    denied = registry.start_device("client", "api")
    assert registry.decide_device(denied.user_code, USER_ID, False)
    assert oauth_error(registry.poll_device, denied.device_code, "client").error == \
        "access_denied"
    late = registry.start_device("client", "api")
    clock.advance(DEVICE_TTL)
    assert not registry.decide_device(late.user_code, USER_ID, True)
    assert oauth_error(registry.poll_device, late.device_code, "client").error == \
        "expired_token"
    assert oauth_error(registry.poll_device, late.device_code, "other").error == "invalid_grant"


def test_pending_login_requests_expire(registry: TokenRegistry, clock: FakeClock) -> None:
    token = registry.remember_request({"scope": "api"})
    assert registry.pending_request(token) == {"scope": "api"}
    clock.advance(31 * 60)
    assert registry.pending_request(token) is None
    assert registry.pending_request("made-up") is None


def test_no_secret_shows_in_reprs_or_errors(registry: TokenRegistry) -> None:
    grant = registry.issue_grant(SESSION, with_refresh=True)
    code = registry.issue_code(SESSION, "http://localhost:1/cb", None)
    device = registry.start_device("client", "api")
    err = oauth_error(registry.refresh, "5Aep861-not-issued", "client")
    shown = " ".join([repr(registry), repr(grant), repr(device), str(err),
                      repr(registry.__dict__)])
    for secret in (grant.access_token, grant.refresh_token or "", code, device.device_code,
                   "5Aep861-not-issued"):
        assert secret not in shown


def test_purge_drops_expired_state(registry: TokenRegistry, clock: FakeClock) -> None:
    old = registry.issue_access(SESSION)
    registry.issue_code(SESSION, "http://localhost:1/cb", None)
    registry.start_device("client", "api")
    clock.advance(TIMEOUT + 2 * DEVICE_TTL)
    for _ in range(256):  # purging runs every 256 access tokens
        registry.issue_access(SESSION)
    assert registry.check_access(old) is None
    assert len(registry._access) == 256 and not registry._codes and not registry._devices
