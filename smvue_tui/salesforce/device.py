"""Device login in Salesforce's dialect (not RFC 8628 on the wire; reference §1.4).

``start()`` POSTs ``response_type=device_code`` to the *token* endpoint and returns the user
code and verification URL for the UI to show; ``poll()`` then POSTs ``grant_type=device`` with
``code=<device_code>`` every ``interval`` seconds: ``authorization_pending`` keeps polling,
``slow_down`` adds 5 s, anything else ends the login with a typed error. Polls are capped.
Only works when the org's admin installed the app with device flow enabled (reference §1.2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from smvue_tui.salesforce.consumer import DEFAULT_SCOPE, Consumer
from smvue_tui.salesforce.credentials import Credentials, credentials_from_token
from smvue_tui.salesforce.environments import Environment
from smvue_tui.salesforce.errors import (
    AuthorizationError,
    LoginExpired,
    ReauthorizationNeeded,
    ServerUnavailable,
    from_oauth_body,
)
from smvue_tui.salesforce.redaction import remember_secret
from smvue_tui.salesforce.token_calls import (
    DEFAULT_TIMEOUT,
    error_from_response,
    fetch_identity,
    post_form,
)

MAX_POLLS = 100  # the Salesforce CLI's cap
MIN_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
MAX_TRANSIENT_FAILURES = 3  # network blips / 5xx in a row before giving up

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class DeviceCode:
    """What the user must see: open ``verification_uri`` and type ``user_code``."""

    user_code: str
    verification_uri: str
    interval: float
    device_code: str = field(repr=False)


class DeviceFlow:
    """``codes = await flow.start()``; show them; ``creds = await flow.poll()``."""

    def __init__(self, environment: Environment, consumer: Consumer, *,
                 scope: str = DEFAULT_SCOPE, timeout: float = DEFAULT_TIMEOUT,
                 max_polls: int = MAX_POLLS, sleep: Sleep | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.environment = environment
        self.consumer = consumer
        self.scope = scope
        self.timeout = timeout
        self.max_polls = max_polls
        self._sleep = sleep or asyncio.sleep
        self._transport = transport
        self.codes: DeviceCode | None = None
        self.interval = MIN_INTERVAL

    async def start(self) -> DeviceCode:
        response = await self._post({"response_type": "device_code", "scope": self.scope})
        if response.status_code != 200:
            raise error_from_response(response)
        body = _json(response)
        try:
            codes = DeviceCode(user_code=str(body["user_code"]),
                               verification_uri=str(body["verification_uri"]),
                               interval=max(float(body.get("interval") or 0), MIN_INTERVAL),
                               device_code=str(body["device_code"]))
        except (KeyError, TypeError, ValueError):
            raise AuthorizationError("the device code response was incomplete",
                                     code="invalid_device_response") from None
        remember_secret(codes.device_code)
        self.codes, self.interval = codes, codes.interval
        return codes

    async def poll(self) -> Credentials:
        """Poll until the user approves (Credentials) or the login ends (typed error)."""
        if self.codes is None:
            raise RuntimeError("call start() before poll()")
        failures = 0
        for _ in range(self.max_polls):
            await self._sleep(self.interval)
            try:
                response = await self._post({"grant_type": "device",
                                             "code": self.codes.device_code})
            except ServerUnavailable:
                failures += 1
                if failures >= MAX_TRANSIENT_FAILURES:
                    raise
                continue
            if response.status_code == 200:
                return await self._credentials(_json(response))
            if response.status_code >= 500:
                failures += 1
                if failures >= MAX_TRANSIENT_FAILURES:
                    raise error_from_response(response)
                continue
            failures = 0
            body = _json(response)
            if "error" not in body:
                raise error_from_response(response)
            error = str(body["error"])
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                self.interval += SLOW_DOWN_STEP
                continue
            raise _terminal(response.status_code, body)
        raise LoginExpired(f"no approval after {self.max_polls} polls", code="expired_token")

    async def _post(self, form: dict[str, str]) -> httpx.Response:
        form = {**form, "client_id": self.consumer.client_id}
        if self.consumer.client_secret:
            form["client_secret"] = self.consumer.client_secret
        return await post_form(self.environment.token_url, form, timeout=self.timeout,
                               transport=self._transport)

    async def _credentials(self, token: dict[str, Any]) -> Credentials:
        remember_secret(token.get("access_token"), token.get("refresh_token"))
        identity = None
        if isinstance(token.get("access_token"), str) and token.get("id"):
            identity = await fetch_identity(str(token["id"]), token["access_token"],
                                            timeout=self.timeout, transport=self._transport)
        return credentials_from_token(token, environment=self.environment,
                                      client_id=self.consumer.client_id, identity=identity)


def _terminal(status: int, body: dict[str, Any]) -> AuthorizationError:
    """A poll error that ends the login; an expired/used device code is never a lost session."""
    error = from_oauth_body(status, body)
    if isinstance(error, ReauthorizationNeeded) or error.code == "invalid_grant":
        return LoginExpired(error.detail, code=error.code, status=status)
    if isinstance(error, AuthorizationError):
        return error
    return AuthorizationError(error.detail, code=error.code, status=status)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}
