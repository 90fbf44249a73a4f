"""The demo org's OAuth state: authorization codes, access/refresh tokens and device codes.

One ``TokenRegistry`` per org. Tokens are unguessable (``secrets``) and shaped like
Salesforce's: access tokens are ``<15-char org id>!<random>``, refresh tokens and codes are
opaque. The registry keys everything by a SHA-256 digest of the token, so a dump of its state
(a debugger, a repr in a log) never shows a usable token; ``OAuthError`` messages never contain
one either.

Lifetimes follow Salesforce: an access token lives for the session timeout and every successful
``check_access`` slides it forward; refresh tokens live until revoked (or until a sixth grant
for the same user and app evicts the oldest, as Salesforce does; with rotation, until a
rotated-away one is presented again, which revokes the whole family); authorization codes are single
use for 15 minutes; device codes expire after 10 minutes. All times come from ``clock`` so
tests can move time by hand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smvue_demo_org.profile import OrgProfile

CODE_TTL = 15 * 60  # authorization codes
DEVICE_TTL = 10 * 60  # device codes
REQUEST_TTL = 30 * 60  # a login/consent page left open
DEVICE_INTERVAL = 5  # seconds between device polls, as Salesforce answers
MAX_GRANTS = 5  # refresh tokens per user and app; the sixth evicts the oldest
_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
_USER_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
_PURGE_EVERY = 256


class OAuthError(Exception):
    """An OAuth error as Salesforce answers it: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def expired_token_error() -> OAuthError:
    return OAuthError("invalid_grant", "expired access/refresh token")


@dataclass(frozen=True)
class AccessSession:
    """Who an access token acts for."""

    user_id: str
    scope: str
    client_id: str


@dataclass(frozen=True)
class Grant:
    """What a successful token call hands out."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    session: AccessSession
    issued_at_ms: int

    def signature(self, identity_url: str, key: str) -> str:
        """Salesforce's ``signature``: base64 HMAC-SHA256 of identity URL + issued_at."""
        mac = hmac.new(key.encode(), f"{identity_url}{self.issued_at_ms}".encode(), "sha256")
        return base64.b64encode(mac.digest()).decode()


@dataclass(frozen=True)
class DeviceCodes:
    device_code: str = field(repr=False)
    user_code: str
    interval: int


@dataclass
class _Access:
    session: AccessSession
    expires_at: float
    refresh_key: str | None  # the refresh token it came from: revoking that revokes this


@dataclass
class _Refresh:
    session: AccessSession
    issued_at: float
    family: str = ""  # every refresh token rotated from one grant shares it


@dataclass
class _Code:
    session: AccessSession
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


@dataclass
class _Device:
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    last_poll: float | None = None
    status: str = "pending"  # pending | approved | denied
    user_id: str = ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _random(length: int, alphabet: str = _TOKEN_CHARS) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding, as RFC 7636 S256 defines it."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def wants_refresh_token(scope: str) -> bool:
    return bool({"refresh_token", "offline_access"} & set(scope.split()))


def normalize_user_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


