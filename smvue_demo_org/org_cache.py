"""The demo org's cache files: generate once per key, then hand each run a private copy.

The cache key is size, seed, the profile's data toggles, sandbox, the generator version and the
anchor week. Generation writes a temp file that is renamed into place, under a lock file, so two
processes asking for the same org at once generate it once and never see a half-written file.
A run works on a copy under ``work/`` (deleted on close), so the cache itself is never mutated.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from smvue_demo_org.gen_support import Progress
from smvue_demo_org.generate import GENERATOR_VERSION, generate
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import build_catalog, create_tables

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; the atomic rename still protects
    fcntl = None  # type: ignore[assignment]

generations = 0  # how many orgs this process generated (tests check the cache is reused)

LOG_TABLES = (
    "CREATE TABLE IF NOT EXISTS _deleted (sobject TEXT NOT NULL, id TEXT NOT NULL, "
    "deleted_date TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix__deleted ON _deleted (sobject, deleted_date)",
    "CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)",
)


def cache_name(size: int, seed: int, profile: OrgProfile, anchor: date) -> str:
    return (f"org-g{GENERATOR_VERSION}-n{size}-s{seed}-{profile.cache_key()}"
            f"-sb{int(profile.sandbox)}-{anchor.isoformat()}.sqlite3")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh, fcntl.LOCK_UN)


def cached_org(cache_dir: Path, size: int, seed: int, profile: OrgProfile, anchor: date,
               progress: Progress | None = None) -> tuple[Path, bool]:
    """The cache file for this org and whether this call had to generate it."""
    global generations
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / cache_name(size, seed, profile, anchor)
    if final.exists():
        return final, False
    with _locked(final.with_name(final.name + ".lock")):
        if final.exists():  # another process finished it while we waited
            return final, False
        tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            _generate_file(tmp, size, seed, profile, anchor, progress)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        generations += 1
    _remove_older_weeks(final, anchor)
    return final, True


def _remove_older_weeks(final: Path, anchor: date) -> None:
    """Last weeks' files of the same org are never opened again: don't let them pile up."""
    stem = final.name.removesuffix(f"{anchor.isoformat()}.sqlite3")
    for path in final.parent.glob(f"{stem}*.sqlite3"):
        week = path.name.removeprefix(stem).removesuffix(".sqlite3")
        if week < anchor.isoformat():
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".lock").unlink(missing_ok=True)


def _generate_file(path: Path, size: int, seed: int, profile: OrgProfile, anchor: date,
                   progress: Progress | None) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A throwaway file until renamed: no journal, no fsync until the end.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("BEGIN")
        catalog = build_catalog(profile)
        create_tables(conn, catalog)
        # Bulk-load without indexes, then let create_tables build them once, in order.
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND name LIKE 'ix!_%' ESCAPE '!'").fetchall():
            conn.execute(f'DROP INDEX "{name}"')
        for sql in LOG_TABLES:
            conn.execute(sql)
        generate(conn, catalog, profile, size, seed, anchor, progress)
        create_tables(conn, catalog)
        conn.executemany("INSERT INTO _meta VALUES (?, ?)", [
            ("size", str(size)), ("seed", str(seed)), ("anchor", anchor.isoformat()),
            ("generator", str(GENERATOR_VERSION))])
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # persistent: every working copy starts in WAL
    finally:
        conn.close()
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def working_copy(cached: Path) -> Path:
    """A private copy of ``cached`` for one run; stale copies of dead processes are removed."""
    work = cached.parent / "work"
    work.mkdir(exist_ok=True)
    _remove_stale(work)
    target = work / f"{cached.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.sqlite3"
    shutil.copyfile(cached, target)
    return target


def remove_working_copy(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove_stale(work: Path) -> None:
    """Working copies and half-generated files left behind by processes that died."""
    for path in work.glob("*.sqlite3"):
        parts = path.name.split(".")
        if len(parts) >= 3 and _dead(parts[-3]):
            remove_working_copy(path)
    for path in work.parent.glob("*.sqlite3.tmp-*"):
        if _dead(path.name.rsplit(".tmp-", 1)[1].split("-")[0]):
            path.unlink(missing_ok=True)


def _dead(pid_text: str) -> bool:
    return pid_text.isdigit() and int(pid_text) != os.getpid() and not _alive(int(pid_text))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
