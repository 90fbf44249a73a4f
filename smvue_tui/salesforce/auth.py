"""Salesforce login: the web-server flow with PKCE, and logout (revoke + forget).

``LoginFlow`` is what both the CLI and the TUI drive::

    async with LoginFlow(environment, consumer) as flow:   # binds the loopback listener
        show(flow.authorization_url)
        creds = await flow.wait_for_redirect()              # or, from a paste box:
        # creds = await flow.complete_with_pasted(text)     # redirected URL or bare code

The browser may be on another machine (SSH): then the redirect never reaches our listener and
the user pastes the URL the browser ended on (or only its code). ``state`` is checked on both
paths; a bare code has no state, so it is accepted only while this login is pending.

The rest of the package (Session, DeviceFlow, TokenStore, ...) is re-exported here.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from smvue_tui.salesforce.consumer import (
    DEFAULT_REDIRECT_PORT,
    DEFAULT_SCOPE,
    Consumer,
    ConsumerNotConfigured,
    SalesforceSettings,
    consumer_for,
    load_settings,
)
from smvue_tui.salesforce.credentials import Credentials, credentials_from_token
from smvue_tui.salesforce.device import DeviceCode, DeviceFlow
from smvue_tui.salesforce.environments import (
    PRODUCTION,
    SANDBOX,
    Environment,
    resolve_environment,
)
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    SalesforceError,
    ServerUnavailable,
    from_oauth_body,
)
from smvue_tui.salesforce.loopback import ListenerError, LoopbackListener, Page, redirect_uri_for
from smvue_tui.salesforce.redaction import TokenRedactingFilter, install_redaction
from smvue_tui.salesforce.session import Session
from smvue_tui.salesforce.token_calls import (
    DEFAULT_TIMEOUT,
    exchange_code,
    fetch_identity,
    oauth_client,
    revoke,
)
from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError

__all__ = [
    "PRODUCTION", "SANDBOX", "Consumer", "ConsumerNotConfigured", "Credentials", "DeviceCode",
    "DeviceFlow", "Environment", "LoginFlow", "LogoutResult", "RedirectListenerError",
    "SalesforceSettings", "Session", "TokenRedactingFilter", "TokenStore", "TokenStoreError",
    "consumer_for", "install_redaction", "load_settings", "logout", "parse_pasted",
    "resolve_environment",
]

log = logging.getLogger(__name__)

_QUERY_LIKE = re.compile(r"(^|[?&#])(code|state|error)=")


class RedirectListenerError(AuthorizationError):
    """The loopback callback port could not be opened."""

    user_message = "Could not start the login callback listener"
    remedy = (
        "Another program may be using the port. Pick another with --port N (the connected "
        "app's callback URL must use the same port), or close the other program."
    )


@dataclass(frozen=True)
class Pasted:
    """What the user pasted: a code (with the state it came with, if a URL) or an error."""

    code: str = ""
    state: str | None = None  # None: a bare code, no state to check
    error: dict[str, str] | None = None


def parse_pasted(text: str) -> Pasted:
    """A redirected URL, its query string, or a bare authorization code."""
    text = text.strip().strip("\"'<>")
    if _QUERY_LIKE.search(text) or "://" in text:
        parts = urlsplit(text if "://" in text else "x:///?" + text.lstrip("?"))
        params = dict(parse_qsl(parts.query or parts.fragment))
        state = params.get("state", "")
        if "error" in params:
            return Pasted(state=state, error=params)
        if params.get("code"):
            return Pasted(code=params["code"], state=state)
        raise AuthorizationError("the pasted URL has no authorization code in it",
                                 code="unrecognised_paste")
    code = unquote(text)
    if not code or any(ch.isspace() for ch in code):
        raise AuthorizationError("paste the whole URL the browser ended on, or just its code",
                                 code="unrecognised_paste")
    return Pasted(code=code)


class LoginFlow:
    """One web-server login with PKCE S256; see the module docstring."""

    def __init__(self, environment: Environment, consumer: Consumer, *,
                 port: int = DEFAULT_REDIRECT_PORT, scope: str = DEFAULT_SCOPE,
                 listen: bool = True, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.environment = environment
        self.consumer = consumer
        self.scope = scope
        self.timeout = timeout
        self.state = secrets.token_urlsafe(24)
        self.code_verifier = secrets.token_urlsafe(64)  # 86 chars; RFC 7636 allows 43-128
        self.authorization_url = ""
        self.redirect_uri = redirect_uri_for(port)
        self._listener = LoopbackListener(self._on_redirect, port=port) if listen else None
        self._transport = transport
        self._lock = asyncio.Lock()
        self._done: asyncio.Future[Credentials] | None = None

    async def __aenter__(self) -> LoginFlow:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.port is not None

    async def start(self) -> str:
        """Open the listener (if any) and build the authorization URL; returns it."""
        self._done = asyncio.get_running_loop().create_future()
        if self._listener is not None:
            try:
                await self._listener.start()
            except ListenerError as exc:
                raise RedirectListenerError(str(exc.strerror), code="listener_unavailable"
                                            ) from None
            self.redirect_uri = self._listener.redirect_uri
        client = oauth_client(self.consumer, redirect_uri=self.redirect_uri, scope=self.scope)
        try:
            self.authorization_url, _ = client.create_authorization_url(
                self.environment.authorize_url, state=self.state,
                code_verifier=self.code_verifier)
        finally:
            await client.aclose()
        return self.authorization_url

    async def aclose(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        if self._done is not None and not self._done.done():
            self._done.cancel()

    async def wait_for_redirect(self) -> Credentials:
        """Credentials once the login finishes by either path; a typed error if the browser
        came back with an error or the exchange failed."""
        if self._done is None:
            raise RuntimeError("call start() first")
        return await asyncio.shield(self._done)

    async def complete_with_pasted(self, text: str) -> Credentials:
        """Finish with what the user pasted. A wrong state or unreadable paste raises
        AuthorizationError and leaves the login pending; an error URL ends it."""
        if self._done is None:
            raise RuntimeError("call start() first")
        pasted = parse_pasted(text)
        if pasted.state is not None and not self._state_matches(pasted.state):
            raise AuthorizationError("the pasted URL belongs to another login attempt; use the "
                                     "URL from this one", code="state_mismatch")
        if pasted.error is not None:
            error = from_oauth_body(400, pasted.error)
            self._settle(error=error)
            raise error
        return await self._complete(pasted.code)

    async def _on_redirect(self, params: dict[str, str]) -> Page:
        if not self._state_matches(params.get("state", "")):
            log.warning("ignored a login redirect with the wrong state")
            return Page(400, "This login link is out of date",
                        "It does not belong to the login smvue-tui is waiting for. Start the "
                        "login again from the terminal.")
        if "error" in params:
            error = from_oauth_body(400, params)
            self._settle(error=error)
            return _failure_page(error)
        if not params.get("code"):
            return Page(400, "No authorization code", "Salesforce sent no code; try again.")
        try:
            creds = await self._complete(params["code"])
        except SalesforceError as error:
            if error.code == "login_finished":  # the paste path won the race
                return Page(200, "Already logged in", "You can close this tab.")
            self._settle(error=error)
            return _failure_page(error)
        return Page(200, "Logged in to Salesforce",
                    f"Connected as {creds.who()}. You can close this tab and return to the "
                    "terminal.")

    async def _complete(self, code: str) -> Credentials:
        """Exchange ``code`` once; later codes (the other path) are refused."""
        async with self._lock:
            if self._done is None or self._done.done():
                raise AuthorizationError("this login has already finished",
                                         code="login_finished")
            token = await exchange_code(
                self.environment, self.consumer, code=code, code_verifier=self.code_verifier,
                redirect_uri=self.redirect_uri, timeout=self.timeout, transport=self._transport)
            identity = await fetch_identity(str(token.get("id") or ""),
                                            str(token.get("access_token") or ""),
                                            timeout=self.timeout, transport=self._transport)
            creds = credentials_from_token(token, environment=self.environment,
                                           client_id=self.consumer.client_id, identity=identity)
            self._settle(creds=creds)
            return creds

    def _settle(self, *, creds: Credentials | None = None,
                error: SalesforceError | None = None) -> None:
        if self._done is None or self._done.done():
            return
        if error is not None:
            self._done.set_exception(error)
            self._done.exception()  # retrieved here; awaiters still get it
        else:
            self._done.set_result(creds)  # type: ignore[arg-type]

    def _state_matches(self, state: str) -> bool:
        return hmac.compare_digest(state.encode(), self.state.encode())


def _failure_page(error: SalesforceError) -> Page:
    text = f"{error.user_message}. {error.detail}".strip() if error.detail else error.user_message
    return Page(400, "Login failed", f"{text} — see the terminal for what to do next.")


@dataclass(frozen=True)
class LogoutResult:
    had_login: bool  # False: nothing was stored
    revoked: bool  # Salesforce confirmed the revoke
    error: SalesforceError | None = None  # why the revoke failed (local tokens cleared anyway)


async def logout(store: TokenStore | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> LogoutResult:
    """Revoke the stored login at Salesforce, then delete it locally whatever happened."""
    store = store or TokenStore()
    try:
        creds = store.load()
    except TokenStoreError as exc:
        store.clear()
        return LogoutResult(had_login=True, revoked=False, error=exc)
    if creds is None:
        return LogoutResult(had_login=False, revoked=False)
    error: SalesforceError | None = None
    try:
        # Revoking the refresh token revokes its access tokens too; if Salesforce refuses it,
        # the access token is still worth revoking. A network failure is not retried.
        for token in dict.fromkeys(t for t in (creds.refresh_token, creds.access_token) if t):
            try:
                await revoke(creds.environment, token, timeout=timeout, transport=transport)
            except ServerUnavailable as exc:
                error = exc
                break
            except SalesforceError as exc:
                error = error or exc
                continue
            error = None
            break
        if error is not None:
            log.warning("revoking the Salesforce login failed: %s", error)
    finally:
        store.clear()
    return LogoutResult(had_login=True, revoked=error is None, error=error)
