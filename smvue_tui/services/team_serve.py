"""``smvue-tui serve`` on a team store: claiming the org, saying who writes, holding on.

``claim_org`` takes the org's writer lock (``team_writer.py``) before the store is even opened,
so a refused second ``serve`` changes nothing. ``OrgWriter`` then records this process in
``team_writer``, closes the runs a killed writer left ``running`` (only the lock's holder syncs,
so any such run's process is gone), records each sync's end, and beats a heartbeat that also
checks the lock is still held.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from smvue_tui.config import Paths
from smvue_tui.errors import reason
from smvue_tui.services.team_writer import (
    HEARTBEAT_SECONDS,
    WriterLock,
    WriterLost,
    WriterRefused,
    heartbeat,
    record_sync,
    record_writer,
)
from smvue_tui.store import models as m
from smvue_tui.store.backend import schema_for
from smvue_tui.store.inspection_queries import fresh_facts
from smvue_tui.store.postgres import SERVER_ERRORS
from smvue_tui.store.setting import redact, team_store_url

log = logging.getLogger(__name__)


class TeamServeError(Exception):
    """serve may not (or can no longer) write the team store; the message says why."""


@dataclass
class OrgWriter:
    lock: WriterLock
    org_id: str
    where: str  # the store, for the user (no password)

    def started(self) -> None:
        """The store is open: say who writes, and close a killed writer's runs."""
        record_writer(self.org_id)
        (m.SyncRun.update(status="interrupted", finished_at=m.utcnow().isoformat())
         .where(m.SyncRun.status == "running").execute())

    def before_sync(self) -> None:
        """Confirm the lock before a sync writes: a serve whose lock went to another while its
        connection was down must not sync beside it until the next heartbeat notices
        (TeamServeError); a server out of reach is left to the sync to report."""
        import psycopg

        try:
            self.lock.keep()
        except WriterLost as exc:
            raise TeamServeError(str(exc)) from None
        except (psycopg.Error, *SERVER_ERRORS) as exc:
            log.warning("writer lock not confirmed before a sync: %s", type(exc).__name__)

    def synced(self, status: str) -> None:
        # The deal facts an initial or full sync left to recompute, now: the managers' TUIs
        # read them but may not write them (their role's rights, ``store grants``).
        fresh_facts()
        record_sync(self.org_id, status)

    async def hold(self, every: float = HEARTBEAT_SECONDS) -> None:
        """Beat the heartbeat forever; TeamServeError when the lock went to another writer."""
        import psycopg

        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(self.lock.keep)
                await asyncio.to_thread(heartbeat, self.org_id)
            except WriterLost as exc:
                raise TeamServeError(str(exc)) from None
            except (psycopg.Error, *SERVER_ERRORS) as exc:
                # The server restarting or out of reach: the next beat tries again (the sync
                # cannot write meanwhile either); ending serve here would need a person.
                first = reason(exc)
                log.warning("team store unreachable, writer lock not confirmed: %s", first)

    def release(self) -> None:
        self.lock.release()


def claim_org(paths: Paths) -> OrgWriter | None:
    """The writer lock of the login's org on the team store (None: no team store is set).
    TeamServeError in words when another serve has it or the store cannot be reached."""
    url = team_store_url(paths, TeamServeError)
    if not url:
        return None
    from smvue_tui.store.org_stores import paths_for_login

    org_id = paths_for_login(paths).org_id
    if not org_id:
        raise TeamServeError("the stored login names no org: run `smvue-tui login` again")
    lock = WriterLock(url, org_id, schema_for(org_id))
    try:
        lock.acquire()
    except WriterRefused as exc:
        raise TeamServeError(str(exc)) from None
    except Exception as exc:  # psycopg's OperationalError: a server down, a refused login
        first = reason(exc)
        raise TeamServeError(f"cannot reach the team store at {redact(url)}: {first}") from None
    return OrgWriter(lock, org_id, f"{redact(url)} (schema {schema_for(org_id)})")
