"""Deploying and removing the one piece of automation SMVue writes to Salesforce.

On connect, when a public webhook URL is configured: an Outbound Message plus its trigger (a
record-triggered Flow, what a 2026 org accepts; the product page's Workflow Rule where the org
refuses the flow)
for each object whose changes we want pushed. Every deployed component is recorded in the store;
on disconnect removal is best effort, and whatever could not be removed stays recorded as a
leftover with the Setup path to remove it by hand, and is retried on the next connect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from smvue_tui.config import Paths
from smvue_tui.salesforce.metadata import (
    DeployedComponent,
    DeployReport,
    RemovalReport,
    deploy_automation,
    remove_automation,
)
from smvue_tui.store import models as m

# The product page: opportunities first; account/contact/activity changes too.
LIVE_FIELDS: dict[str, list[str]] = {
    "Opportunity": ["Id", "SystemModstamp", "StageName", "Amount", "CloseDate", "IsClosed",
                    "IsWon", "OwnerId"],
    "Account": ["Id", "SystemModstamp", "Name", "OwnerId"],
    "Contact": ["Id", "SystemModstamp", "AccountId"],
}


@dataclass(frozen=True)
class WebhookSettings:
    public_url: str | None  # the https URL Salesforce calls (the user's TLS proxy or tunnel)
    host: str = "127.0.0.1"
    port: int = 8765
    path_token: str = ""
    integration_user: str | None = None  # [webhook] integration_user; else the connected user

    @property
    def endpoint_url(self) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url.rstrip('/')}/sf/outbound/{self.path_token}"


def path_token(paths: Paths) -> str:
    """The unguessable path segment, made once and kept (0600) so deployed URLs stay valid."""
    from smvue_tui.services.path_token import stored_path_token

    return stored_path_token(paths.config_dir / "webhook-token")


RESYNC_ONLY = "updates come from the scheduled resync (no public webhook URL configured)"


def notifications_state(org_id: str, public_url: str | None) -> str:
    """How updates reach the store, from what is deployed (one answer for every screen)."""
    deployed = (m.DeployedAutomation.select()
                .where(m.DeployedAutomation.org_id == org_id,
                       m.DeployedAutomation.removed_at.is_null(),
                       m.DeployedAutomation.leftover_reason.is_null()).exists())
    if org_id and deployed:
        return "on — Salesforce sends an Outbound Message when records change"
    if public_url:
        return "public webhook URL set; the automation is not deployed yet"
    return RESYNC_ONLY


def webhook_config(config: dict[str, Any]) -> tuple[str | None, str | None]:
    """``[webhook]``'s public_url and integration_user, checked; ValueError in words."""
    section = config.get("webhook", {}) if isinstance(config, dict) else {}
    if not isinstance(section, dict):
        raise ValueError("[webhook] must be a table (public_url, host, port)")
    public = section.get("public_url") or None
    if public and (not isinstance(public, str) or not public.startswith("https://")
                   or not urlsplit(public).hostname or " " in public):
        raise ValueError(f"[webhook] public_url = {public!r} is not an https:// URL "
                         "Salesforce can reach")
    user = section.get("integration_user") or None
    if user is not None and (not isinstance(user, str) or "@" not in user):
        raise ValueError("[webhook] integration_user must be a Salesforce username "
                         "(it looks like an email address)")
    return public, user


def webhook_settings(paths: Paths, config: dict[str, Any]) -> WebhookSettings:
    """``[webhook]`` from config.toml: public_url, host, port, integration_user."""
    public, user = webhook_config(config)
    section = config.get("webhook", {}) if isinstance(config, dict) else {}
    port = section.get("port", 8765)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"[webhook] port = {port!r} is not a port number (1-65535)")
    return WebhookSettings(public, str(section.get("host", "127.0.0.1")), port,
                           path_token(paths), user)


def _refresher(client: Any) -> Any:
    async def refresh() -> str:
        await client.session.refresh(client.session.access_token)
        return client.session.access_token

    return refresh


