"""Who is logged in: the identity URL (``/id/<org>/<user>``), OIDC userinfo and the discovery
document, as Salesforce answers them (protocol reference §1.7).

The identity service refuses a token with HTTP 403 and one word of plain text
(``Missing_OAuth_Token`` / ``Bad_OAuth_Token`` / ``Invalid_Scope``), unlike the data API's 401;
an identity URL naming another org or user is 404 ``Bad_Id``. ``version=latest|NN.0`` fills the
``{version}`` placeholders in ``urls``; another version is 400 ``Bad_Version`` [unverified text].
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from smvue_demo_org.oauth_http import NO_STORE, bearer_token
from smvue_demo_org.oauth_pages import SCOPE_LABELS
from smvue_demo_org.org import API_VERSIONS

if TYPE_CHECKING:
    from smvue_demo_org.org import DemoOrg
    from smvue_demo_org.tokens import AccessSession

IDENTITY_SCOPES = frozenset({"id", "api", "full", "openid", "profile", "email"})
LAST_MODIFIED = "2026-01-05T17:42:10.000+0000"


class _Refused(Exception):
    def __init__(self, status: int, word: str) -> None:
        super().__init__(word)
        self.status, self.word = status, word

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.word, content_type="text/plain",
                            headers=NO_STORE)


def utc_offset_ms(timezone: str) -> int:
    """Standard (non-daylight) offset of a time zone in milliseconds, as ``utcOffset`` shows."""
    try:
        now = datetime.now(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    offset = (now.utcoffset() or timedelta(0)) - (now.dst() or timedelta(0))
    return int(offset.total_seconds() * 1000)


def identity_urls(org: DemoOrg, user_id: str, version: str = "{version}") -> dict[str, str]:
    base, org15 = org.base_url, org.org_id[:15]
    rest = f"{base}/services/data/v{version}/"
    return {
        "enterprise": f"{base}/services/Soap/c/{version}/{org15}",
        "metadata": f"{base}/services/Soap/m/{version}/{org15}",
        "partner": f"{base}/services/Soap/u/{version}/{org15}",
        "rest": rest,
        "sobjects": f"{rest}sobjects/",
        "search": f"{rest}search/",
        "query": f"{rest}query/",
        "recent": f"{rest}recent/",
        "tooling_soap": f"{base}/services/Soap/T/{version}/{org15}",
        "tooling_rest": f"{rest}tooling/",
        "profile": f"{base}/{user_id}",
        "feeds": f"{rest}chatter/feeds",
        "groups": f"{rest}chatter/groups",
        "users": f"{rest}chatter/users",
        "feed_items": f"{rest}chatter/feed-items",
        "feed_elements": f"{rest}chatter/feed-elements",
        "custom_domain": base,
    }


def user_facts(org: DemoOrg) -> dict[str, str]:
    """The demo user's profile, with fallbacks when the store did not fill it."""
    facts = dict(org.user_profile)
    username = facts.get("username") or org.username
    first, last = facts.get("first_name", "Demo"), facts.get("last_name", "Manager")
    facts.setdefault("display_name", f"{first} {last}")
    facts.update(username=username, first_name=first, last_name=last,
                 email=facts.get("email") or username,
                 timezone=facts.get("timezone") or "America/Los_Angeles")
    return facts


def identity_body(org: DemoOrg, user_id: str, version: str = "{version}") -> dict[str, Any]:
    facts = user_facts(org)
    photo = f"{org.base_url}/profilephoto/005/"
    return {
        "id": org.identity_url(user_id), "asserted_user": True,
        "user_id": user_id, "organization_id": org.org_id,
        "username": facts["username"], "nick_name": facts["username"].split("@")[0],
        "display_name": facts["display_name"], "email": facts["email"], "email_verified": True,
        "first_name": facts["first_name"], "last_name": facts["last_name"],
        "timezone": facts["timezone"],
        "photos": {"picture": photo + "F", "thumbnail": photo + "T"},
        "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": None,
        "addr_zip": None, "mobile_phone": None, "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": identity_urls(org, user_id, version),
        "active": True, "user_type": "STANDARD", "language": "en_US", "locale": "en_US",
        "utcOffset": utc_offset_ms(facts["timezone"]),
        "last_modified_date": LAST_MODIFIED, "is_app_installed": True,
    }


