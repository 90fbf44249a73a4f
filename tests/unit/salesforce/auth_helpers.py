"""Shared fixtures-as-functions for the login tests: Salesforce-shaped bodies and credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import httpx

from smvue_tui.salesforce.consumer import Consumer
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.environments import PRODUCTION

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
REVOKE_URL = f"{LOGIN}/services/oauth2/revoke"
INSTANCE = "https://acme.my.salesforce.com"
ORG_ID = "00DXX0000001abcEAA"
USER_ID = "005XX000001xyzQAA"
IDENTITY_URL = f"{LOGIN}/id/{ORG_ID}/{USER_ID}"
ACCESS = "00DXX0000001abc!AQ4AQFakeAccessTokenValue.one"
ACCESS_2 = "00DXX0000001abc!AQ4AQFakeAccessTokenValue.two"
REFRESH = "5Aep861FakeRefreshTokenValueOne"
REFRESH_2 = "5Aep861FakeRefreshTokenValueTwo"
CONSUMER = Consumer("3MVG9FakeConsumerKey")
SECRET_CONSUMER = Consumer("3MVG9FakeConsumerKey", "fake-consumer-secret")


def token_body(access: str = ACCESS, refresh: str | None = REFRESH,
               instance: str = INSTANCE) -> dict[str, str]:
    body = {"access_token": access}
    if refresh:
        body["refresh_token"] = refresh
    body.update({"signature": "c2lnbmF0dXJl", "scope": "refresh_token id api",
                 "instance_url": instance, "id": IDENTITY_URL, "token_type": "Bearer",
                 "issued_at": "1767225600000"})
    return body


def identity_body() -> dict[str, object]:
    return {"id": IDENTITY_URL, "user_id": USER_ID, "organization_id": ORG_ID,
            "username": "jane@acme.com", "display_name": "Jane Doe",
            "urls": {"rest": f"{INSTANCE}/services/data/v{{version}}/"}}


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


def oauth_error(error: str, description: str = "", status: int = 400) -> dict[str, object]:
    return {"status_code": status, "json": {"error": error, "error_description": description}}


def make_creds(**changes: object) -> Credentials:
    values: dict[str, object] = {
        "access_token": ACCESS, "refresh_token": REFRESH, "instance_url": INSTANCE,
        "identity_url": IDENTITY_URL, "org_id": ORG_ID, "user_id": USER_ID,
        "environment": PRODUCTION, "issued_at": datetime(2026, 1, 1, tzinfo=UTC),
        "scope": "refresh_token id api", "username": "jane@acme.com",
        "display_name": "Jane Doe", "client_id": CONSUMER.client_id,
    }
    values.update(changes)
    return Credentials(**values)  # type: ignore[arg-type]
