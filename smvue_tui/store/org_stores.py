"""One store per Salesforce org, and the check that a store belongs to the org it is opened for.

Each org's data — mirrored records, cursors, field plans, team mapping, stage overrides, notes,
action items — lives in ``data_dir/orgs/<18-char org id>/smvue.sqlite3`` (``Paths.for_org``), so
Production and each of its sandboxes never share a file. Every entry point opens its store through
``open_org_store``, which

- adopts, once, the single store of earlier versions (``data_dir/smvue.sqlite3``) as the store of
  the org its Organization row names (moved, not copied: nothing is lost and nothing doubled);
- refuses (``StoreOrgMismatch``, before anything is written) a store whose Organization row is
  another org's — a store copied into the wrong folder, a login changed under a running process.

``ensure_bound_store_is`` is the same check on the open store, for the sync runner and the
change-notification listener (a defence that holds even when a caller opened the wrong file).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from peewee import Database

from smvue_tui.config import CONFIG_REMEDY, Paths
from smvue_tui.safe_files import write_private
from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.store import health
from smvue_tui.store import models as m
from smvue_tui.store.backend import StoreMissing, describe, schema_for
from smvue_tui.store.db import open_postgres, open_store
from smvue_tui.store.postgres import StoreUnreachable
from smvue_tui.store.setting import ConfigUnusable, StoreUrlError, store_url

log = logging.getLogger(__name__)

LAST_ORG_FILE = "last-org"  # in orgs_dir: the org whose store was last opened for a login
# Files kept next to a store that belong to its org (moved with it when an old store is adopted).
COMPANION_FILES = ("api-usage.json", "org-info.json")
_SIDECARS = ("", "-wal", "-shm")


@dataclass(frozen=True)
class OrgLabel:
    """An org as the user should read it: name, id, Production or Sandbox."""

    org_id: str
    name: str = ""
    is_sandbox: bool | None = None

    @property
    def environment(self) -> str:
        return "" if self.is_sandbox is None else "Sandbox" if self.is_sandbox else "Production"

    def __str__(self) -> str:
        extra = ", ".join(x for x in (self.org_id, self.environment) if x)
        return f"{self.name} ({extra})" if self.name else f"org {extra}"


class StoreRefused(Exception):
    """A store that must not be opened as asked; ``message`` and ``remedy`` in words."""

    remedy = ""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{message}. {self.remedy}.")


class StoreOrgMismatch(StoreRefused):
    """The store holds another org's data than the login is for; nothing was written."""

    remedy = ("Log in to the org this store belongs to, or run `smvue-tui orgs` to see which "
              "store holds which org")

    def __init__(self, store: OrgLabel, login: OrgLabel, path: Path | str = "") -> None:
        self.store, self.login, self.path = store, login, str(path)
        where = f" at {path}" if path else ""
        super().__init__(f"This store{where} belongs to {store}, but the login is for {login}; "
                         "nothing was written")


class StoreInUse(StoreRefused):
    """This org's data is still in the old single store, which another program has open."""

    remedy = ("Close any other smvue-tui (an older version, `smvue-tui serve`) and try again; "
              "its data then moves to this org's own store")

    def __init__(self, org_id: str, path: Path) -> None:
        super().__init__(f"Org {org_id}'s data is still in the store of an earlier version at "
                         f"{path}, which another program is using; nothing was changed")


class StoreUnavailable(StoreRefused):
    """The shared (PostgreSQL) store is set but cannot be used: a bad URL, a server down."""

    remedy = ("Check the store setting (SMVUE_STORE_URL or [store] url in config.toml) and that "
              "the PostgreSQL server is up; remove the setting to use the store on this machine")


class StoreSettingUnknown(StoreUnavailable):
    """config.toml cannot be read, so which store it names is not known."""

    remedy = CONFIG_REMEDY


def canonical_org_id(value: str) -> str:
    """The 18-character form of an org id (ValueError in words when it is not one)."""
    found = normalize_id(value.strip(), "00D") if isinstance(value, str) else None
    if found is None:
        raise ValueError(f"'{value}' is not a Salesforce org id (15 or 18 characters, "
                         "starting with 00D)")
    return found


def same_org(a: str, b: str) -> bool:
    return (normalize_id(a) or a) == (normalize_id(b) or b)


# --- reading a store file without opening (or changing) it --------------------------------------


def store_orgs(path: Path) -> list[OrgLabel]:
    """The orgs a store file holds: its Organization rows, else (never synced) its Connection
    rows; [] for a missing or empty store. Read-only: the file is not changed."""
    if not path.is_file():
        return []
    try:
        return _store_orgs(path)
    except sqlite3.DatabaseError as exc:  # damaged: opening it says so (store/db.py)
        log.warning("could not read which org %s holds: %s", path, exc)
        return []


