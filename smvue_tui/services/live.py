"""Keeping the store fresh while the app stays open: the scheduler and the listener together.

``LiveServices`` runs on the caller's event loop (the TUI's, or ``smvue-tui serve``'s):

- an APScheduler ``AsyncIOScheduler``: an incremental resync every ``resync_minutes`` (15) and a
  reconciliation every ``reconcile_hours`` (6), both coalesced with a single instance, both
  going through the one sync lane (``request_sync``);
- a watchdog: a sync running longer than ``stuck_after`` is cancelled and started again (the
  product page: "If stuck for over 1 hour, click Sync Now");
- a live mode (``live_mode.py``: Outbound Messages today), when enabled, whose new
  notifications trigger a debounced ``webhook`` sync that fetches the named records by Id.

It only triggers; the work is the sync engine's, through the coordinator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from smvue_tui.services.live_mode import LiveMode, OutboundMessages, ResyncNeeded

log = logging.getLogger(__name__)


@dataclass
class LiveSettings:
    resync_minutes: float = 15.0
    reconcile_hours: float = 6.0
    stuck_after: timedelta = timedelta(hours=1)
    debounce_seconds: float = 0.5
    debounce_max_seconds: float = 2.0  # under a steady stream, fetch at least this often


class LiveServices:
    def __init__(self, request_sync: Callable[[str], Awaitable[Any]],
                 cancel_sync: Callable[[], bool], running: Callable[[], str | None],
                 settings: LiveSettings | None = None) -> None:
        self.request_sync = request_sync
        self.cancel_sync = cancel_sync
        self.running = running
        self.settings = settings or LiveSettings()
        self.scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                        "misfire_grace_time": 300})
        self.mode: LiveMode | None = None  # the started live mode, when notifications are on
        self._debounce: asyncio.TimerHandle | None = None
        self._first_pending: float | None = None
        self._sync_started: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_stop: list[Callable[[], Awaitable[Any]]] = []

    def start(self) -> None:
        """Start the schedule (call from a coroutine on the loop that should run it)."""
        s = self.settings
        self.scheduler.add_job(self._trigger, "interval", args=["incremental"],
                               minutes=s.resync_minutes, id="incremental")
        self.scheduler.add_job(self._trigger, "interval", args=["reconcile"],
                               hours=s.reconcile_hours, id="reconcile")
        self.scheduler.add_job(self._watchdog, "interval", minutes=1, id="watchdog")
        self.scheduler.start()

    async def start_mode(self, mode: LiveMode) -> LiveMode:
        """Start ``mode`` (stopping any other); what it hears triggers a debounced sync."""
        if self.mode is not None:
            await self.mode.stop()
        await mode.start(self.notified)
        self.mode = mode
        return mode

    async def start_listener(self, db: Any, org_id: str, path_token: str, *,
                             host: str = "127.0.0.1", port: int = 0) -> Any:
        """Outbound Messages on the webhook listener; returns the started listener."""
        mode = OutboundMessages(db, org_id, path_token, host=host, port=port)
        await self.start_mode(mode)
        return mode.listener

    @property
    def listener(self) -> Any:
        """The webhook listener while Outbound Messages is the live mode, else None."""
        return getattr(self.mode, "listener", None)

    def on_stop(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Await ``callback`` when the services stop (after the mode), e.g. a state reporter."""
        self._on_stop.append(callback)

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._debounce:
            self._debounce.cancel()
        if self.mode is not None:
            await self.mode.stop()
            self.mode = None
        for callback in self._on_stop:
            await callback()
        self._on_stop.clear()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def next_runs(self) -> dict[str, datetime | None]:
        """When each scheduled job runs next (for the Integrations card and status)."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()
                if job.id != "watchdog"}

    def notified(self, received: object = None) -> None:
        """New change notifications stored: fetch them after a short quiet spell (but never
        later than ``debounce_max_seconds`` after the first one, so a steady stream flows).
        ``ResyncNeeded``: changes without record ids; an incremental resync now."""
        if isinstance(received, ResyncNeeded):
            self._spawn("incremental")
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._first_pending = self._first_pending or now
        if self._debounce:
            self._debounce.cancel()
        deadline = self._first_pending + self.settings.debounce_max_seconds
        delay = max(0.0, min(self.settings.debounce_seconds, deadline - now))
        self._debounce = loop.call_later(delay, self._fire_webhook)

    def _fire_webhook(self) -> None:
        self._first_pending = None
        self._debounce = None
        self._spawn("webhook")

    def _spawn(self, kind: str) -> None:
        task = asyncio.get_running_loop().create_task(self._trigger(kind))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _trigger(self, kind: str) -> None:
        self._sync_started = self._sync_started or time.monotonic()
        try:
            await self.request_sync(kind)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed scheduled run is reported by the sync; keep the schedule
            log.exception("scheduled %s sync failed", kind)
        finally:
            if self.running() is None:
                self._sync_started = None

    async def _watchdog(self) -> None:
        started = self._sync_started
        if started is None or self.running() is None:
            return
        if time.monotonic() - started > self.settings.stuck_after.total_seconds():
            log.warning("sync running for over %s: cancelling and starting again",
                        self.settings.stuck_after)
            self.cancel_sync()
            self._sync_started = None
            self._spawn("incremental")
