"""Who writes a team store, and whether it still does — the words a team-mode header shows.

``writer_status`` reads the writer's record (``team_writer``) and asks PostgreSQL whether a
process holds the org's writer lock right now (``pg_locks``: a killed ``serve`` holds none);
``describe_writer`` turns that into one line, plain about a writer gone or silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smvue_tui.services.team_writer import HEARTBEAT_SECONDS, lock_key
from smvue_tui.store import models as m

SILENT_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 3)  # a writer that stopped answering


@dataclass(frozen=True)
class WriterStatus:
    host: str = ""
    pid: int = 0
    version: str = ""
    started_at: str = ""
    heartbeat_at: str = ""
    last_sync_finished_at: str | None = None
    last_sync_status: str | None = None
    recorded: bool = False  # a writer ever said who it is
    holding: bool = False  # a process holds the org's writer lock now


def writer_status(org_id: str) -> WriterStatus:
    """The org's writer as the store says (the models bound to the team store)."""
    info = m.WriterInfo.get_or_none(m.WriterInfo.org_id == org_id)
    db = m.WriterInfo._meta.database
    holding = db.execute_sql(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid AND "
        "objid = %s::oid AND objsubid = 2 AND granted AND database = (SELECT oid FROM "
        "pg_database WHERE datname = current_database())", lock_key(org_id)).fetchone()
    if info is None:
        return WriterStatus(holding=holding is not None)
    return WriterStatus(info.host, info.pid, info.version, info.started_at, info.heartbeat_at,
                        info.last_sync_finished_at, info.last_sync_status, True,
                        holding is not None)


def describe_writer(status: WriterStatus, now: datetime | None = None) -> tuple[str, bool]:
    """(the header's words, whether all is well) for a writer's status."""
    now = now or m.utcnow()
    synced = (f"last sync {_when(status.last_sync_finished_at, now)}"
              + ("" if status.last_sync_status in (None, "ok")
                 else f" ({status.last_sync_status})")
              if status.last_sync_finished_at else "not synced yet")
    if not status.recorded:
        if status.holding:
            return "team store · a writer is starting", True
        return "team store · NO WRITER: start `smvue-tui serve` for this org", False
    who = f"serve on {status.host}"
    if not status.holding:
        return f"team store · NO WRITER: {who} stopped — data as of {synced}", False
    beat = _parse(status.heartbeat_at)
    if beat is not None and now - beat > SILENT_AFTER:
        return (f"team store · writer {who} silent since {_when(status.heartbeat_at, now)} — "
                f"{synced}"), False
    return f"team store · {who} · {synced}", status.last_sync_status in (None, "ok")


def _parse(stamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _when(stamp: str | None, now: datetime) -> str:
    at = _parse(stamp)
    if at is None:
        return "?"
    local, today = at.astimezone(), now.astimezone()
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%d %b %H:%M}"
