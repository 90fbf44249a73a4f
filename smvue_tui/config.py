"""Where the app keeps its files.

Every file the app writes (config, database, tokens, logs, demo-org cache) lives under one folder:
``$SMVUE_HOME`` when set, otherwise the platform's user directories. Nothing is created at import
time; callers ask for a path and the folder is made on demand.

Each Salesforce org has a store of its own: ``data_dir/orgs/<18-char org id>/`` holds its
``smvue.sqlite3`` and the files that belong with it (the last API-usage reading, the org's name).
``Paths.for_org(org_id)`` points ``database`` there; without an org (nobody ever logged in) it is
``data_dir/smvue.sqlite3`` — also where versions before per-org stores kept their one store,
which ``store/org_stores.py`` adopts as its org's store.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "smvue-tui"
STORE_FILE = "smvue.sqlite3"


@dataclass(frozen=True)
class Paths:
    """The folders the app writes to."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path
    org_id: str = ""  # the org whose store ``database`` is ("" = none: the unassigned store)

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def orgs_dir(self) -> Path:
        return self.data_dir / "orgs"

    @property
    def store_dir(self) -> Path:
        """The folder of this org's store and its companion files."""
        return self.orgs_dir / self.org_id if self.org_id else self.data_dir

    @property
    def database(self) -> Path:
        return self.store_dir / STORE_FILE

    @property
    def unassigned_database(self) -> Path:
        """The store of no org: before any login, and the one store of earlier versions."""
        return self.data_dir / STORE_FILE

    def for_org(self, org_id: str) -> Paths:
        """These paths with ``database`` (and its companion files) in ``org_id``'s folder."""
        return replace(self, org_id=org_id)

    @property
    def token_file(self) -> Path:
        return self.data_dir / "salesforce-token.json"

    @property
    def demo_org_cache(self) -> Path:
        return self.cache_dir / "demo-org"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "smvue-tui.log"


def app_paths(environ: dict[str, str] | None = None) -> Paths:
    """Paths for this process: everything under ``$SMVUE_HOME`` when it is set."""
    env = os.environ if environ is None else environ
    home = env.get("SMVUE_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
        Path(platformdirs.user_log_dir(APP_NAME)),
    )


class FolderNotWritable(Exception):
    """A folder the app writes to cannot be created (a read-only ``SMVUE_HOME``, say).

    Not an OSError on purpose: handlers of network OSErrors must not swallow it and blame a port.
    """


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (owner-only) if missing and return it; FolderNotWritable says why not."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise FolderNotWritable(f"cannot create the folder {path}: {reason}. "
                                "Set SMVUE_HOME to a folder you can write to.") from exc
    return path


def read_config(path: Path) -> dict[str, Any]:
    """config.toml parsed ({} when there is none); ValueError in words when it is not TOML."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML ({exc})") from None
