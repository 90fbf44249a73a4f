"""The demo org's OAuth 2.0 endpoints, answering as Salesforce does (protocol reference §1).

``add_oauth_routes(app, org)`` adds:

- GET  /services/oauth2/authorize   web-server flow (+PKCE S256). Unknown client or a redirect
  URI that is not a loopback ``http://localhost:<port>/...`` / ``http://127.0.0.1:<port>/...``
  → an HTML error page (no redirect). With ``org.auto_approve`` → 302 straight back with
  ``code`` and ``state``; otherwise the login + consent page.
- POST /services/oauth2/authorize   the consent page's form. A browser (or the TUI approving
  the demo org "with one key") posts ``application/x-www-form-urlencoded`` fields:
  ``request_token`` (hidden field of the page), ``username``, ``password`` and
  ``decision`` = ``allow`` | ``deny``. Allow with the demo user's credentials → 302
  ``<redirect_uri>?code=...&state=...``; deny → 302 ``<redirect_uri>?error=access_denied&
  error_description=end-user+denied+authorization&state=...``; wrong credentials → the page
  again (200) with an error. To approve without parsing HTML, GET the authorize URL, take the
  ``request_token`` value from the page and post the four fields.
- POST /services/oauth2/token       grant_type authorization_code | refresh_token | password |
  device (Salesforce's device dialect: ``response_type=device_code`` on this endpoint starts it).
- GET|POST /services/oauth2/revoke  200 with an empty body, else 400.
- the device pages (oauth_device.py) and userinfo / identity / discovery (oauth_identity.py).

Errors on the token and revoke endpoints are HTTP 400 ``{"error", "error_description"}``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from smvue_demo_org import oauth_pages
from smvue_demo_org.oauth_device import add_device_routes, authenticate, login_hint
from smvue_demo_org.oauth_http import (
    NO_STORE,
    check_client,
    client_credentials,
    encoded,
    error_response,
    read_params,
    response_format,
    token_body,
)
from smvue_demo_org.oauth_identity import add_identity_routes
from smvue_demo_org.tokens import AccessSession, OAuthError, TokenRegistry

if TYPE_CHECKING:
    from smvue_demo_org.org import DemoOrg

DEFAULT_SCOPE = "api refresh_token id"  # the demo app's configured scopes
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url(SHA-256), no padding
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def normalize_scope(scope: str | None) -> str:
    """The requested scopes, each once; the app's scopes when none are asked for."""
    names = list(dict.fromkeys((scope or "").split()))
    if not names:
        return DEFAULT_SCOPE
    if any(name not in oauth_pages.SCOPE_LABELS for name in names):
        raise OAuthError("invalid_scope", "the requested scope is not allowed")
    return " ".join(names)


# The demo app's registered callback path, as Salesforce's CLI docs register it. Salesforce
# matches callback URLs exactly (path case included): /OAuthRedirect would be refused.
CALLBACK_PATH = "/OauthRedirect"


