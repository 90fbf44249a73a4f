"""Budgeted polling: the live mode when neither Change Data Capture nor a public URL is there.

Every ``interval`` seconds (60) one ``/composite`` call asks, for up to five watched objects,
which rows changed since the last poll (``queryAll``: deletions too; Id and SystemModstamp
only). What it finds is stored as pending change notifications, exactly as an Outbound Message's
would be, and the debounced ``webhook`` sync fetches those records by Id through the
never-backwards upsert. A (record, SystemModstamp) pair is one notification id, so overlapping
polls never store a change twice.

It spends at most ``budget_share`` (2 %) of the org's daily API limit: when that is spent it
stops until the daily reset and says so; before that it spreads what is left over the rest of
the day. It slows down by itself when polls find nothing (doubling up to ``max_interval``) and
comes back to ``interval`` on ``activity()`` (a key press) or when a poll finds changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from peewee import Database

from smvue_tui.salesforce.client import composite_error
from smvue_tui.salesforce.errors import SalesforceError
from smvue_tui.salesforce.usage import next_pacific_midnight
from smvue_tui.services.live_mode import BackgroundMode, OnNew
from smvue_tui.services.webhook import Received
from smvue_tui.store import models as m
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.fetch import parse_stamp, soql_datetime

log = logging.getLogger(__name__)

POLLED = ("Opportunity", "Account", "Contact", "Task", "Event")  # what a manager watches most
PER_CALL = 5  # /composite allows five query subrequests per call
MAX_ROWS = 2000


@dataclass(frozen=True)
class PollSettings:
    interval: float = 60.0
    max_interval: float = 900.0  # idle ceiling: the scheduled resync's 15 minutes
    budget_share: float = 0.02  # of the org's daily API limit
    idle_after: int = 3  # empty polls before slowing down
    objects: tuple[str, ...] = POLLED


def next_interval(settings: PollSettings, current: float, empty_polls: int,
                  calls_left: int | None, seconds_to_reset: float) -> float:
    """The wait before the next poll: back to ``interval`` after a find, doubling while idle
    (up to ``max_interval``), never faster than what is left of the budget allows."""
    if empty_polls == 0:
        wait = settings.interval
    elif empty_polls >= settings.idle_after:
        wait = min(settings.max_interval, max(current, settings.interval) * 2)
    else:
        wait = max(current, settings.interval)
    if calls_left is not None and calls_left > 0:
        wait = max(wait, seconds_to_reset / calls_left)
    return wait


def _since(objects: tuple[str, ...]) -> dict[str, str]:
    """Each polled object's sync watermark (objects never synced are the initial sync's)."""
    rows = m.SyncCursor.select(m.SyncCursor.sobject, m.SyncCursor.watermark).where(
        m.SyncCursor.sobject.in_(list(objects)) & m.SyncCursor.watermark.is_null(False))
    return {sobject: watermark for sobject, watermark in rows.tuples()}


def _store(rows: list[tuple[str, str, str]]) -> list[Received]:
    """Store (sobject, Id, SystemModstamp) as notifications; returns the ones not seen before."""
    ids = [f"poll:{record_id}:{stamp}" for _, record_id, stamp in rows]
    seen = {i for (i,) in m.ChangeNotification.select(m.ChangeNotification.notification_id)
            .where(m.ChangeNotification.notification_id.in_(ids)).tuples()}
    fresh = [(i, row) for i, row in zip(ids, rows, strict=True) if i not in seen]
    with m.ChangeNotification._meta.database.atomic():
        if fresh:
            m.ChangeNotification.insert_many([
                {"notification_id": i, "sobject": s, "record_id": r, "modstamp": stamp}
                for i, (s, r, stamp) in fresh]).on_conflict_ignore().execute()
    return [Received(s, r) for _, (s, r, _) in fresh]


class Polling(BackgroundMode):
    """The ``LiveMode`` that asks Salesforce what changed, within a daily call budget."""

    name = "Polling"

    def __init__(self, db: Database, client_factory: Callable[[], Any],
                 settings: PollSettings | None = None, *, org_id: str = "") -> None:
        super().__init__(db, org_id)
        self.client_factory = client_factory
        self.settings = settings or PollSettings()
        self.interval = self.settings.interval
        self.state = "starting"
        self.stats = {"polls": 0, "calls_today": 0, "found": 0}
        self.daily_limit: int | None = None  # the org's, from the last usage reading
        self.resets_at: datetime | None = None
        self._empty = 0
        self._since: dict[str, str] = {}
        self._wake = asyncio.Event()

    # --- the budget ----------------------------------------------------------------------------

    @property
    def budget(self) -> int | None:
        """Calls polling may spend today (None until the first reading of the org's limit)."""
        if self.daily_limit is None:
            return None
        return max(1, math.floor(self.daily_limit * self.settings.budget_share))

    def calls_left(self) -> int | None:
        self._new_day()
        return None if self.budget is None else max(0, self.budget - self.stats["calls_today"])

    def _new_day(self) -> None:
        if self.resets_at is not None and datetime.now(UTC) >= self.resets_at:
            self.stats["calls_today"], self.resets_at = 0, None

    def _seconds_to_reset(self) -> float:
        if self.resets_at is None:
            return 0.0
        return max(0.0, (self.resets_at - datetime.now(UTC)).total_seconds())

    # --- the mode ------------------------------------------------------------------------------

    def restore(self, state: dict[str, Any] | None) -> None:
        """Count the calls an earlier run (same day) spent, so a restart cannot overspend."""
        if not state or state.get("mode") != self.name:
            return
        try:
            saved = datetime.fromisoformat(state["updated_at"])
        except (KeyError, TypeError, ValueError):
            return
        if next_pacific_midnight(saved) == next_pacific_midnight():  # the same budget day
            self.stats["calls_today"] = int(state["stats"].get("calls_today") or 0)
            self.resets_at = next_pacific_midnight()

    def activity(self) -> None:
        """Someone is at the keyboard: poll at the normal pace again, starting now."""
        self._empty = 0
        self.interval = self.settings.interval
        self._wake.set()

    async def _run(self, on_new: OnNew) -> None:
        while True:
            try:
                await self.poll_once(on_new)
            except asyncio.CancelledError:
                raise
            except SalesforceError as exc:
                self.state = f"retrying: {exc.user_message}"
                log.warning("poll failed: %s", exc)
            except Exception:  # keep polling; the scheduled resync covers what was missed
                self.state = "retrying: unexpected error"
                log.exception("poll failed")
            left = self.calls_left()
            if left == 0:
                wait = self._seconds_to_reset() or self.settings.max_interval
            else:
                self.interval = next_interval(self.settings, self.interval, self._empty, left,
                                              self._seconds_to_reset())
                wait = self.interval
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def poll_once(self, on_new: OnNew | None = None) -> int | None:
        """One poll; returns the new notifications stored (None: the budget is spent)."""
        if self.calls_left() == 0:
            self.state = (f"paused: polling budget spent ({self.stats['calls_today']} of "
                          f"{self.budget} calls today, {self.settings.budget_share:.0%} of the "
                          "daily API limit); resumes after the daily reset")
            return None
        self._writer = writer = self._writer or StoreWriter(self.db)
        since = await writer.call(_since, self.settings.objects)
        for sobject, stamp in self._since.items():  # the newer of the sync's and our own
            if sobject not in since or parse_stamp(stamp) > parse_stamp(since[sobject]):
                since[sobject] = stamp
        objects = [o for o in self.settings.objects if o in since]
        rows: list[tuple[str, str, str]] = []
        client = self.client_factory()
        try:
            for first in range(0, len(objects), PER_CALL):
                if first and self.calls_left() == 0:
                    break
                group = objects[first:first + PER_CALL]
                answers = await client.composite([
                    {"url": "queryAll?q=" + quote(
                        f"SELECT Id, SystemModstamp FROM {o} WHERE SystemModstamp >= "
                        f"{soql_datetime(since[o])} ORDER BY SystemModstamp ASC, Id ASC "
                        f"LIMIT {MAX_ROWS}", safe=""), "referenceId": o} for o in group],
                    essential=False)
                self.stats["calls_today"] += 1
                for item in answers:
                    rows += self._rows(item)
            usage = client.usage
        finally:
            await client.aclose()
        if usage.max:
            self.daily_limit, self.resets_at = usage.max, self.resets_at or usage.resets_at()
        fresh = await writer.call(_store, rows)
        self.stats["polls"] += 1
        self.stats["found"] += len(fresh)
        self._empty = 0 if fresh else self._empty + 1
        self.state = f"polling every {self.interval:.0f} s" + (
            f" ({self.calls_left()} calls left today)" if self.budget else "")
        if fresh and on_new is not None:
            on_new(fresh)
        return len(fresh)

    def _rows(self, item: dict[str, Any]) -> list[tuple[str, str, str]]:
        sobject = str(item.get("referenceId"))
        error = composite_error(item)
        if error is not None:
            log.warning("poll of %s failed: %s", sobject, error)
            return []
        records = (item.get("body") or {}).get("records") or []
        rows = [(sobject, r["Id"], r["SystemModstamp"]) for r in records]
        if rows:  # next time from the newest seen (>=, so same-second rows are not missed)
            newest = max(rows, key=lambda r: parse_stamp(r[2]))[2]
            self._since[sobject] = newest
        return rows