def _store_orgs(path: Path) -> list[OrgLabel]:
    conn = health.open_read_only(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows: list[tuple[str, str | None, object]] = []
        if "organization" in tables:
            rows = conn.execute('SELECT "Id", "Name", "IsSandbox" FROM organization').fetchall()
        if not rows and "connection" in tables:
            rows = conn.execute("SELECT org_id, NULL, is_sandbox FROM connection").fetchall()
    finally:
        conn.close()
    return [OrgLabel(r[0], r[1] or "", None if r[2] is None else bool(r[2])) for r in rows]


def check_store(path: Path, org_id: str, login: OrgLabel | None = None) -> None:
    """StoreOrgMismatch when the store file at ``path`` holds an org other than ``org_id``."""
    for found in store_orgs(path):
        if not same_org(found.org_id, org_id):
            raise StoreOrgMismatch(found, login or OrgLabel(org_id), path)


def ensure_bound_store_is(org_id: str, login: OrgLabel | None = None) -> None:
    """The same check on the store the models are bound to (StoreOrgMismatch)."""
    if not org_id:
        return
    rows = [OrgLabel(o.id, o.name or "", o.is_sandbox) for o in m.Organization.select()]
    if not rows:
        rows = [OrgLabel(c.org_id, "", c.is_sandbox) for c in m.Connection.select()]
    for found in rows:
        if not same_org(found.org_id, org_id):
            raise StoreOrgMismatch(found, login or OrgLabel(org_id),
                                   describe(m.Organization._meta.database))


# --- which store, and opening it ------------------------------------------------------------


def last_org(paths: Paths) -> str:
    """The org whose store was last opened for a login ("" when none)."""
    try:
        text = (paths.orgs_dir / LAST_ORG_FILE).read_text().strip()
    except OSError:
        return ""
    return text if normalize_id(text, "00D") == text else ""


def _remember_last(paths: Paths) -> None:
    target = paths.orgs_dir / LAST_ORG_FILE
    with contextlib.suppress(OSError):
        if last_org(paths) != paths.org_id:
            write_private(target, (paths.org_id + "\n").encode())  # no .tmp left on a full disk


def paths_for_org(paths: Paths, org_id: str) -> Paths:
    """``paths`` pointing at ``org_id``'s store (ValueError for a malformed id)."""
    return paths.for_org(canonical_org_id(org_id))


def paths_for_login(paths: Paths) -> Paths:
    """The store to open: the stored login's org; without a (readable) login the org last
    used; with neither, the unassigned store (nothing synced)."""
    from smvue_tui.salesforce.token_store import TokenStore, TokenStoreError

    try:
        creds = TokenStore(paths.token_file).load()
    except TokenStoreError:
        creds = None
    if creds is not None and normalize_id(creds.org_id, "00D"):
        return paths_for_org(paths, creds.org_id)
    adopt_unassigned(paths)
    org_id = last_org(paths)
    return paths.for_org(org_id) if org_id else paths.for_org("")


def open_org_store(paths: Paths, login: OrgLabel | None = None, *,
                   create: bool = True) -> Database:
    """Open (creating and migrating as needed) ``paths``' org store and bind the models to it.
    The old single store is adopted first (see ``adopt_unassigned``). A store holding another
    org is refused with StoreOrgMismatch before anything is written; StoreInUse when this
    org's data is still in the old store because another program holds it open.
    With a PostgreSQL store set (``setting.store_url``) the org's schema there is opened
    instead; StoreUnavailable when the setting or the server cannot be used. Not ``create``:
    StoreMissing when the store was never made (its file, or its schema — asked on the one
    connection that then reads it), nothing made."""
    try:
        url = store_url(paths)
        if url:
            return _open_shared(url, paths, login, create)
    except ConfigUnusable as exc:
        raise StoreSettingUnknown(str(exc)) from None
    except (StoreUrlError, StoreUnreachable) as exc:
        raise StoreUnavailable(str(exc)) from None
    if not create and not paths.database.exists():
        raise StoreMissing(f"no store at {paths.database}")
    if not paths.org_id:  # no org yet (or a caller's own store): opened as it is
        return open_store(paths.database)
    adopt_unassigned(paths)
    if not paths.database.exists() and _sole_org(paths.unassigned_database) == paths.org_id:
        raise StoreInUse(paths.org_id, paths.unassigned_database)  # never a second, empty one
    check_store(paths.database, paths.org_id, login)
    db = open_store(paths.database)
    _remember_last(paths)
    return db


def _open_shared(url: str, paths: Paths, login: OrgLabel | None, create: bool) -> Database:
    """The org's schema on the PostgreSQL store; the same org check as a file's, made on the
    schema's rows right after opening (a fresh schema holds none)."""
    db = open_postgres(url, schema_for(paths.org_id), create=create)
    try:
        ensure_bound_store_is(paths.org_id, login)
    except BaseException:
        db.close()
        raise
    if paths.org_id:
        _remember_last(paths)
    return db


# --- upgrade in place: the one store of earlier versions --------------------------------------


def adopt_unassigned(paths: Paths) -> Path | None:
    """Move ``data_dir/smvue.sqlite3`` into the folder of the org it holds (once: afterwards
    it is gone). Left in place when it holds no org, several, or that org has a store already
    (``smvue-tui orgs`` lists it), or when another process has it open. The new path or None."""
    source = paths.unassigned_database
    owner = _sole_org(source)
    if not owner:
        return None
    target = paths.for_org(owner)
    if target.database.exists():
        log.warning("%s holds org %s, which has its own store already; left in place",
                    source, target.org_id)
        return None
    if not _checkpoint(source):
        return None
    target.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for suffix in _SIDECARS:  # the main file first: a crash after it loses nothing
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{source}{suffix}", f"{target.database}{suffix}")
    for name in COMPANION_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.replace(paths.data_dir / name, target.store_dir / name)
    log.info("adopted %s as the store of org %s (%s)", source, target.org_id, target.database)
    if not last_org(paths):
        _remember_last(target)
    return target.database


def _sole_org(path: Path) -> str:
    """The one org a store file holds, 18 characters ("" for none, several, or a bad id)."""
    owners = {normalize_id(o.org_id, "00D") for o in store_orgs(path)}
    if len(owners) != 1:
        return ""
    return owners.pop() or ""


def _checkpoint(path: Path) -> bool:
    """Fold the write-ahead log into the file, so moving the file (and its sidecars) moves
    every committed row. False when a reader still needs the log (another process mid-read).
    Idle connections may stay open: they hold the same inodes, which the move keeps."""
    try:
        busy = _truncate_wal(path)
        if busy:  # this process's closed stores: a thread's connection goes when collected
            gc.collect()
            busy = _truncate_wal(path)
    except sqlite3.Error as exc:
        log.warning("the store %s was not adopted: %s", path, exc)
        return False
    if busy:
        log.warning("the store %s is in use by another process; adopted on a later start", path)
    return not busy


def _truncate_wal(path: Path) -> int:
    # A short wait: a reader that keeps the log is another process, not a moment's overlap.
    conn = sqlite3.connect(str(path), timeout=0.25)
    try:
        return int(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
    finally:
        conn.close()


# --- listing and forgetting ------------------------------------------------------------------


@dataclass(frozen=True)
class StoreSummary:
    org: OrgLabel
    path: Path
    size_bytes: int
    last_sync: str  # "2026-12-04T13:00:00+00:00 incremental ok", or "" when never synced
    adopted: bool = True  # False: the old single store, left in place (several orgs in it)


def list_stores(paths: Paths) -> list[StoreSummary]:
    """Every org store on this machine (and an old single store not adopted), by org id."""
    found = []
    folders = sorted(p for p in paths.orgs_dir.iterdir() if p.is_dir()) \
        if paths.orgs_dir.is_dir() else []
    for folder in folders:
        if normalize_id(folder.name, "00D") != folder.name:
            continue
        store = paths.for_org(folder.name).database
        if store.is_file():
            found.append(_summary(store, folder.name))
    if paths.unassigned_database.is_file() and store_orgs(paths.unassigned_database):
        found.append(_summary(paths.unassigned_database, "", adopted=False))
    return found


def _summary(store: Path, org_id: str, *, adopted: bool = True) -> StoreSummary:
    orgs = store_orgs(store)
    org = next((o for o in orgs if not org_id or same_org(o.org_id, org_id)), OrgLabel(org_id))
    if not adopted:
        org = OrgLabel(", ".join(o.org_id for o in orgs), "not adopted: several orgs")
    size = sum(Path(f"{store}{s}").stat().st_size for s in _SIDECARS
               if Path(f"{store}{s}").exists())
    return StoreSummary(org, store, size, _last_sync(store), adopted)


def _last_sync(store: Path) -> str:
    conn = health.open_read_only(store)
    try:
        row = conn.execute("SELECT finished_at, kind, status FROM sync_run WHERE finished_at "
                           "IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:  # never synced: no table yet
        row = None
    finally:
        conn.close()
    return " ".join(row) if row else ""


def automation_left_in_org(path: Path) -> list[str]:
    """What SMVue deployed in the org and has not removed, as the store records it ("type
    name"): forgetting the store forgets the only record of it. Read-only."""
    try:
        conn = health.open_read_only(path)
        try:
            rows = conn.execute('SELECT "type", "full_name" FROM "deployed_automation" '
                                'WHERE "removed_at" IS NULL').fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [f"{kind} {name}" for kind, name in rows]


def forget_store(paths: Paths, org_id: str) -> Path:
    """Delete ``org_id``'s store folder (FileNotFoundError when there is none)."""
    target = paths_for_org(paths, org_id)
    if not target.store_dir.is_dir():
        raise FileNotFoundError(target.store_dir)
    shutil.rmtree(target.store_dir)
    if last_org(paths) == target.org_id:
        with contextlib.suppress(FileNotFoundError):
            (paths.orgs_dir / LAST_ORG_FILE).unlink()
    return target.store_dir
