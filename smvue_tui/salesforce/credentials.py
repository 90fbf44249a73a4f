"""What a login yields: tokens plus who and where, built from Salesforce's token response.

Salesforce token responses carry no ``expires_in``; ``issued_at`` is epoch milliseconds as a
string and ``id`` is the identity URL ``https://<host>/id/<orgId>/<userId>``. ``repr`` never
shows a token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from smvue_tui.salesforce.environments import Environment, environment_from_dict
from smvue_tui.salesforce.errors import AuthorizationError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Credentials:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    instance_url: str
    identity_url: str
    org_id: str
    user_id: str
    environment: Environment
    issued_at: datetime | None = None
    scope: str = ""
    username: str = ""
    display_name: str = ""
    client_id: str = ""  # the consumer key the tokens were issued to (refresh must reuse it)

    def __repr__(self) -> str:  # explicit, so a later field can never leak a token by default
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}"
                          for f in dataclasses.fields(self) if f.repr)
        return f"Credentials({shown}, access_token=[redacted], refresh_token=[redacted])"

    __str__ = __repr__

    def who(self) -> str:
        """``Jane Doe <jane@acme.com>`` or the user id when identity was not available."""
        name = self.display_name or self.username or self.user_id
        if self.display_name and self.username:
            name = f"{self.display_name} <{self.username}>"
        return name

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"version": FORMAT_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Environment):
                value = value.to_dict()
            elif isinstance(value, datetime):
                value = value.isoformat()
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Credentials:
        """Read back ``to_dict`` output; ValueError naming the bad field otherwise."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown format version {data.get('version')!r}")
        for name in ("access_token", "instance_url"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise ValueError(f"{name} is missing")
        refresh = data.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("refresh_token is not a string")
        issued = data.get("issued_at")
        texts = {name: _str(data, name) for name in (
            "identity_url", "org_id", "user_id", "scope", "username", "display_name",
            "client_id")}
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=refresh or None,
            instance_url=str(data["instance_url"]),
            environment=environment_from_dict(data.get("environment")),
            issued_at=datetime.fromisoformat(issued) if isinstance(issued, str) else None,
            **texts,
        )


def credentials_from_token(token: Mapping[str, object], *, environment: Environment,
                           client_id: str, identity: Mapping[str, object] | None = None
                           ) -> Credentials:
    """Credentials from a token response (and the identity response, when fetched)."""
    access = token.get("access_token")
    instance = token.get("instance_url")
    if not isinstance(access, str) or not access or not isinstance(instance, str) or not instance:
        raise AuthorizationError("the token response had no access_token or instance_url",
                                 code="invalid_token_response")
    identity_url = str(token.get("id") or "")
    org_id, user_id = ids_from_identity_url(identity_url)
    identity = identity or {}
    refresh = token.get("refresh_token")
    return Credentials(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        instance_url=instance.rstrip("/"),
        identity_url=identity_url,
        org_id=str(identity.get("organization_id") or org_id),
        user_id=str(identity.get("user_id") or user_id),
        environment=environment,
        issued_at=parse_issued_at(token.get("issued_at")),
        scope=str(token.get("scope") or ""),
        username=str(identity.get("username") or ""),
        display_name=str(identity.get("display_name") or ""),
        client_id=client_id,
    )


def refreshed(creds: Credentials, token: Mapping[str, object]) -> Credentials:
    """``creds`` after a refresh: new access token, maybe a new instance URL, and the rotated
    refresh token when Salesforce sent one (otherwise the old one stays valid)."""
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthorizationError("the refresh response had no access_token",
                                 code="invalid_token_response")
    rotated = token.get("refresh_token")
    return dataclasses.replace(
        creds,
        access_token=access,
        refresh_token=rotated if isinstance(rotated, str) and rotated else creds.refresh_token,
        instance_url=str(token.get("instance_url") or creds.instance_url).rstrip("/"),
        identity_url=str(token.get("id") or creds.identity_url),
        issued_at=parse_issued_at(token.get("issued_at")) or creds.issued_at,
        scope=str(token.get("scope") or creds.scope),
    )


def ids_from_identity_url(url: str) -> tuple[str, str]:
    """(org id, user id) from ``https://host/id/<org>/<user>``; empty strings if not that shape."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 3 and parts[-3] == "id":
        return parts[-2], parts[-1]
    return "", ""


def parse_issued_at(value: object) -> datetime | None:
    """Salesforce's ``issued_at`` (epoch ms, as a string) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _str(data: Mapping[str, object], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value
