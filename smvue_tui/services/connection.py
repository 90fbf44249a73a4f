"""Connecting and disconnecting an org, without Textual: the steps the Connect screen and the
Integrations card drive.

- ``choices(demo_targets)``: the environments offered (Production, Sandbox, My Domain; or the
  demo Production and Sandbox orgs of ``smvue-tui --demo``).
- ``prepare_login(choice, typed_host, paths)``: the ``LoginFlow`` for a choice (not started).
- ``approve_demo_consent(flow, org)``: approve the demo org's consent page "with one key" by
  posting its form the way a browser would, then finish the login with the redirected URL.
- ``save_login(paths, creds)``: keep the tokens (0600) and record the Connection row.
- ``client_factory_for(paths)``: builds a logged-in client from the stored session.
- ``disconnect(paths)``: revoke + forget the tokens, mark the Connection disconnected; every
  synced record, note and action item stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from smvue_tui.config import Paths, ensure_dir
from smvue_tui.salesforce.auth import LoginFlow, LogoutResult, logout
from smvue_tui.salesforce.consumer import consumer_for, load_settings
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.environments import Environment, resolve_environment
from smvue_tui.salesforce.errors import AuthorizationError, SalesforceError
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.store import models as m
from smvue_tui.store.models import utcnow

API_VERSION = "67.0"
ORG_INFO_FILE = "org-info.json"
_REQUEST_TOKEN = re.compile(r'name="request_token"\s+value="([^"]*)"')

# The product page's "What SMVue Accesses": (object, required, what is read).
PERMISSIONS: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    ("Opportunities", True, ("Read Opportunity records", "View Opportunity fields and history",
                             "Access Opportunity stages and pipeline")),
    ("Accounts", True, ("Read Account records", "View Account fields",
                        "See Account-Opportunity relationships")),
    ("Contacts", True, ("Read Contact records", "View Contact roles on Opportunities",
                        "Access Contact information")),
    ("Activities", False, ("Read Events (meetings)", "Read Tasks",
                           "View activity history on Opportunities")),
    ("Users", True, ("Read User list (to map Opportunity owners)",
                     "View user basic info (name, email)")),
)
READ_ONLY_NOTE = ("SMVue reads your Salesforce records read-only and never modifies your "
                  "Opportunities, Accounts, Contacts, or Activities.")
AUTOMATION_TITLE = "Webhook Metadata — the one write SMVue performs"
AUTOMATION_LINES = (
    # The product page says Workflow Rule; orgs take no new ones since Winter '23 (issue 12).
    "A record-triggered Flow (a Workflow Rule in older orgs) plus an Outbound Message that "
    "notifies SMVue when records change (metadata only — no Apex code)",
    "This is configuration, not your business data",
    "On disconnect SMVue attempts to remove it (best-effort); you or an admin can also "
    "remove it in Salesforce Setup",
)
REQUIREMENTS = (
    "You need System Administrator or API Enabled permissions",
    "Your Salesforce edition must support API access (Professional, Enterprise, or Unlimited)",
)


@dataclass(frozen=True)
class Choice:
    """One environment the Connect screen offers."""

    key: str  # production | sandbox | my-domain | demo-production | demo-sandbox
    title: str  # "Production"
    hint: str  # "Most common (login.salesforce.com)"
    login: str = ""  # what resolve_environment takes; "" = typed by the user (My Domain)
    demo: Any = None  # services.DemoTarget for the demo orgs

    @property
    def needs_host(self) -> bool:
        return not self.login


def choices(demo_targets: list[Any]) -> list[Choice]:
    """The demo orgs when running ``--demo``, else Production, Sandbox and My Domain."""
    if demo_targets:
        hints = {"Production": "Most common", "Sandbox": "For testing"}
        return [Choice(f"demo-{t.label.lower()}", t.label,
                       f"{hints.get(t.label, 'Demo')} — demo org ({urlsplit(t.base_url).netloc})",
                       t.base_url, t) for t in demo_targets]
    return [
        Choice("production", "Production", "Most common (login.salesforce.com)", "production"),
        Choice("sandbox", "Sandbox", "For testing (test.salesforce.com)", "sandbox"),
        Choice("my-domain", "My Domain", "Your company's login host, e.g. acme.my.salesforce.com"),
    ]


REACH_TIMEOUT = 5.0
"""Seconds a typed login host has to accept a connection before the login gives up on it."""


def login_environment(value: str) -> Environment:
    """``resolve_environment``, refusing what is surely a typo: a bare word such as ``staging``
    is no host Salesforce logs in on (it would become ``https://staging/…``)."""
    environment = resolve_environment(value)
    host = urlsplit(environment.login_url).hostname or ""
    if environment.name == "my-domain" and "." not in host:
        raise ValueError(f"{value.strip()!r} is not a Salesforce environment: use production, "
                         "sandbox, or your My Domain URL such as "
                         "https://yourcompany.my.salesforce.com")
    return environment


async def check_reachable(environment: Environment, timeout: float = REACH_TIMEOUT) -> None:
    """A login host the user typed must answer within ``timeout`` seconds (ValueError says
    so), rather than a login waiting for a browser that can never load the page."""
    parts = urlsplit(environment.login_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port), timeout)
    except (OSError, TimeoutError) as exc:
        if isinstance(exc, TimeoutError):
            why = f"no answer within {timeout:g} s"
        else:
            why = (os.strerror(exc.errno) if exc.errno else type(exc).__name__).lower()
        raise ValueError(f"cannot reach {environment.login_url} ({why}): check the URL and "
                         "your network") from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def prepare_login(choice: Choice, typed_host: str, paths: Paths) -> LoginFlow:
    """The (not yet started) login for ``choice``. ValueError for a bad host;
    ConsumerNotConfigured when a real org has no consumer key configured."""
    environment = login_environment(choice.login or typed_host)
    if environment.is_demo:  # the demo app accepts any loopback port: never collide
        return LoginFlow(environment, consumer_for(environment), port=0)
    settings = load_settings(paths.config_file)
    return LoginFlow(environment, consumer_for(environment, settings),
                     port=settings.redirect_port)


