"""The device flow's human side: the verification page at /setup/connect, where the user types
the code the app shows, logs in and allows or denies; and ``POST /demo/device``, a demo-only
admin endpoint (not Salesforce's) that answers for the user, for tests and automation::

    POST /demo/device  {"user_code": "AB12CD34", "decision": "allow"}   → 200 {"status": ...}

The polling itself is on the token endpoint (oauth.py, ``grant_type=device``).
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from aiohttp import web

from smvue_demo_org import oauth_pages
from smvue_demo_org.oauth_http import NO_STORE, read_params
from smvue_demo_org.tokens import OAuthError

if TYPE_CHECKING:
    from smvue_demo_org.org import DemoOrg

BAD_CODE = "That code is invalid or expired. Check the code on your device and try again."


def authenticate(org: DemoOrg, username: str, password: str) -> str | None:
    """The user id for the demo user's credentials (username is case-insensitive), else None."""
    user_ok = hmac.compare_digest(username.strip().lower().encode(), org.username.lower().encode())
    password_ok = hmac.compare_digest(password.encode(), org.password.encode())
    return org.user_id if user_ok and password_ok else None


def login_hint(org: DemoOrg) -> str:
    """The demo org prints its user's credentials anyway; the page shows them too."""
    return f"Demo org: log in as {org.username} with password {org.password}."


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html", headers=NO_STORE)


class _DeviceEndpoints:
    def __init__(self, org: DemoOrg) -> None:
        self.org = org

    def _page(self, user_code: str = "", username: str = "", error: str = "") -> web.Response:
        return _html(oauth_pages.device_page(user_code=user_code, username=username,
                                             hint=login_hint(self.org), error=error))

    async def page(self, request: web.Request) -> web.Response:
        return self._page(request.query.get("user_code", ""))

    async def submit(self, request: web.Request) -> web.Response:
        try:
            params = await read_params(request)
        except OAuthError:
            return self._page(error="The form could not be read. Try again.")
        user_code, username = params.get("user_code", ""), params.get("username", "")
        decision = params.get("decision", "allow")
        if decision not in ("allow", "deny"):
            return self._page(user_code, username, "Choose Allow or Deny.")
        allow = decision == "allow"
        user_id = authenticate(self.org, username, params.get("password", ""))
        if allow and user_id is None:  # denying needs no login, as on the consent page
            return self._page(user_code, username, oauth_pages.LOGIN_ERROR)
        if not self.org.tokens.decide_device(user_code, user_id or "", allow):
            return self._page(user_code, username, BAD_CODE)
        if allow:
            return _html(oauth_pages.message_page(
                "Connected", "You can close this page and go back to your device."))
        return _html(oauth_pages.message_page(
            "Access Denied", "The device was not connected. You can close this page."))

    async def demo_decide(self, request: web.Request) -> web.Response:
        """Demo-only: allow or deny a user code as the demo user, without the page."""
        try:
            body = json.loads(await request.text())
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or body.get("decision") not in ("allow", "deny") \
                or not isinstance(body.get("user_code"), str):
            return web.json_response(
                {"error": "invalid_request",
                 "error_description": 'send {"user_code": "...", "decision": "allow"|"deny"}'},
                status=400)
        allow = body["decision"] == "allow"
        if not self.org.tokens.decide_device(body["user_code"], self.org.user_id, allow):
            return web.json_response(
                {"error": "invalid_user_code", "error_description": BAD_CODE}, status=404)
        return web.json_response({"user_code": body["user_code"],
                                  "status": "approved" if allow else "denied"})


def add_device_routes(app: web.Application, org: DemoOrg) -> None:
    endpoints = _DeviceEndpoints(org)
    app.router.add_get("/setup/connect", endpoints.page)
    app.router.add_post("/setup/connect", endpoints.submit)
    app.router.add_post("/demo/device", endpoints.demo_decide)
