"""Team mode: a TUI on a team store (PostgreSQL) that another process keeps fresh.

When a PostgreSQL store is set (``SMVUE_STORE_URL`` or ``[store] url``) the TUI only reads:
``smvue-tui serve`` is the org's one writer (``team_writer.py``). This module decides, without
Textual, what the TUI needs for that:

- ``team_settings(paths, config)``: the store URL, which org (the login's, else ``[team] org``,
  else the only org the store holds) and which manager this is (the logged-in Salesforce user,
  else ``[team] manager``) — or None when no team store is set (the SQLite store, as ever);
- who writes and whether it still does: ``team_status.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smvue_tui.config import ConfigError, Paths, config_table, read_config
from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.store.backend import schema_for
from smvue_tui.store.setting import store_url, team_store_url


class TeamModeError(Exception):
    """Team mode cannot start as set up; the message says why and what to do."""


@dataclass(frozen=True)
class TeamSettings:
    url: str = field(repr=False)  # may hold the password: never in a crash report's locals
    org_id: str
    manager: str  # the manager key: a Salesforce username or an email
    manager_source: str  # "login" | "config"

    @property
    def schema(self) -> str:
        return schema_for(self.org_id)


def team_settings(paths: Paths) -> TeamSettings | None:
    """Team mode's settings, None without a team store; TeamModeError in words when the
    store setting, the org or the manager cannot be told (config.toml read once)."""
    try:
        config, problem = read_config(paths.config_file), None
    except ConfigError as exc:  # without SMVUE_STORE_URL the store setting refuses (below)
        config, problem = None, exc
    url = team_store_url(paths, TeamModeError, config)
    if not url:
        return None
    try:
        if problem is not None:
            raise problem
        team = config_table(config or {}, "team", paths.config_file)
    except ConfigError as exc:
        raise TeamModeError(f"{exc}, so this team store's [team] settings are not known") \
            from None
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


def open_team_services(paths: Paths) -> Any:
    """The app's services on the team store in team mode (None: no team store is set):
    the org's schema, this manager as the author of what is written, no Salesforce client.
    TeamModeError, or StoreRefused from opening the store, say what is wrong."""
    try:
        settings = team_settings(paths)
        if settings is None:
            return None
        _ready(settings)
    except TeamModeError:
        raise
    except Exception as exc:  # psycopg's OperationalError: the server down, a login refused
        if type(exc).__module__.split(".")[0] not in ("psycopg", "peewee"):
            raise
        from smvue_tui.errors import reason
        from smvue_tui.store.setting import redact

        first = reason(exc)
        raise TeamModeError(f"cannot read the team store at {redact(store_url(paths))}: "
                            f"{first}") from None
    from smvue_tui.services.app_services import AppServices
    from smvue_tui.store.identity import set_manager
    from smvue_tui.store.org_stores import open_org_store

    org_paths = paths.for_org(settings.org_id)
    set_manager(settings.manager)
    return AppServices(paths=org_paths, db=open_org_store(org_paths), team=settings)


def _ready(settings: TeamSettings) -> None:
    """A manager's TUI never creates or migrates a schema (its role may not; the writer and
    ``store migrate`` do): TeamModeError saying who must act, when the schema is not ready."""
    from smvue_tui.services.team_admin import schema_version_of
    from smvue_tui.store.db import SCHEMA_VERSION

    version = schema_version_of(settings.url, settings.schema)
    if version is None:
        raise TeamModeError(f"the team store holds nothing of org {settings.org_id} yet: an "
                            "admin starts `smvue-tui serve` for it first (docs/team-store.md)")
    if version < SCHEMA_VERSION:
        raise TeamModeError(f"the team store's schema for org {settings.org_id} is v{version}; "
                            f"this smvue-tui needs v{SCHEMA_VERSION}: the admin runs `smvue-tui "
                            "store migrate` (docs/team-store.md), then start again")
    if version > SCHEMA_VERSION:
        raise TeamModeError(f"the team store's schema for org {settings.org_id} is v{version}, "
                            f"newer than this smvue-tui knows (v{SCHEMA_VERSION}): upgrade "
                            "smvue-tui on this machine")


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
    from smvue_tui.store.setting import redact

    orgs = team_orgs(url)
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise TeamModeError(f"the team store at {redact(url)} holds no org yet: an admin "
                            "starts `smvue-tui serve` for the org first (docs/team-store.md)")
    raise TeamModeError(f"the team store at {redact(url)} holds several orgs "
                        f"({', '.join(orgs)}): set org = \"00D…\" under [team] in config.toml")