def is_loopback_callback(uri: str) -> bool:
    """The demo app's callback URLs: any http loopback address and port (RFC 8252), on the
    registered path exactly."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.hostname in _LOOPBACK and not parts.fragment
            and parts.username is None and parts.password is None
            and parts.path == CALLBACK_PATH)


def with_query(uri: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{query}" if query else uri


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location, **NO_STORE})


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html", headers=NO_STORE)


def html_error(error: OAuthError) -> web.Response:
    return html(oauth_pages.error_page(error.error, error.description), 400)


class _OAuthEndpoints:
    def __init__(self, org: DemoOrg) -> None:
        self.org = org

    @property
    def tokens(self) -> TokenRegistry:
        return self.org.tokens

    # -- authorize -------------------------------------------------------------------------

    async def authorize_get(self, request: web.Request) -> web.Response:
        try:
            return self._authorize(await read_params(request))
        except OAuthError as exc:
            return html_error(exc)

    def _authorize(self, params: dict[str, str]) -> web.Response:
        """Validate an authorize request; redirect back with a code or show the login page."""
        client_id = params.get("client_id", "")
        check_client(self.org, client_id, None, secret_required=False)
        redirect_uri = params.get("redirect_uri", "")
        registered = self.org.apps.get(client_id)
        if not (redirect_uri in registered if registered is not None
                else is_loopback_callback(redirect_uri)):
            raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
        state = params.get("state")
        try:
            if params.get("response_type") != "code":
                raise OAuthError("unsupported_response_type", "response type not supported")
            challenge = params.get("code_challenge")
            if challenge is not None and (params.get("code_challenge_method", "S256") != "S256"
                                          or not _CHALLENGE.fullmatch(challenge)):
                raise OAuthError("invalid_request", "invalid code_challenge")
            pending = {"client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": normalize_scope(params.get("scope"))}
            if challenge is not None:
                pending["code_challenge"] = challenge
            if state is not None:
                pending["state"] = state
            prompts = set(params.get("prompt", "").split())
            if self.org.auto_approve and not prompts & {"login", "consent", "select_account"}:
                return self._approve(pending, self.org.user_id)
            if "none" in prompts:
                raise OAuthError("login_required", "user is not logged in")
        except OAuthError as exc:  # the redirect URI is trusted now: report the error there
            return redirect(with_query(redirect_uri, error=exc.error,
                                       error_description=exc.description, state=state))
        pending["login_hint"] = params.get("login_hint", "")
        request_token = self.tokens.remember_request(pending)
        return self._login_page(request_token, pending)

    def _login_page(self, request_token: str, pending: dict[str, str], error: str = "",
                    username: str | None = None) -> web.Response:
        return html(oauth_pages.login_page(
            request_token=request_token, scope=pending["scope"],
            username=pending.get("login_hint", "") if username is None else username,
            hint=login_hint(self.org), error=error))

    def _approve(self, pending: dict[str, str], user_id: str) -> web.Response:
        session = AccessSession(user_id, pending["scope"], pending["client_id"])
        code = self.tokens.issue_code(session, pending["redirect_uri"],
                                      pending.get("code_challenge"))
        return redirect(with_query(pending["redirect_uri"], code=code, state=pending.get("state")))

    async def authorize_post(self, request: web.Request) -> web.Response:
        try:
            params = await read_params(request)
            if not params.get("request_token") and "response_type" in params:
                return self._authorize(params)  # an authorize request sent by POST
            return self._consent(params)
        except OAuthError as exc:
            return html_error(exc)

    def _consent(self, params: dict[str, str]) -> web.Response:
        """The login + consent form: redirect back with a code, or an error, or ask again."""
        request_token = params.get("request_token", "")
        pending = self.tokens.pending_request(request_token) if request_token else None
        if pending is None:
            raise OAuthError("invalid_request", "the login page expired; start again from the app")
        decision = params.get("decision", "allow")
        if decision == "deny":
            self.tokens.forget_request(request_token)
            return redirect(with_query(
                pending["redirect_uri"], error="access_denied",
                error_description="end-user denied authorization", state=pending.get("state")))
        username = params.get("username", "")
        if decision != "allow":
            return self._login_page(request_token, pending, "Choose Allow or Deny.", username)
        user_id = authenticate(self.org, username, params.get("password", ""))
        if user_id is None:
            return self._login_page(request_token, pending, oauth_pages.LOGIN_ERROR, username)
        self.tokens.forget_request(request_token)
        return self._approve(pending, user_id)

    # -- token -----------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        fmt = response_format(request, {})
        try:
            if request.method != "POST":
                raise OAuthError("invalid_request", "must use HTTP POST")
            params = await read_params(request)
            fmt = response_format(request, params)
            return encoded(self._token(request, params), fmt)
        except OAuthError as exc:
            return error_response(exc, fmt)

    def _token(self, request: web.Request, params: dict[str, str]) -> dict[str, object]:
        grant_type = params.get("grant_type")
        if grant_type is None and params.get("response_type") == "device_code":
            return self._device_start(request, params)
        if grant_type is None and "response_type" in params:
            raise OAuthError("unsupported_response_type", "response type not supported")
        if grant_type not in ("authorization_code", "refresh_token", "password", "device"):
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        client_id, secret = client_credentials(request, params)
        check_client(self.org, client_id, secret, secret_required=grant_type != "device")
        if grant_type == "authorization_code":
            grant = self.tokens.redeem_code(
                params.get("code", ""), client_id=client_id,
                redirect_uri=params.get("redirect_uri", ""),
                code_verifier=params.get("code_verifier"))
        elif grant_type == "refresh_token":
            grant = self.tokens.refresh(params.get("refresh_token", ""), client_id)
        elif grant_type == "password":
            user_id = authenticate(self.org, params.get("username", ""),
                                   params.get("password", ""))
            if user_id is None:
                raise OAuthError("invalid_grant", "authentication failure")
            session = AccessSession(user_id, normalize_scope(params.get("scope")), client_id)
            # Salesforce's username-password flow never returns a refresh token.
            grant = self.tokens.issue_grant(session, with_refresh=False)
        else:
            grant = self.tokens.poll_device(params.get("code", ""), client_id)
        return token_body(self.org, grant)

    def _device_start(self, request: web.Request, params: dict[str, str]) -> dict[str, object]:
        client_id, secret = client_credentials(request, params)
        check_client(self.org, client_id, secret, secret_required=False)
        codes = self.tokens.start_device(client_id, normalize_scope(params.get("scope")))
        # Salesforce's answer: no expires_in and no verification_uri_complete.
        return {"device_code": codes.device_code, "user_code": codes.user_code,
                "verification_uri": f"{self.org.base_url}/setup/connect",
                "interval": codes.interval}

    # -- revoke ----------------------------------------------------------------------------

    async def revoke(self, request: web.Request) -> web.Response:
        try:
            params = await read_params(request)
            token = params.get("token", "")
            if not token:
                raise OAuthError("invalid_token", "missing token parameter")
            if not self.tokens.revoke(token):
                raise OAuthError("unsupported_token_type", "unsupported token type")
        except OAuthError as exc:
            return error_response(exc)
        return web.Response(status=200, headers=NO_STORE)


def issue_demo_login(org: DemoOrg, scope: str = DEFAULT_SCOPE) -> dict[str, str]:
    """The token response a completed web-server login gives the demo user, minted in-process
    (for tests and automation that need a refresh token without driving the consent page)."""
    session = AccessSession(org.user_id, normalize_scope(scope), org.client_id)
    return token_body(org, org.tokens.issue_grant(session, with_refresh=True))


def add_oauth_routes(app: web.Application, org: DemoOrg) -> None:
    """Register every OAuth endpoint of the demo org on ``app``."""
    endpoints = _OAuthEndpoints(org)
    app.router.add_get("/services/oauth2/authorize", endpoints.authorize_get)
    app.router.add_post("/services/oauth2/authorize", endpoints.authorize_post)
    app.router.add_route("*", "/services/oauth2/token", endpoints.token)
    app.router.add_get("/services/oauth2/revoke", endpoints.revoke)
    app.router.add_post("/services/oauth2/revoke", endpoints.revoke)
    add_device_routes(app, org)
    add_identity_routes(app, org)