async def approve_demo_consent(flow: LoginFlow, org: Any, *,
                               transport: httpx.AsyncBaseTransport | None = None) -> Credentials:
    """Approve the demo org's login + consent page as its demo user, like a browser would, and
    finish the login with the URL the org redirected to (state checked as for a paste)."""
    location = await demo_consent_redirect(flow.authorization_url,
                                           flow.environment.authorize_url, org,
                                           transport=transport)
    return await flow.complete_with_pasted(location)


async def demo_consent_redirect(authorization_url: str, form_url: str, org: Any, *,
                                transport: httpx.AsyncBaseTransport | None = None) -> str:
    """GET the authorize URL, post the consent form (allow) as the demo user; the URL the org
    redirects the browser to (code and state)."""
    async with httpx.AsyncClient(timeout=30, follow_redirects=False,
                                 transport=transport) as http:
        try:
            page = await http.get(authorization_url)
            location = page.headers.get("location")
            if location is None:  # the login + consent page: post its form
                found = _REQUEST_TOKEN.search(page.text)
                if found is None:
                    raise AuthorizationError("the demo org showed no consent form",
                                             code="demo_consent")
                answer = await http.post(form_url, data={
                    "request_token": html.unescape(found.group(1)), "username": org.username,
                    "password": org.password, "decision": "allow"})
                location = answer.headers.get("location")
        except httpx.HTTPError as exc:
            raise AuthorizationError(f"the demo org did not answer: {exc}",
                                     code="demo_unreachable") from None
    if not location:
        raise AuthorizationError("the demo org did not accept the approval", code="demo_consent")
    return location


def save_login(paths: Paths, creds: Credentials, *, is_sandbox: bool | None = None) -> None:
    """Keep the tokens (0600) and make ``creds``' org the one connected org."""
    TokenStore(paths.token_file).save(creds)
    record_connection(creds, is_sandbox=is_sandbox)


def record_connection(creds: Credentials, *, is_sandbox: bool | None = None) -> m.Connection:
    """Create or reactivate the org's Connection row; any other org is marked disconnected."""
    env = creds.environment
    now = utcnow().isoformat()
    sandbox = env.is_sandbox if is_sandbox is None else is_sandbox
    with m.Connection._meta.database.atomic():
        (m.Connection.update(disconnected_at=now)
         .where(m.Connection.org_id != creds.org_id, m.Connection.disconnected_at.is_null())
         .execute())
        values = {"environment": env.name, "login_url": env.login_url,
                  "instance_url": creds.instance_url, "username": creds.username or None,
                  "user_id": creds.user_id or None, "is_sandbox": sandbox}
        row = m.Connection.get_or_none(m.Connection.org_id == creds.org_id)
        if row is None:
            return m.Connection.create(org_id=creds.org_id, **values)
        if row.disconnected_at is not None:
            values.update(connected_at=now, disconnected_at=None)
        m.Connection.update(**values).where(m.Connection.org_id == creds.org_id).execute()
        return m.Connection.get(m.Connection.org_id == creds.org_id)


def mark_sandbox(org_id: str, is_sandbox: bool) -> None:
    """What preflight read from the Organization (the demo Sandbox has no sandbox host)."""
    m.Connection.update(is_sandbox=is_sandbox).where(m.Connection.org_id == org_id).execute()


def save_org_info(paths: Paths, org_id: str, report: Any) -> None:
    """Org name and edition from preflight, for the Integrations card (no column for them);
    kept in the org's store folder."""
    data = {"org_id": org_id, "org_name": report.org_name, "edition": report.edition,
            "is_sandbox": report.is_sandbox}
    ensure_dir(paths.store_dir)
    (paths.store_dir / ORG_INFO_FILE).write_text(json.dumps(data) + "\n")