def userinfo_body(org: DemoOrg, user_id: str) -> dict[str, Any]:
    ident = identity_body(org, user_id)
    return {
        "sub": ident["id"], "user_id": user_id, "organization_id": org.org_id,
        "preferred_username": ident["username"], "nickname": ident["nick_name"],
        "name": ident["display_name"], "email": ident["email"], "email_verified": True,
        "given_name": ident["first_name"], "family_name": ident["last_name"],
        "zoneinfo": ident["timezone"], "photos": ident["photos"],
        "profile": ident["urls"]["profile"], "picture": ident["photos"]["picture"],
        "address": {}, "is_salesforce_integration_user": False, "urls": ident["urls"],
        "active": True, "user_type": "STANDARD", "language": "en_US", "locale": "en_US",
        "utcOffset": ident["utcOffset"], "updated_at": "2026-01-05T17:42:10Z",
    }


class _IdentityEndpoints:
    def __init__(self, org: DemoOrg) -> None:
        self.org = org

    def _session(self, request: web.Request) -> AccessSession:
        token = bearer_token(request, "oauth_token", "access_token")
        if token is None:
            raise _Refused(403, "Missing_OAuth_Token")
        session = self.org.tokens.check_access(token)
        if session is None:
            raise _Refused(403, "Bad_OAuth_Token")
        if not IDENTITY_SCOPES & set(session.scope.split()):
            raise _Refused(403, "Invalid_Scope")
        return session

    async def identity(self, request: web.Request) -> web.Response:
        try:
            session = self._session(request)
            org_id, user_id = request.match_info["org_id"], request.match_info["user_id"]
            if org_id[:15] != self.org.org_id[:15] or user_id[:15] != session.user_id[:15]:
                raise _Refused(404, "Bad_Id")
            version = request.query.get("version", "{version}")
            if version == "latest":
                version = self.org.latest_version
            elif version != "{version}" and version not in API_VERSIONS:
                raise _Refused(400, "Bad_Version")
        except _Refused as refused:
            return refused.response()
        return web.json_response(identity_body(self.org, session.user_id, version),
                                 headers=NO_STORE)

    async def userinfo(self, request: web.Request) -> web.Response:
        try:
            session = self._session(request)
        except _Refused as refused:
            return refused.response()
        return web.json_response(userinfo_body(self.org, session.user_id), headers=NO_STORE)

    async def discovery(self, request: web.Request) -> web.Response:
        base = self.org.base_url
        return web.json_response({
            "issuer": base,
            "authorization_endpoint": f"{base}/services/oauth2/authorize",
            "token_endpoint": f"{base}/services/oauth2/token",
            "revocation_endpoint": f"{base}/services/oauth2/revoke",
            "userinfo_endpoint": f"{base}/services/oauth2/userinfo",
            "scopes_supported": list(SCOPE_LABELS),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "grant_types_supported": ["authorization_code", "refresh_token", "password",
                                      "device"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic", "none"],
            "display_values_supported": ["page", "popup", "touch"],
            "claims_supported": ["active", "address", "email", "email_verified", "family_name",
                                 "given_name", "is_app_installed", "language", "locale", "name",
                                 "nickname", "organization_id", "phone_number", "photos",
                                 "picture", "preferred_username", "profile", "sub",
                                 "updated_at", "urls", "user_id", "user_type", "zoneinfo"],
        })


def add_identity_routes(app: web.Application, org: DemoOrg) -> None:
    endpoints = _IdentityEndpoints(org)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/services/oauth2/userinfo", endpoints.userinfo)
        app.router.add_route(method, "/id/{org_id}/{user_id}", endpoints.identity)
    app.router.add_get("/.well-known/openid-configuration", endpoints.discovery)
