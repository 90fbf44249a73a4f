"""HTTP plumbing the demo org's OAuth endpoints share: reading parameters, client checks,
Salesforce-shaped token and error responses, and an access logger that hides secrets.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlencode
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_log import AccessLogger

from smvue_demo_org.tokens import Grant, OAuthError

if TYPE_CHECKING:
    from smvue_demo_org.org import DemoOrg

DEMO_SIGNATURE_KEY = "smvue-demo-org-signature"  # signs token responses when the app has no secret
NO_STORE = {"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"}
MAX_PARAM_LENGTH = 8192
# Query parameters whose values are secrets: masked in the access log.
SECRET_PARAMS = frozenset({"token", "oauth_token", "access_token", "refresh_token", "code",
                           "device_code", "client_secret", "password", "code_verifier",
                           "assertion"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def invalid_client_id() -> OAuthError:
    return OAuthError("invalid_client_id", "client identifier invalid")


async def read_params(request: web.Request) -> dict[str, str]:
    """Query string merged with a form body (the body wins); first value of each name.

    A body that is not a form (JSON, garbage) contributes nothing, as on Salesforce, so the
    caller answers with the error for the missing parameter.
    """
    params = _first_values(request.query.items())
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        try:
            form = await request.post()
        except (ValueError, UnicodeDecodeError, AssertionError, HttpProcessingError,
                web.HTTPException) as exc:
            raise OAuthError("invalid_request", "malformed request body") from exc
        params.update(_first_values((k, v) for k, v in form.items() if isinstance(v, str)))
    if any(len(v) > MAX_PARAM_LENGTH for v in params.values()):
        raise OAuthError("invalid_request", "request parameter too long")
    return params


def _first_values(items: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in items:  # type: ignore[attr-defined]
        out.setdefault(key, value)
    return out


def client_credentials(request: web.Request, params: dict[str, str]) -> tuple[str, str | None]:
    """client_id and client_secret from HTTP Basic, else from the parameters."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "invalid client credentials") from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "invalid client credentials")
        return unquote(client_id), unquote(secret)
    return params.get("client_id", ""), params.get("client_secret")


def check_client(org: DemoOrg, client_id: str, secret: str | None, *,
                 secret_required: bool) -> None:
    """The consumer key must be the demo app's or a registered one (POST /demo/apps, which have
    no secret); the demo app's secret too when it has one."""
    if client_id and client_id in org.apps:
        return
    if not client_id or not hmac.compare_digest(client_id.encode(), org.client_id.encode()):
        raise invalid_client_id()
    if org.client_secret is None or (secret is None and not secret_required):
        return
    if secret is None or not hmac.compare_digest(secret.encode(), org.client_secret.encode()):
        raise OAuthError("invalid_client", "invalid client credentials")


def response_format(request: web.Request, params: dict[str, str]) -> str:
    """json (default), urlencoded or xml, from ``format`` or the Accept header."""
    wanted = params.get("format", "").lower()
    if wanted in ("json", "urlencoded", "xml"):
        return wanted
    accept = request.headers.get("Accept", "")
    if "json" not in accept:
        if "application/x-www-form-urlencoded" in accept:
            return "urlencoded"
        if "xml" in accept:
            return "xml"
    return "json"


def encoded(body: Mapping[str, object], fmt: str, status: int = 200) -> web.Response:
    if fmt == "urlencoded":
        return web.Response(status=status, text=urlencode(body), headers=NO_STORE,
                            content_type="application/x-www-form-urlencoded")
    if fmt == "xml":
        items = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in body.items())
        text = f'<?xml version="1.0" encoding="UTF-8"?><OAuth>{items}</OAuth>'
        return web.Response(status=status, text=text, headers=NO_STORE,
                            content_type="application/xml")
    return web.json_response(body, status=status, headers=NO_STORE,
                             content_type="application/json")


def error_response(error: OAuthError, fmt: str = "json") -> web.Response:
    return encoded(error.body(), fmt, error.status)


def token_body(org: DemoOrg, grant: Grant) -> dict[str, str]:
    """The token response Salesforce sends: no expires_in, issued_at in ms as a string."""
    identity = org.identity_url(grant.session.user_id)
    body = {"access_token": grant.access_token}
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    body.update({
        "signature": grant.signature(identity, org.client_secret or DEMO_SIGNATURE_KEY),
        "scope": grant.session.scope,
        "instance_url": org.base_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": str(grant.issued_at_ms),
    })
    return body


def bearer_token(request: web.Request, *query_names: str) -> str | None:
    """The token from ``Authorization: Bearer`` (or OAuth), else from the named query params."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    for name in query_names:
        if request.query.get(name):
            return request.query[name]
    return None


_SECRET_VALUE = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMS)) + r")=[^&\s]*")
_ACCESS_TOKEN = re.compile(r"(00D[A-Za-z0-9]{12})![^/?&\s\"]+")


def redact(text: str) -> str:
    """``text`` (a URL, a request line) with secret parameter values and access tokens masked."""
    return _ACCESS_TOKEN.sub(r"\1!***", _SECRET_VALUE.sub(r"\1=***", text))


class SafeAccessLogger(AccessLogger):
    """aiohttp's access logger with secrets masked in everything it logs.

    Use it for every demo-org app runner:
    ``web.AppRunner(app, access_log_class=SafeAccessLogger)``. (The Location header of an OAuth
    redirect carries the code; the default format does not log response headers.)
    """

    def _format_line(self, request: web.BaseRequest, response: web.StreamResponse,
                     time: float) -> Iterable[tuple[str | tuple[str, str], str]]:
        return [(key, redact(value) if isinstance(value, str) else value)
                for key, value in super()._format_line(request, response, time)]
