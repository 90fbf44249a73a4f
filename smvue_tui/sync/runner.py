"""One sync run on a client: run the engine, then always close both and report API usage.

``InProcessSync`` runs syncs on this process's event loop (``smvue-tui serve``, tests, the
change-notification fetches); ``child.ChildSync`` runs them in a child process (the TUI). Both
have ``run(kind, progress)`` and ``usage`` (the running sync's latest API reading).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from peewee import Database

from smvue_tui.config import Paths, app_paths, config_or_defaults
from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.salesforce.usage import ApiUsage
from smvue_tui.store.changelog_retention import retention_or_default
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.org_stores import (
    OrgLabel,
    StoreOrgMismatch,
    StoreRefused,
    ensure_bound_store_is,
)
from smvue_tui.sync.bulk_read import policy_from
from smvue_tui.sync.engine import SyncEngine, SyncReport
from smvue_tui.sync.progress import ProgressCallback

log = logging.getLogger(__name__)


async def run_once(client: Any, db: Database, kind: str, *,
                   progress: ProgressCallback | None = None,
                   on_usage: Callable[[Any], None] | None = None,
                   config: dict[str, Any] | None = None) -> SyncReport:
    """Run one sync of ``kind`` on ``client`` (closed afterwards); ``on_usage`` gets the
    client's last API-usage reading. ``config``: config.toml's contents when the caller has
    read it already (None: read here, once, for every setting the run takes from it). A store
    holding another org than the client's login is refused before anything is written (a
    failed report naming both orgs)."""
    if config is None:
        config = run_config(app_paths())
    engine = SyncEngine(client, db, progress=progress, bulk=policy_from(config),
                        lookbacks=Lookbacks(change_log_days=retention_or_default(config)))
    try:
        login = client_org(client)
        try:
            await engine.writer.call(ensure_bound_store_is, login.org_id, login)
        except StoreOrgMismatch as exc:
            return wrong_store(kind, exc)
        return await engine.run(kind)
    finally:
        engine.close()
        if on_usage is not None:
            on_usage(client.usage)
        await client.aclose()


def run_config(paths: Paths) -> dict[str, Any]:
    """config.toml for a run that was not handed it (the TUI's sync child): the defaults,
    logged in the reader's words, when it cannot be used — the app said so already, and a
    sync must not stop over its tuning knobs. Commands read it themselves and refuse."""
    config, problem = config_or_defaults(paths.config_file)
    if problem:
        log.warning("config.toml for this sync: %s", problem)
    return config


def initial_or_incremental() -> str:
    """``initial`` until every readable object has finished its first full read."""
    from smvue_tui.store import models as m

    planned = [p.sobject for p in m.ObjectPlan.select().where(m.ObjectPlan.available)]
    done = {c.sobject for c in m.SyncCursor.select().where(m.SyncCursor.initial_done)}
    return "incremental" if planned and set(planned) <= done else "initial"


def could_not_start(kind: str, exc: SalesforceError) -> SyncReport:
    """The report of a sync that found no usable login (none stored, or unreadable)."""
    failed = SyncReport(kind, status="failed")
    failed.error(exc)
    return failed


def client_org(client: Any) -> OrgLabel:
    """The org a client is logged in to (an empty id when it does not say: a test double)."""
    return login_org(getattr(getattr(client, "session", None), "credentials", None))


def login_org(creds: Any) -> OrgLabel:
    """The org of a login (``Credentials``); Sandbox or Production when its host says so."""
    env = getattr(creds, "environment", None)
    sandbox = {"sandbox": True, "production": False}.get(getattr(env, "name", ""))
    return OrgLabel(str(getattr(creds, "org_id", "") or ""), "", sandbox)


def wrong_store(kind: str, exc: StoreRefused) -> SyncReport:
    """The report of a sync refused because the store is another org's (or still in use)."""
    refused = SyncReport(kind, status="failed")
    code = "WRONG_ORG_STORE" if isinstance(exc, StoreOrgMismatch) else "STORE_IN_USE"
    refused.errors.append({"object": "", "code": code, "message": exc.message,
                           "detail": "", "remedy": exc.remedy})
    return refused


class InProcessSync:
    """Syncs on this process's loop, each with a fresh client from ``client_factory``;
    ``config`` is config.toml as the app has read it (None: read at each run)."""

    def __init__(self, client_factory: Callable[[], Any], db: Database,
                 paths: Paths, config: dict[str, Any] | None = None) -> None:
        self.client_factory = client_factory
        self.db = db
        self.paths = paths
        self.config = config
        self._client: Any = None

    @property
    def usage(self) -> ApiUsage:
        return self._client.usage if self._client is not None else ApiUsage()

    async def run(self, kind: str, progress: ProgressCallback | None = None) -> SyncReport:
        from smvue_tui.sync.status import save_usage

        try:
            self._client = self.client_factory()
        except SalesforceError as exc:
            return could_not_start(kind, exc)
        try:
            return await run_once(self._client, self.db, kind, progress=progress,
                                  on_usage=lambda usage: save_usage(self.paths, usage),
                                  config=self.config)
        finally:
            self._client = None