def record_deployed(org_id: str, report: DeployReport) -> None:
    for component in report.deployed:
        m.DeployedAutomation.insert(
            org_id=org_id, type=component.type, full_name=component.full_name,
            component=json.dumps(component.to_dict()), removed_at=None, leftover_reason=None,
        ).on_conflict(conflict_target=[m.DeployedAutomation.org_id, m.DeployedAutomation.type,
                                       m.DeployedAutomation.full_name],
                      update={m.DeployedAutomation.removed_at: None,
                              m.DeployedAutomation.leftover_reason: None,
                              m.DeployedAutomation.component: json.dumps(component.to_dict())},
                      ).execute()


def outstanding(org_id: str) -> list[DeployedComponent]:
    """Deployed and not (yet) removed: what a disconnect must remove."""
    rows = m.DeployedAutomation.select().where((m.DeployedAutomation.org_id == org_id)
                                               & m.DeployedAutomation.removed_at.is_null())
    return [DeployedComponent.from_dict(json.loads(r.component)) for r in rows]


def record_removal(org_id: str, report: RemovalReport) -> None:
    now = datetime.now(UTC).isoformat()
    for component in report.removed:
        m.DeployedAutomation.update(removed_at=now, leftover_reason=None).where(
            (m.DeployedAutomation.org_id == org_id)
            & (m.DeployedAutomation.full_name == component.full_name)
            & (m.DeployedAutomation.type == component.type)).execute()
    for leftover in report.leftovers:
        m.DeployedAutomation.update(leftover_reason=leftover.reason,
                                    setup_path=leftover.setup_path).where(
            (m.DeployedAutomation.org_id == org_id)
            & (m.DeployedAutomation.full_name == leftover.component.full_name)
            & (m.DeployedAutomation.type == leftover.component.type)).execute()


def integration_user_for(org_id: str, configured: str | None = None) -> str | None:
    """Who the outbound messages are sent as: the admin's ``[webhook] integration_user``, else
    the user who connected ``org_id`` (None when neither is known)."""
    if configured:
        return configured
    row = m.Connection.get_or_none(m.Connection.org_id == org_id)
    return (row.username or None) if row is not None else None


async def deploy(client: Any, org_id: str, endpoint_url: str, *,
                 integration_user: str | None) -> DeployReport:
    """Deploy (idempotently) and record; leftovers of an earlier disconnect are cleaned first.
    ``integration_user`` None means the connected user; with no user known every object fails
    with a reason in words (the outbound message cannot be built without one)."""
    integration_user = integration_user_for(org_id, integration_user) or ""
    earlier = outstanding(org_id)
    if earlier:
        await remove(client, org_id, earlier)
    report = await deploy_automation(
        client.post_metadata_soap, list(LIVE_FIELDS), endpoint_url, LIVE_FIELDS,
        session_id=client.session.access_token, refresh=_refresher(client),
        integration_user=integration_user, api_version=client.api_version)
    record_deployed(org_id, report)
    return report


async def remove(client: Any, org_id: str,
                 components: list[DeployedComponent] | None = None) -> RemovalReport:
    """Best-effort removal; what stays is recorded as a leftover with its Setup path."""
    items = outstanding(org_id) if components is None else components
    report = await remove_automation(client.post_metadata_soap, items,
                                     session_id=client.session.access_token,
                                     refresh=_refresher(client),
                                     api_version=client.api_version)
    record_removal(org_id, report)
    if report.fault is not None:
        for component in items:
            if component not in report.removed:
                m.DeployedAutomation.update(
                    leftover_reason=report.fault.describe()).where(
                    (m.DeployedAutomation.org_id == org_id)
                    & (m.DeployedAutomation.full_name == component.full_name)).execute()
    return report


def leftovers(org_id: str | None = None) -> list[m.DeployedAutomation]:
    query = m.DeployedAutomation.select().where(m.DeployedAutomation.removed_at.is_null()
                                                & m.DeployedAutomation.leftover_reason
                                                .is_null(False))
    if org_id:
        query = query.where(m.DeployedAutomation.org_id == org_id)
    return list(query)

