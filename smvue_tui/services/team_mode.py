"""Team mode: a TUI on a team store (PostgreSQL) that another process keeps fresh.

When a PostgreSQL store is set (``SMVUE_STORE_URL`` or ``[store] url``) the TUI only reads:
``smvue-tui serve`` is the org's one writer (``team_writer.py``). This module decides, without
Textual, what the TUI needs for that:

- ``team_settings(paths, config)``: the store URL, which org (the login's, else ``[team] org``,
  else the only org the store holds) and which manager this is (the logged-in Salesforce user,
  else ``[team] manager``) — or None when no team store is set (the SQLite store, as ever);
- ``writer_status(org_id)`` and ``describe_writer``: who writes, whether it still holds the
  writer lock, when it last synced — the header's words, plain about a writer gone or silent.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smvue_tui.config import Paths
from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.services.team_writer import HEARTBEAT_SECONDS, lock_key
from smvue_tui.store import models as m
from smvue_tui.store.backend import StoreUrlError, schema_for, store_url

SILENT_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 3)  # a writer that stopped answering


class TeamModeError(Exception):
    """Team mode cannot start as set up; the message says why and what to do."""


@dataclass(frozen=True)
class TeamSettings:
    url: str
    org_id: str
    manager: str  # the manager key: a Salesforce username or an email
    manager_source: str  # "login" | "config"

    @property
    def schema(self) -> str:
        return schema_for(self.org_id)


def team_settings(paths: Paths) -> TeamSettings | None:
    """Team mode's settings, None without a team store; TeamModeError in words when the
    store setting, the org or the manager cannot be told."""
    try:
        url = store_url(paths)
    except StoreUrlError as exc:
        raise TeamModeError(str(exc)) from None
    if not url:
        return None
    team = _team_section(paths)
    login = _stored_login(paths)
    manager, source = (login.username, "login") if login and login.username else \
        (str(team.get("manager") or "").strip(), "config")
    if not manager:
        raise TeamModeError(
            f"the store is a team store, shared by several managers, and this machine does not "
            f"say which manager you are: set manager = \"you@yourcompany.com\" under [team] in "
            f"{paths.config_file}, or run `smvue-tui login` (see docs/team-store.md)")
    org_id = login.org_id if login and login.org_id else _org_from_config(paths, team)
    return TeamSettings(url, org_id or _only_org(url), manager, source)


def _team_section(paths: Paths) -> dict[str, Any]:
    """config.toml's [team] ({} without one; an unreadable file is said by config_problem)."""
    try:
        with open(paths.config_file, "rb") as fh:
            section = tomllib.load(fh).get("team", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return section if isinstance(section, dict) else {}


def open_team_services(paths: Paths) -> Any:
    """The app's services on the team store in team mode (None: no team store is set):
    the org's schema, this manager as the author of what is written, no Salesforce client.
    TeamModeError, or StoreRefused from opening the store, say what is wrong."""
    settings = team_settings(paths)
    if settings is None:
        return None
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.store.identity import set_manager
    from smvue_tui.store.org_stores import open_org_store

    org_paths = paths.for_org(settings.org_id)
    set_manager(settings.manager)
    return AppServices(paths=org_paths, db=open_org_store(org_paths), team=settings)


def _stored_login(paths: Paths) -> Any:
    from smvue_tui.salesforce.errors import SalesforceError
    from smvue_tui.salesforce.token_store import TokenStore

    try:
        return TokenStore(paths.token_file).load()
    except SalesforceError:
        return None


def _org_from_config(paths: Paths, team: dict[str, Any]) -> str:
    value = str(team.get("org") or "").strip()
    if not value:
        return ""
    org_id = normalize_id(value, "00D")
    if org_id is None:
        raise TeamModeError(f"[team] org in {paths.config_file} is not a Salesforce org id "
                            f"({value!r}: 15 or 18 characters starting with 00D)")
    return org_id


def team_orgs(url: str) -> list[str]:
    """The orgs a team store has a writer record for (each served at least once)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        schemas = [r[0] for r in conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = "
            "'team_writer' AND table_schema LIKE 'smvue\\_%' ORDER BY 1")]
        return [r[0] for schema in schemas
                for r in conn.execute(f'SELECT org_id FROM "{schema}"."team_writer"')]


def _only_org(url: str) -> str:
    from smvue_tui.store.backend import redact

    orgs = team_orgs(url)
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise TeamModeError(f"the team store at {redact(url)} holds no org yet: an admin "
                            "starts `smvue-tui serve` for the org first (docs/team-store.md)")
    raise TeamModeError(f"the team store at {redact(url)} holds several orgs "
                        f"({', '.join(orgs)}): set org = \"00D…\" under [team] in config.toml")


# --- who writes --------------------------------------------------------------------------


@dataclass(frozen=True)
class WriterStatus:
    host: str = ""
    pid: int = 0
    version: str = ""
    started_at: str = ""
    heartbeat_at: str = ""
    last_sync_finished_at: str | None = None
    last_sync_status: str | None = None
    recorded: bool = False  # a writer ever said who it is
    holding: bool = False  # a process holds the org's writer lock now


def writer_status(org_id: str) -> WriterStatus:
    """The org's writer as the store says (the models bound to the team store)."""
    info = m.WriterInfo.get_or_none(m.WriterInfo.org_id == org_id)
    db = m.WriterInfo._meta.database
    holding = db.execute_sql(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid AND "
        "objid = %s::oid AND objsubid = 2 AND granted AND database = (SELECT oid FROM "
        "pg_database WHERE datname = current_database())", lock_key(org_id)).fetchone()
    if info is None:
        return WriterStatus(holding=holding is not None)
    return WriterStatus(info.host, info.pid, info.version, info.started_at, info.heartbeat_at,
                        info.last_sync_finished_at, info.last_sync_status, True,
                        holding is not None)


def describe_writer(status: WriterStatus, now: datetime | None = None) -> tuple[str, bool]:
    """(the header's words, whether all is well) for a writer's status."""
    now = now or m.utcnow()
    synced = (f"last sync {_when(status.last_sync_finished_at, now)}"
              + ("" if status.last_sync_status in (None, "ok")
                 else f" ({status.last_sync_status})")
              if status.last_sync_finished_at else "not synced yet")
    if not status.recorded:
        if status.holding:
            return "team store · a writer is starting", True
        return "team store · NO WRITER: start `smvue-tui serve` for this org", False
    who = f"serve on {status.host}"
    if not status.holding:
        return f"team store · NO WRITER: {who} stopped — data as of {synced}", False
    beat = _parse(status.heartbeat_at)
    if beat is not None and now - beat > SILENT_AFTER:
        return (f"team store · writer {who} silent since {_when(status.heartbeat_at, now)} — "
                f"{synced}"), False
    return f"team store · {who} · {synced}", status.last_sync_status in (None, "ok")


def _parse(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _when(stamp: str | None, now: datetime) -> str:
    at = _parse(stamp)
    if at is None:
        return "?"
    local, today = at.astimezone(), now.astimezone()
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%d %b %H:%M}"
