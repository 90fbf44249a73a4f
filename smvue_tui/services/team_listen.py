"""Hearing the team store's writer commit: PostgreSQL ``LISTEN`` on a connection of its own.

Every table a screen shows NOTIFYs its object's name on the org's channel when a transaction
that changed it commits (``store/team_tables.py``). ``ChangeListener`` runs as an asyncio task
on the app's loop, gathers the names heard within ``batch_seconds`` (a sync page touches several
tables at once) and hands them to ``on_change`` — the app turns them into ``StoreChanged``. No
timer polls the store. While commits stream in (an initial sync writes pages back to back) the
screens re-read at most once every ``min_interval`` seconds, the last commit's always included.

A dropped connection (server restart, network) is retried with back-off; once back, the screens
read everything again (``on_change(frozenset())``), since what was said meanwhile went unheard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from smvue_tui.errors import reason
from smvue_tui.store.team_tables import channel_for

log = logging.getLogger(__name__)


class ChangeListener:
    def __init__(self, url: str, schema: str, on_change: Callable[[frozenset[str]], None], *,
                 on_state: Callable[[str], None] | None = None,
                 batch_seconds: float = 0.05, min_interval: float = 1.0,
                 retry_max: float = 15.0) -> None:
        self.url = url
        self.channel = channel_for(schema)
        self.on_change = on_change
        self.on_state = on_state or (lambda _state: None)
        self.batch_seconds = batch_seconds
        self.min_interval = min_interval
        self._delivered_at = -min_interval
        self.retry_max = retry_max
        self.listening = asyncio.Event()
        self.state = "connecting"
        self._task: asyncio.Task[None] | None = None
        self._pending: set[str] = set()
        self._flush: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start listening (call on the loop that should run it)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _set_state(self, state: str) -> None:
        self.state = state
        self.on_state(state)

    async def _run(self) -> None:
        delay, heard_before = 0.5, False
        while True:
            try:
                await self._listen(resumed=heard_before)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused or dropped: try again, say so
                self.listening.clear()
                why = reason(exc)[:200]  # a state line the screen shows
                log.warning("team store listener: %s; retrying in %.0f s", why, delay)
                self._set_state(f"lost: {why}")
            heard_before = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    async def _listen(self, *, resumed: bool) -> None:
        import psycopg

        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=10, keepalives=1, keepalives_idle=30,
            application_name="smvue-tui (team mode listener)")
        try:
            await conn.execute(f'LISTEN "{self.channel}"')
            self.listening.set()
            self._set_state("listening")
            if resumed:  # changes made while we could not hear them: read everything again
                self.on_change(frozenset())
            async for notify in conn.notifies():
                self._heard(notify.payload)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    def _heard(self, name: str) -> None:
        self._pending.add(name)
        if self._flush is None:
            loop = asyncio.get_running_loop()
            delay = max(self.batch_seconds, self._delivered_at + self.min_interval - loop.time())
            self._flush = loop.call_later(delay, self._deliver)

    def _deliver(self) -> None:
        names, self._pending, self._flush = frozenset(self._pending), set(), None
        if not status_only(names):  # a header's update must not hold up the data after it
            self._delivered_at = asyncio.get_running_loop().time()
        try:
            self.on_change(names)
        except Exception:  # a reader's failure must not stop the hearing
            log.exception("team store change handler failed")


def status_only(names: frozenset[str]) -> bool:
    """Only the writer's own record moved (a heartbeat, a sync run's row): the header changes,
    the screens' data did not."""
    return bool(names) and names <= {"Writer", "SyncRun"}

