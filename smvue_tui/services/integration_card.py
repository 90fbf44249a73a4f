"""What the Salesforce card in Settings > Integrations shows, read from the store (no Textual).

``load_card(paths)`` runs in a thread worker; the screen only formats the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smvue_tui.config import ConfigError, Paths, config_or_defaults, config_table
from smvue_tui.services.automation import RESYNC_ONLY, notifications_state
from smvue_tui.services.connection import has_stored_login, load_org_info
from smvue_tui.store import models as m
from smvue_tui.store.org_stores import OrgLabel
from smvue_tui.sync.live_state import describe_live, load_live_state
from smvue_tui.sync.status import load_usage, short_time, usage_line

__all__ = ["RESYNC_ONLY", "Card", "load_card", "short_time"]

ON_DEMAND = "on demand — press y (Sync Now)"
ENV_NAMES = {"production": "Production", "sandbox": "Sandbox", "my-domain": "My Domain",
             "demo": "Demo org"}


@dataclass
class AutomationRow:
    type: str
    full_name: str
    state: str  # deployed | removed | left behind
    setup_path: str = ""
    reason: str = ""


@dataclass
class Card:
    connected: bool = False
    login_missing: bool = False  # connected, but the stored login is gone (smvue-tui logout)
    ever_connected: bool = False
    environment: str = ""
    login_host: str = ""
    org_name: str = ""
    org_id: str = ""
    is_sandbox: bool = False
    edition: str = ""
    user: str = ""
    connected_at: str = ""
    disconnected_at: str = ""
    last_sync: str = "never"
    last_sync_problem: str = ""
    next_sync: str = ON_DEMAND
    notifications: str = RESYNC_ONLY
    automation: list[AutomationRow] = field(default_factory=list)
    api_usage: str = "no reading yet (appears after the first sync)"
    records: int = 0


def open_org(paths: Paths) -> OrgLabel | None:
    """The org whose store is open: its synced Organization row, else its Connection row and
    what preflight said (name, sandbox); None before any login."""
    org = m.Organization.select().first()
    if org is not None:
        return OrgLabel(org.id, org.name or "", org.is_sandbox)
    row = m.Connection.select().order_by(m.Connection.connected_at.desc()).first()
    org_id = row.org_id if row is not None else paths.org_id
    if not org_id:
        return None
    info = load_org_info(paths)
    mine = info.get("org_id") == org_id
    sandbox = info.get("is_sandbox") if mine else None
    if sandbox is None and row is not None and row.environment in ("production", "sandbox"):
        sandbox = bool(row.is_sandbox)
    return OrgLabel(org_id, str(info.get("org_name") or "") if mine else "",
                    None if sandbox is None else bool(sandbox))


def org_heading(org: OrgLabel) -> str:
    """The header's line: ``Acme Corp · 00D… · SANDBOX`` (or Production)."""
    where = org.environment.upper() if org.is_sandbox else org.environment
    return " · ".join(x for x in (org.name, org.org_id, where) if x)


def load_card(paths: Paths) -> Card:
    card = Card()
    row = (m.Connection.select()
           .order_by(m.Connection.disconnected_at.is_null(False), m.Connection.connected_at.desc())
           .first())
    if row is not None:
        info = load_org_info(paths)
        card.ever_connected = True
        card.connected = row.disconnected_at is None
        card.login_missing = card.connected and not has_stored_login(paths)
        card.environment = ENV_NAMES.get(row.environment, row.environment)
        card.login_host = row.login_url.split("://", 1)[-1]
        card.org_id = row.org_id
        card.edition = str(info.get("edition") or "") if info.get("org_id") == row.org_id else ""
        org = open_org(paths)
        card.org_name = org.name if org else ""
        card.is_sandbox = bool(org.is_sandbox) if org and org.is_sandbox is not None \
            else bool(row.is_sandbox)
        card.user = row.username or row.user_id or ""
        card.connected_at = short_time(row.connected_at)
        card.disconnected_at = short_time(row.disconnected_at) if row.disconnected_at else ""
    _last_sync(card)
    card.records = m.Opportunity.select().count()
    card.automation = _automation(card.org_id)
    card.notifications = notifications_state(card.org_id, public_webhook_url(paths))
    live = load_live_state(paths)
    # CDC or polling: the mode the app chose, why, and what it spent (Outbound Messages: the
    # deployed automation says it, as on the Connect screen).
    if card.connected and live is not None and live["mode"] != "Outbound Messages":
        card.notifications = describe_live(live)
    usage = load_usage(paths)
    if usage:
        card.api_usage = usage_line(usage)
    return card


def _last_sync(card: Card) -> None:
    run = (m.SyncRun.select().where(m.SyncRun.finished_at.is_null(False))
           .order_by(m.SyncRun.id.desc()).first())
    if run is None:
        return
    counts = _json(run.counts, {})
    stored = counts.get("new", {}) if isinstance(counts, dict) else {}
    total = sum(n for n in stored.values() if isinstance(n, int))
    card.last_sync = (f"{short_time(run.finished_at)} — {run.kind} sync {run.status}, "
                      f"{total:,} records stored, {run.api_calls} API calls")
    if run.status == "paused" and run.resumes_at:
        card.next_sync = f"paused: API limit — resumes at {short_time(run.resumes_at)}"
    errors = _json(run.errors, [])
    if run.status != "ok" and errors:
        last = errors[-1]
        card.last_sync_problem = f"{last.get('message', '')} — {last.get('remedy', '')}"


def _automation(org_id: str) -> list[AutomationRow]:
    rows = []
    for a in m.DeployedAutomation.select().where(m.DeployedAutomation.org_id == org_id):
        state = "left behind" if a.leftover_reason else "removed" if a.removed_at else "deployed"
        rows.append(AutomationRow(a.type, a.full_name, state, a.setup_path or "",
                                  a.leftover_reason or ""))
    return rows


def public_webhook_url(paths: Paths) -> str:
    """``[webhook] public_url`` in config.toml, if the user set one ("" when the file or the
    section cannot be used: the app said why when it started)."""
    config, _problem = config_or_defaults(paths.config_file)
    try:
        value = config_table(config, "webhook", paths.config_file).get("public_url", "")
    except ConfigError:
        return ""
    return value if isinstance(value, str) else ""


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return default
