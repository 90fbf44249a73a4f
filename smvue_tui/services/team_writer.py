"""The one writer of an org in a team store: ``smvue-tui serve``'s lock and its record.

Two ``serve``s syncing one org would each spend the org's daily API limit and race each other's
cursors, so the writer holds a PostgreSQL *session* advisory lock keyed on the org for its whole
life, on a connection of its own (``WriterLock``). A second ``serve`` fails to take it and is
refused in words, naming the writer (``WriterRefused``). PostgreSQL drops a session lock with its
connection: a SIGKILLed or crashed ``serve`` frees the org at once, no stale lock file to clean.

The writer also says who it is in ``team_writer`` (``models.WriterInfo``): host, pid, version,
since when, a heartbeat, and how its last sync ended — what team-mode TUIs show in their header.
"""

from __future__ import annotations

import contextlib
import os
import socket
import zlib
from dataclasses import dataclass, field
from typing import Any

from smvue_tui import __version__
from smvue_tui.store import models as m

LOCK_NAMESPACE = 0x534D5655  # "SMVU": the first key of every SMVue writer lock
HEARTBEAT_SECONDS = 30.0


def lock_key(org_id: str) -> tuple[int, int]:
    """The two int4 keys of the org's writer lock (per database, as advisory locks are)."""
    return LOCK_NAMESPACE, zlib.crc32(org_id.strip().lower().encode()) & 0x7FFFFFFF


class WriterRefused(Exception):
    """Another process is the org's writer; the message names it and says what to do."""


class WriterLost(Exception):
    """The writer's lock connection died and the lock could not be taken back."""


@dataclass
class WriterLock:
    """The org's writer lock on a dedicated connection (autocommit: a session lock)."""

    url: str = field(repr=False)  # may hold the password: never in a traceback's locals
    org_id: str
    schema: str = ""
    conn: Any = None

    def acquire(self) -> None:
        """Take the lock or raise WriterRefused naming who holds it."""
        import psycopg

        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                        application_name="smvue-tui serve (writer lock)",
                                        keepalives=1, keepalives_idle=30)
        taken = self.conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                  lock_key(self.org_id)).fetchone()[0]
        if not taken:
            holder = self._holder()
            self.release()
            raise WriterRefused(refusal(self.org_id, holder))

    def _holder(self) -> dict[str, Any] | None:
        """The writer's row as the holder recorded it (None before it wrote one)."""
        if not self.schema:
            return None
        try:
            row = self.conn.execute(
                f'SELECT host, pid, version, started_at, last_sync_finished_at FROM '
                f'"{self.schema}"."team_writer" WHERE lower(org_id) = lower(%s)',
                (self.org_id,)).fetchone()
        except Exception:  # no table yet: the holder is migrating a new schema
            return None
        if row is None:
            return None
        return dict(zip(("host", "pid", "version", "started_at", "last_sync_finished_at"), row,
                        strict=True))

    def alive(self) -> bool:
        """Whether the lock's connection (hence the lock) is still there."""
        if self.conn is None or self.conn.closed:
            return False
        try:
            self.conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    def keep(self) -> None:
        """Check the lock is held; take it back after a dropped connection (WriterLost when
        another writer took it meanwhile — this one must stop)."""
        if self.alive():
            return
        self.release()
        try:
            self.acquire()
        except WriterRefused as exc:
            raise WriterLost(f"lost the writer lock (its database connection dropped) and "
                             f"another writer has it now: {exc}") from None

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # already broken: closing is all that is left
                self.conn.close()
        self.conn = None


def refusal(org_id: str, holder: dict[str, Any] | None) -> str:
    """Why this serve may not run, in words."""
    who = "another smvue-tui serve"
    if holder:
        who = (f"smvue-tui serve {holder['version']} on {holder['host']} (pid {holder['pid']}), "
               f"running since {_short(holder['started_at'])}")
        if holder.get("last_sync_finished_at"):
            who += f", last sync finished {_short(holder['last_sync_finished_at'])}"
    return (f"org {org_id} already has a writer in this team store: {who}. One serve per org "
            "syncs for the whole team (two would spend the org's API limit twice); stop that "
            "one first, or let it keep the store fresh — the TUIs read from it")


def _short(stamp: str) -> str:
    return stamp[:19].replace("T", " ") + " UTC" if stamp else "?"


# --- the writer's record (models bound to the team store) -------------------------------------


def record_writer(org_id: str) -> m.WriterInfo:
    """This process is the org's writer from now (its row replaced; the last sync kept)."""
    now = m.utcnow().isoformat()
    values = {"host": socket.gethostname(), "pid": os.getpid(), "version": __version__,
              "started_at": now, "heartbeat_at": now}
    (m.WriterInfo.insert(org_id=org_id, **values)
     .on_conflict(conflict_target=[m.WriterInfo.org_id], update=values).execute())
    return m.WriterInfo.get_by_id(org_id)


def heartbeat(org_id: str) -> None:
    m.WriterInfo.update(heartbeat_at=m.utcnow().isoformat(), pid=os.getpid()).where(
        m.WriterInfo.org_id == org_id).execute()


def record_sync(org_id: str, status: str) -> None:
    """A sync of the writer ended (``status``: ok, failed, paused…)."""
    now = m.utcnow().isoformat()
    m.WriterInfo.update(last_sync_finished_at=now, last_sync_status=status,
                        heartbeat_at=now).where(m.WriterInfo.org_id == org_id).execute()
