"""The OAuth HTTP calls (token, refresh, revoke, identity) and their errors as typed errors.

Code exchange and refresh go through authlib's ``AsyncOAuth2Client`` (PKCE S256). authlib
reports a Salesforce 400 either as ``OAuthError`` (JSON body with ``error``) or, in some
versions and for non-JSON bodies, as ``httpx.HTTPStatusError`` raised before it looks at the
body (protocol reference §1.9): both become the typed error of the body's ``error``. Every
client carries the read-only guard and explicit timeouts. No error text contains a token.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
from authlib.integrations.base_client import OAuthError

from smvue_tui.salesforce.consumer import Consumer
from smvue_tui.salesforce.environments import Environment, is_loopback_host
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    SalesforceError,
    ServerUnavailable,
    from_oauth_body,
)
from smvue_tui.salesforce.guard import ReadOnlyGuard, guarded_async_client
from smvue_tui.salesforce.redaction import redact, remember_secret

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
JSON_HEADERS = {"Accept": "application/json"}


def http_timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def oauth_client(consumer: Consumer, *, timeout: float = DEFAULT_TIMEOUT,
                 redirect_uri: str | None = None, scope: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> AsyncOAuth2Client:
    """authlib's client for ``consumer``; credentials go in the form body (client_id always)."""
    with warnings.catch_warnings():
        # authlib >= 1.9.10 prefers the httpx2 package and warns (to the user's terminal) when
        # it falls back to httpx, which it still fully supports.
        warnings.simplefilter("ignore", DeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    kwargs: dict[str, Any] = {"timeout": http_timeout(timeout),
                              "event_hooks": {"request": [ReadOnlyGuard()]}}
    if transport is not None:
        kwargs["transport"] = transport
    return AsyncOAuth2Client(
        client_id=consumer.client_id,
        client_secret=consumer.client_secret,
        token_endpoint_auth_method="client_secret_post" if consumer.client_secret else "none",
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge_method="S256",
        **kwargs,
    )


def plain_client(timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    kwargs: dict[str, Any] = {"timeout": http_timeout(timeout), "headers": JSON_HEADERS}
    if transport is not None:
        kwargs["transport"] = transport
    return guarded_async_client(**kwargs)


async def exchange_code(environment: Environment, consumer: Consumer, *, code: str,
                        code_verifier: str, redirect_uri: str, timeout: float = DEFAULT_TIMEOUT,
                        transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    """The token response for an authorization code (web-server flow with PKCE)."""
    async with oauth_client(consumer, timeout=timeout, redirect_uri=redirect_uri,
                            transport=transport) as client:
        return await call_token_endpoint(client.fetch_token(
            environment.token_url, grant_type="authorization_code", code=code,
            code_verifier=code_verifier))


async def refresh_grant(environment: Environment, consumer: Consumer, refresh_token: str, *,
                        timeout: float = DEFAULT_TIMEOUT,
                        transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    """The token response for ``grant_type=refresh_token`` (no scope: keep the granted one)."""
    async with oauth_client(consumer, timeout=timeout, transport=transport) as client:
        return await call_token_endpoint(client.refresh_token(
            environment.token_url, refresh_token=refresh_token))


async def call_token_endpoint(call: Any) -> dict[str, Any]:
    """Await an authlib token call; any failure becomes a typed SalesforceError."""
    try:
        token = dict(await call)
    except OAuthError as exc:
        raise from_oauth_body(400, {"error": exc.error,
                                    "error_description": exc.description or ""}) from None
    except httpx.HTTPStatusError as exc:
        raise error_from_response(exc.response) from None
    except httpx.HTTPError as exc:
        raise network_error(exc) from None
    except ValueError as exc:  # authlib: 2xx whose body is not a JSON object
        raise AuthorizationError(f"unexpected token response: {exc}",
                                 code="invalid_token_response") from None
    remember_secret(_text(token.get("access_token")), _text(token.get("refresh_token")))
    return token


async def post_form(url: str, form: Mapping[str, str], *, timeout: float = DEFAULT_TIMEOUT,
                    transport: httpx.AsyncBaseTransport | None = None) -> httpx.Response:
    """POST a form to an OAuth endpoint (device flow, revoke); network errors typed."""
    try:
        async with plain_client(timeout, transport) as client:
            return await client.post(url, data=dict(form))
    except httpx.HTTPError as exc:
        raise network_error(exc) from None


async def revoke(environment: Environment, token: str, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
    """POST /services/oauth2/revoke; 200 = done, anything else a typed error."""
    response = await post_form(environment.revoke_url, {"token": token}, timeout=timeout,
                               transport=transport)
    if response.status_code != 200:
        raise error_from_response(response)


async def fetch_identity(identity_url: str, access_token: str, *,
                         timeout: float = DEFAULT_TIMEOUT,
                         transport: httpx.AsyncBaseTransport | None = None
                         ) -> dict[str, Any] | None:
    """GET the identity URL with the new token; None (logged) when it cannot be read.

    Identity only adds the user name; login still works without it.
    """
    parts = httpx.URL(identity_url) if identity_url else None
    if parts is None or not (parts.scheme == "https" or is_loopback_host(parts.host)):
        return None  # never send the token to a non-https, non-loopback host
    try:
        async with plain_client(timeout, transport) as client:
            response = await client.get(identity_url,
                                        headers={"Authorization": f"Bearer {access_token}"})
    except (httpx.HTTPError, SalesforceError) as exc:
        log.warning("could not read the identity URL: %s", redact(str(exc)))
        return None
    if response.status_code != 200:
        log.warning("identity URL answered HTTP %s", response.status_code)
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_from_response(response: httpx.Response) -> SalesforceError:
    """The typed error for an OAuth endpoint's error response (JSON, or not)."""
    status = response.status_code
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if isinstance(body, dict) and "error" in body:
        return from_oauth_body(status, body)
    if status >= 500:
        return ServerUnavailable(f"HTTP {status} from {response.request.url.host}", status=status)
    return AuthorizationError(f"HTTP {status} from {response.request.url.host}", status=status)


def network_error(exc: httpx.HTTPError) -> ServerUnavailable:
    # Not errors.reason: the whole text is redacted before anything could cut a token in two.
    reason = str(exc) or type(exc).__name__
    return ServerUnavailable(f"could not reach Salesforce: {redact(reason)}")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