class TokenRegistry:
    """Every OAuth secret one demo org has handed out, and what each one is worth."""

    def __init__(self, org_id: str, *, session_timeout_seconds: int, rotation: bool = False,
                 clock: Callable[[], float] = time.time,
                 device_interval: int = DEVICE_INTERVAL, max_grants: int = MAX_GRANTS) -> None:
        self.org_id = org_id
        self.prefix = org_id[:15]
        self.session_timeout = session_timeout_seconds
        self.rotation = rotation
        self.clock = clock
        self.device_interval = device_interval
        self.max_grants = max_grants
        self._lock = threading.RLock()
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}  # insertion order = grant order
        self._codes: dict[str, _Code] = {}
        self._devices: dict[str, _Device] = {}
        self._user_codes: dict[str, str] = {}  # user code → device key
        self._requests: dict[str, tuple[float, dict[str, str]]] = {}
        self._rotated: dict[str, str] = {}  # digest of a rotated-away refresh token → family
        self._issued = 0

    @classmethod
    def for_profile(cls, org_id: str, profile: OrgProfile, **kwargs: Any) -> TokenRegistry:
        """A registry with the profile's session timeout and refresh-token rotation."""
        return cls(org_id, session_timeout_seconds=profile.session_timeout_seconds,
                   rotation=profile.refresh_token_rotation, **kwargs)

    def __repr__(self) -> str:
        return (f"TokenRegistry(org={self.prefix}, access={len(self._access)}, "
                f"refresh={len(self._refresh)})")

    # -- access tokens ---------------------------------------------------------------------

    def check_access(self, token: str) -> AccessSession | None:
        """The session behind a live access token (sliding its expiry), else None."""
        if not isinstance(token, str) or not token.startswith(self.prefix + "!"):
            return None
        key = _digest(token)
        now = self.clock()
        with self._lock:
            entry = self._access.get(key)
            if entry is None:
                return None
            if now >= entry.expires_at:
                del self._access[key]
                return None
            entry.expires_at = now + self.session_timeout
            return entry.session

    def expire_all_access(self) -> None:
        """Fault injection: every access token expires now; refresh tokens keep working."""
        with self._lock:
            self._access.clear()

    def issue_access(self, session: AccessSession, *, refresh_key: str | None = None) -> str:
        """A new access token for ``session`` (also what a SOAP login() would hand out)."""
        token = f"{self.prefix}!AQ{_random(94)}"
        with self._lock:
            self._access[_digest(token)] = _Access(
                session, self.clock() + self.session_timeout, refresh_key)
            self._issued += 1
            if self._issued % _PURGE_EVERY == 0:
                self._purge()
        return token

    def issue_grant(self, session: AccessSession, *, with_refresh: bool) -> Grant:
        """An access token, plus a refresh token when asked and the scope allows it."""
        refresh = None
        refresh_key = None
        if with_refresh and wants_refresh_token(session.scope):
            refresh = "5Aep861" + _random(80)
            refresh_key = _digest(refresh)
            with self._lock:
                self._refresh[refresh_key] = _Refresh(session, self.clock(), refresh_key)
                self._evict_old_grants(session)
        access = self.issue_access(session, refresh_key=refresh_key)
        return Grant(access, refresh, session, self._now_ms())

    def _evict_old_grants(self, session: AccessSession) -> None:
        same = [k for k, r in self._refresh.items()
                if (r.session.user_id, r.session.client_id) == (session.user_id,
                                                                 session.client_id)]
        for key in same[: max(0, len(same) - self.max_grants)]:
            self._revoke_refresh(key)

    # -- refresh / revoke ------------------------------------------------------------------

    def refresh(self, refresh_token: str, client_id: str) -> Grant:
        """A new access token from a refresh token (and a new refresh token when rotating).

        With rotation, presenting a refresh token that was already rotated away is treated as
        theft, as Salesforce does: the family's current refresh token and every access token
        issued from it are revoked, so the rightful holder must log in again too."""
        key = _digest(refresh_token)
        with self._lock:
            entry = self._refresh.get(key)
            family = self._rotated.get(key)
            if entry is None and family is not None:
                for current in [k for k, r in self._refresh.items() if r.family == family]:
                    self._revoke_refresh(current)
            if entry is None or entry.session.client_id != client_id:
                raise expired_token_error()
            if not self.rotation:
                access = self.issue_access(entry.session, refresh_key=key)
                return Grant(access, None, entry.session, self._now_ms())
            # The old refresh token dies (kept in mind: its reuse revokes the family); access
            # tokens already out keep working.
            del self._refresh[key]
            self._rotated[key] = entry.family or key
            new_refresh = "5Aep861" + _random(80)
            new_key = _digest(new_refresh)
            self._refresh[new_key] = _Refresh(entry.session, entry.issued_at,
                                              entry.family or key)
            for access in self._access.values():
                if access.refresh_key == key:
                    access.refresh_key = new_key
            access = self.issue_access(entry.session, refresh_key=new_key)
            return Grant(access, new_refresh, entry.session, self._now_ms())

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        key = _digest(token)
        with self._lock:
            if key in self._refresh:
                self._revoke_refresh(key)
                return True
            entry = self._access.pop(key, None)
            return entry is not None and self.clock() < entry.expires_at

    def _revoke_refresh(self, key: str) -> None:
        self._refresh.pop(key, None)
        for access_key in [k for k, a in self._access.items() if a.refresh_key == key]:
            del self._access[access_key]

    # -- authorization codes ---------------------------------------------------------------

    def issue_code(self, session: AccessSession, redirect_uri: str,
                   code_challenge: str | None) -> str:
        code = "aPrx" + _random(60, _TOKEN_CHARS[:62])
        with self._lock:
            self._codes[_digest(code)] = _Code(session, redirect_uri, code_challenge,
                                               self.clock() + CODE_TTL)
        return code

    def redeem_code(self, code: str, *, client_id: str, redirect_uri: str,
                    code_verifier: str | None) -> Grant:
        """Exchange a code (single use, whatever the outcome) for tokens, checking PKCE."""
        with self._lock:
            entry = self._codes.pop(_digest(code), None)
        if entry is None:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if self.clock() >= entry.expires_at:
            raise OAuthError("invalid_grant", "expired authorization code")
        if entry.session.client_id != client_id:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if entry.redirect_uri != redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        if entry.code_challenge is not None:
            if not code_verifier:
                raise OAuthError("invalid_grant", "invalid code verifier")
            if not hmac.compare_digest(pkce_challenge(code_verifier), entry.code_challenge):
                raise OAuthError("invalid_request", "invalid code verifier")
        elif code_verifier:
            raise OAuthError("invalid_request", "invalid code verifier")
        return self.issue_grant(entry.session, with_refresh=True)

    # -- pending login/consent pages -------------------------------------------------------

    def remember_request(self, params: dict[str, str]) -> str:
        """Keep a validated authorize request while the user looks at the login page."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._purge()
            self._requests[token] = (self.clock() + REQUEST_TTL, dict(params))
        return token

    def pending_request(self, token: str) -> dict[str, str] | None:
        with self._lock:
            found = self._requests.get(token)
        if found is None or self.clock() >= found[0]:
            return None
        return dict(found[1])

    def forget_request(self, token: str) -> None:
        with self._lock:
            self._requests.pop(token, None)

    # -- device flow (Salesforce dialect) --------------------------------------------------

    def start_device(self, client_id: str, scope: str) -> DeviceCodes:
        device_code = _random(64, _TOKEN_CHARS[:62])
        with self._lock:
            self._purge()
            user_code = _random(8, _USER_CODE_CHARS)
            while user_code in self._user_codes:
                user_code = _random(8, _USER_CODE_CHARS)
            key = _digest(device_code)
            self._devices[key] = _Device(user_code, client_id, scope, self.clock() + DEVICE_TTL)
            self._user_codes[user_code] = key
        return DeviceCodes(device_code, user_code, self.device_interval)

    def decide_device(self, user_code: str, user_id: str, allow: bool) -> bool:
        """The user's answer on the verification page; False for an unknown or expired code."""
        with self._lock:
            key = self._user_codes.get(normalize_user_code(user_code))
            device = self._devices.get(key) if key else None
            if device is None or device.status != "pending" or self.clock() >= device.expires_at:
                return False
            device.status = "approved" if allow else "denied"
            device.user_id = user_id
            return True

    def poll_device(self, device_code: str, client_id: str) -> Grant:
        """One poll of ``grant_type=device``: tokens once approved, else the OAuth error."""
        key = _digest(device_code)
        now = self.clock()
        with self._lock:
            device = self._devices.get(key)
            if device is None or device.client_id != client_id:
                raise OAuthError("invalid_grant", "invalid device code")
            if now >= device.expires_at:
                raise OAuthError("expired_token", "device code expired")
            if device.status == "denied":
                raise OAuthError("access_denied", "end-user denied authorization")
            if device.status == "approved":
                del self._devices[key]
                self._user_codes.pop(device.user_code, None)
                session = AccessSession(device.user_id, device.scope, device.client_id)
                return self.issue_grant(session, with_refresh=True)
            last, device.last_poll = device.last_poll, now
            too_fast = last is not None and now - last < self.device_interval
            if too_fast:
                raise OAuthError("slow_down", "polling too quickly")
            raise OAuthError("authorization_pending", "authorization pending")

    # -- housekeeping ----------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _purge(self) -> None:
        """Drop what has expired (called under the lock, now and then)."""
        now = self.clock()
        for store in (self._access, self._codes):
            for key in [k for k, v in store.items() if now >= v.expires_at]:
                del store[key]
        for key in [k for k, d in self._devices.items() if now >= d.expires_at + DEVICE_TTL]:
            self._user_codes.pop(self._devices.pop(key).user_code, None)
        for key in [k for k, (exp, _) in self._requests.items() if now >= exp]:
            del self._requests[key]
