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

from smvue_tui.errors import reason

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
        raise FolderNotWritable(f"cannot create the folder {path}: {reason(exc).lower()}. "
                                "Set SMVUE_HOME to a folder you can write to.") from exc
    return path


# What to do about a config.toml that cannot be used, said after its sentence.
CONFIG_REMEDY = "Mend config.toml, or move it aside to start from the defaults"


class ConfigError(ValueError):
    """config.toml cannot be used as it is; the message names the file and the problem."""


def read_config(path: Path) -> dict[str, Any]:
    """config.toml's contents — the one reader every part of the app uses, with one behaviour:

    - no file (nor a folder for it): ``{}`` (every setting at its default);
    - a file that cannot be read (a folder, no permission), that is not UTF-8 text, or that is
      not TOML: ConfigError, one sentence naming the file and the problem.

    What a ConfigError means is the caller's to decide: which store to open is then unknown,
    so commands and the TUI's start refuse in words (``store/setting.py``); a sync child of the
    TUI, which said it already, keeps the defaults (``config_or_defaults``)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except (FileNotFoundError, NotADirectoryError):  # none (a file where its folder would
        return {}  # be: nothing there either — making the folders says that, ensure_dir)
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({reason(exc).lower()})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line "
                          f"{line}: save it as UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "Expected ']' … (at line 1, column 6)": one clause of our sentence.
        detail = str(exc).replace(" (at ", ", at ").rstrip(")")
        raise ConfigError(f"{path} is not valid TOML ({detail[:1].lower()}{detail[1:]})") \
            from None


def config_or_defaults(path: Path) -> tuple[dict[str, Any], str | None]:
    """``read_config`` for a reader that goes on without the file: its contents, or ``{}`` and
    the ConfigError's sentence with what happens instead (None: fine or absent)."""
    try:
        return read_config(path), None
    except ConfigError as exc:
        return {}, f"{exc}; using the defaults"


def config_table(config: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    """``[name]`` of a read config.toml ({} without one); ConfigError in words when the file
    gives it another type (``team = "ann"`` instead of a ``[team]`` table)."""
    section = config.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"[{name}] in {path} must be a table of settings, not "
                          f"{type_words(section)}")
    return section


def type_words(value: Any) -> str:
    """What a TOML value is, for a sentence: "a number", "text", "a list"…"""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a date or time"
