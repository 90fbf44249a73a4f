"""What the app is built from, injected so tests can pass fakes and a temporary store.

Nothing here runs at import time; ``AppServices.create`` opens the store of the stored login's
org (``store/org_stores.py``) and nothing else; ``use_org`` moves the app to another org's store
(the Connect screen, after a login to another org).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peewee import Database

from smvue_tui.config import (
    ConfigError,
    FolderNotWritable,
    Paths,
    app_paths,
    config_or_defaults,
    config_table,
)
from smvue_tui.store.org_stores import open_org_store, paths_for_login, paths_for_org


@dataclass
class DemoTarget:
    """A demo org the Connect screen offers (``smvue-tui --demo``)."""

    label: str  # "Production" | "Sandbox"
    base_url: str
    org: Any  # smvue_demo_org.org.DemoOrg, for the one-key consent approval


@dataclass
class AppServices:
    paths: Paths
    db: Database
    # Builds a logged-in SalesforceClient from the stored tokens (None: not connected).
    client_factory: Callable[[], Any] | None = None
    demo_targets: list[DemoTarget] = field(default_factory=list)
    # Run syncs in a child process (the TUI: keys stay instant while pages are decoded and
    # written); tests and ``serve`` run them on the app's loop.
    sync_in_child: bool = False
    # Tests turn background services off for deterministic screens.
    background: bool = True
    # The clock the inspection judges dates by (risk flags, periods); tests fix it.
    now: Callable[[], datetime] | None = None
    # Team mode (services/team_mode.TeamSettings): a team store `smvue-tui serve` writes; the
    # app then only reads it and never calls Salesforce for data.
    team: Any = None

    def judged_at(self) -> datetime | None:
        """The inspection's "now": the clock tests fix, else None (the real time)."""
        return self.now() if self.now else None

    def keymap(self, config: dict[str, Any] | None = None) -> dict[str, str]:
        """``[keys]`` from config.toml (or ``config``, read already): binding id → key(s), e.g.
        ``sync_now = "ctrl+r"``."""
        keys = (self.config() if config is None else config).get("keys", {})
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    def read_config(self) -> tuple[dict[str, Any], str | None]:
        """config.toml, read once (``config.read_config``): its contents and why (part of) it
        is being ignored, in words for the user (None: it is fine or absent). The app goes on
        with the defaults: the whole file's when it cannot be read, a section's when the file
        gives ``[keys]`` another type than a table (``keys = 2``)."""
        config, problem = config_or_defaults(self.paths.config_file)
        problems = [problem] if problem else []
        try:  # [webhook]'s own check says its problems (webhook_problem)
            config_table(config, "keys", self.paths.config_file)
        except ConfigError as exc:
            problems.append(f"{exc}; using the defaults")
            config = {k: v for k, v in config.items() if k != "keys"}
        return config, "\n".join(problems) or None

    def config(self) -> dict[str, Any]:
        """config.toml as a dict (the defaults for what cannot be used — logged)."""
        config, problem = self.read_config()
        if problem:
            logging.getLogger(__name__).warning("%s", problem)
        return config

    def webhook_problem(self, config: dict[str, Any] | None = None) -> str | None:
        """Why the [webhook] settings (of ``config`` when read already) are refused (None:
        valid or not set)."""
        from smvue_tui.services.automation import webhook_settings

        try:
            webhook_settings(self.paths, self.config() if config is None else config)
        except (ValueError, FolderNotWritable) as exc:  # the token's folder: said, not raised
            return f"change notifications off: {exc}"
        return None

    def webhook(self) -> Any:
        """The [webhook] settings (None when config.toml's [webhook] is invalid — logged)."""
        problem = self.webhook_problem()
        if problem:
            logging.getLogger(__name__).warning("%s", problem)
            return None
        from smvue_tui.services.automation import webhook_settings

        return webhook_settings(self.paths, self.config())

    def use_org(self, org_id: str) -> bool:
        """Close the open store and open ``org_id``'s (created empty for an org never synced;
        StoreRefused when that file holds another org, or the org's data is still in an old
        store in use — the open store then stays).
        The models are bound process-wide, so one org's store is open at a time. True when
        the store changed (screens must read again)."""
        target = paths_for_org(self.paths, org_id)
        if target == self.paths:
            return False
        from smvue_tui.store.org_stores import check_store

        check_store(target.database, target.org_id)  # before closing: refused, nothing moves
        self.db.close()
        try:
            self.db = open_org_store(target)
        except Exception:
            self.db = open_org_store(self.paths)  # still the app's store: keep it usable
            raise
        self.paths = target
        return True

    @classmethod
    def create(cls, paths: Paths | None = None) -> AppServices:
        """Services on the store of the stored login's org (StoreRefused when the
        file there holds another org, or it cannot be opened yet)."""
        paths = paths_for_login(paths or app_paths())
        return cls(paths=paths, db=open_org_store(paths))
