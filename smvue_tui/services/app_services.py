"""What the app is built from, injected so tests can pass fakes and a temporary store.

Nothing here runs at import time; ``AppServices.create`` opens the store and nothing else.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peewee import Database

from smvue_tui.config import Paths, app_paths
from smvue_tui.store.db import open_store


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

    def keymap(self) -> dict[str, str]:
        """``[keys]`` from config.toml: binding id → key(s), e.g. ``sync_now = "ctrl+r"``."""
        keys = self.config().get("keys", {})
        return {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    def config(self) -> dict[str, Any]:
        """config.toml as a dict ({} when missing or unreadable — logged)."""
        try:
            with open(self.paths.config_file, "rb") as fh:
                return tomllib.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            logging.getLogger(__name__).warning("ignoring %s: %s", self.paths.config_file, exc)
            return {}

    def webhook(self) -> Any:
        """The [webhook] settings (None when config.toml's [webhook] is invalid — logged)."""
        from smvue_tui.services.automation import webhook_settings

        try:
            return webhook_settings(self.paths, self.config())
        except ValueError as exc:
            logging.getLogger(__name__).warning("change notifications off: %s", exc)
            return None

    @classmethod
    def create(cls, paths: Paths | None = None) -> AppServices:
        paths = paths or app_paths()
        return cls(paths=paths, db=open_store(paths.database))