def load_org_info(paths: Paths) -> dict[str, Any]:
    try:
        data = json.loads((paths.store_dir / ORG_INFO_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def client_factory_for(paths: Paths) -> Callable[[], Any]:
    """Builds a logged-in SalesforceClient from the stored tokens at each call (a refresh saved
    by one client is what the next one starts from)."""

    def build() -> Any:
        from smvue_tui.salesforce.client import SalesforceClient
        from smvue_tui.salesforce.session import Session

        session = Session.from_store(TokenStore(paths.token_file))
        return SalesforceClient(session, api_version=API_VERSION)

    return build


def client_from_credentials(paths: Paths, creds: Credentials) -> Any:
    """A client on a fresh login (refreshes are saved to the token store)."""
    from smvue_tui.salesforce.client import SalesforceClient
    from smvue_tui.salesforce.session import Session

    return SalesforceClient(Session(creds, store=TokenStore(paths.token_file)),
                            api_version=API_VERSION)


def adopt_stored_login(paths: Paths) -> m.Connection | None:
    """The Connection row of the org in the token store, created or reactivated as needed
    (``smvue-tui login`` writes only the token file). None without a usable login."""
    try:
        creds = TokenStore(paths.token_file).load()
    except SalesforceError:
        return None
    if creds is None or not creds.org_id:
        return None
    row = m.Connection.get_or_none(m.Connection.org_id == creds.org_id)
    if row is not None and row.disconnected_at is None \
            and (row.username or "") == (creds.username or ""):
        return row
    return record_connection(creds, is_sandbox=row.is_sandbox if row is not None else None)


def has_stored_login(paths: Paths) -> bool:
    return paths.token_file.exists()


async def deploy_notifications(paths: Paths, webhook: Any, creds: Credentials) -> str:
    """Deploy the change-notification automation when a public webhook URL is configured
    (best effort); one line saying how updates will arrive. Not when the app chose Change Data
    Capture or polling (``live_choice.py``): Outbound Messages would go unheard."""
    from smvue_tui.sync.live_state import describe_live, load_live_state

    live = load_live_state(paths)
    if live is not None and live["mode"] != "Outbound Messages":
        return f"• Live updates: {describe_live(live)}"
    from smvue_tui.services import automation as cn

    if webhook is None or not webhook.endpoint_url:
        # What is deployed decides (a demo org's loopback automation counts), as on the card.
        state = await asyncio.to_thread(cn.notifications_state, creds.org_id, None)
        return f"• Change notifications: {state}"

    client = client_factory_for(paths)()
    try:
        deployed = await cn.deploy(client, creds.org_id, webhook.endpoint_url,
                                   integration_user=webhook.integration_user
                                   or creds.username or None)
    except SalesforceError as exc:
        return f"• Change notifications: not set up ({exc.user_message})"
    finally:
        await client.aclose()
    if deployed.ok:
        return "• Change notifications: Outbound Message automation deployed"
    return ("• Change notifications: the automation could not be deployed; updates come from "
            "the scheduled resync")


@dataclass(frozen=True)
class DisconnectResult:
    logout: LogoutResult
    removed: int = 0  # automation components removed from Salesforce
    left_behind: tuple[str, ...] = ()  # "what — where in Setup to remove it by hand"


async def disconnect(paths: Paths, *,
                     transport: httpx.AsyncBaseTransport | None = None) -> DisconnectResult:
    """Remove the automation SMVue deployed (best effort, while the login still works), revoke
    and forget the login, then mark the connection; every synced record and note stays."""
    removed, left = await _remove_automation(paths)
    result = await logout(TokenStore(paths.token_file), transport=transport)
    await asyncio.to_thread(mark_disconnected)
    return DisconnectResult(result, removed, left)


async def _remove_automation(paths: Paths) -> tuple[int, tuple[str, ...]]:
    from smvue_tui.services import automation as cn

    def pending() -> tuple[str, list[Any]]:
        row = m.Connection.get_or_none(m.Connection.disconnected_at.is_null())
        return (row.org_id, cn.outstanding(row.org_id)) if row else ("", [])

    org_id, items = await asyncio.to_thread(pending)
    if not items:
        return 0, ()
    try:
        client = client_factory_for(paths)()
    except SalesforceError:  # no usable login: it stays recorded as deployed
        return 0, tuple(f"{c.type} {c.full_name}" for c in items)
    try:
        report = await cn.remove(client, org_id, items)
    except SalesforceError as exc:
        return 0, (f"the automation ({exc.user_message})",)
    finally:
        await client.aclose()
    left = [f"{x.component.type} {x.component.full_name} — {x.setup_path}"
            for x in report.leftovers]
    if report.fault is not None:
        left += [f"{c.type} {c.full_name}" for c in items
                 if c not in report.removed and not any(x.component == c
                                                        for x in report.leftovers)]
    return len(report.removed), tuple(left)


def mark_disconnected() -> None:
    now = utcnow().isoformat()
    m.Connection.update(disconnected_at=now).where(m.Connection.disconnected_at.is_null()) \
        .execute()
