"""Where the app keeps its files.

Every file the app writes (config, database, tokens, logs, demo-org cache) lives under one folder:
``$SMVUE_HOME`` when set, otherwise the platform's user directories. Nothing is created at import
time; callers ask for a path and the folder is made on demand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "smvue-tui"


@dataclass(frozen=True)
class Paths:
    """The folders the app writes to."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database(self) -> Path:
        return self.data_dir / "smvue.sqlite3"

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


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (owner-only) if missing and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
