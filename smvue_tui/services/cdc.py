"""Change Data Capture as a live mode: the org's change events, heard over the Pub/Sub API.

The app subscribes itself (no public URL). For each batch of events, in ONE store transaction:
the record ids become pending change notifications (as an Outbound Message's would) and the
batch's replay id is kept (``LiveReplay``). Then ``on_new`` triggers the debounced ``webhook``
sync that fetches those records by Id through the never-backwards upsert. So a restart resumes
right after the last stored batch: nothing is lost (a batch not stored is delivered again) and
nothing is stored twice (a stored batch is never asked for again; ids are unique per event).

Gap events (GAP_CREATE/UPDATE/DELETE/UNDELETE) carry record ids but no field values: their
records are re-read like any other. An overflow event (GAP_OVERFLOW) names no records: its
object's incremental resync is requested. A replay id Salesforce no longer knows (older than
the 72-hour retention) restarts from the newest event, with an incremental resync to cover the
hole; the first subscription does the same, so nothing between the last sync and it is missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from peewee import Database

from smvue_tui.salesforce.errors import ReauthorizationNeeded
from smvue_tui.salesforce.pubsub import ALL_CHANGES, Batch, PubSubClient, PubSubError
from smvue_tui.services.live_mode import BackgroundMode, OnNew, ResyncNeeded
from smvue_tui.services.webhook import Received
from smvue_tui.store import models as m
from smvue_tui.store.models import utcnow
from smvue_tui.sync.plan import SPECS_BY_NAME

log = logging.getLogger(__name__)


def stored_replay(topic: str, org_id: str) -> bytes | None:
    row = m.LiveReplay.get_or_none(m.LiveReplay.topic == topic)
    return bytes.fromhex(row.replay_id) if row is not None and row.org_id == org_id else None


def forget_replay(topic: str) -> None:
    m.LiveReplay.delete().where(m.LiveReplay.topic == topic).execute()


def store_batch(org_id: str, topic: str, batch: Batch,
                watched: frozenset[str]) -> tuple[list[Received], set[str]]:
    """Store a batch's record ids and its replay id together; returns the new notifications and
    the objects whose overflow events ask for a resync."""
    rows, overflow = [], set()
    for event in batch.events:
        if event.entity not in watched:
            continue
        if event.overflow:
            overflow.add(event.entity)
        for n, record_id in enumerate(event.record_ids):
            rows.append({"notification_id": f"{event.event_id}:{n}", "sobject": event.entity,
                         "record_id": record_id})
    with m.LiveReplay._meta.database.atomic():
        if rows:
            m.ChangeNotification.insert_many(rows).on_conflict_ignore().execute()
        m.LiveReplay.insert(topic=topic, org_id=org_id, replay_id=batch.latest_replay_id.hex(),
                            events=len(batch.events), updated_at=utcnow().isoformat(),
                            ).on_conflict(conflict_target=[m.LiveReplay.topic], update={
                                m.LiveReplay.org_id: org_id,
                                m.LiveReplay.replay_id: batch.latest_replay_id.hex(),
                                m.LiveReplay.events: m.LiveReplay.events + len(batch.events),
                                m.LiveReplay.updated_at: utcnow().isoformat()}).execute()
    return [Received(r["sobject"], r["record_id"]) for r in rows], overflow


class ChangeDataCapture(BackgroundMode):
    """The ``LiveMode`` on Salesforce's Pub/Sub API (``/data/ChangeEvents``)."""

    name = "Change Data Capture"

    def __init__(self, db: Database, org_id: str, session: Any, endpoint: str, *,
                 topic: str = ALL_CHANGES, retry_max: float = 60.0) -> None:
        super().__init__(db, org_id)
        self.session, self.endpoint = session, endpoint
        self.topic, self.retry_max = topic, retry_max
        self.watched = frozenset(SPECS_BY_NAME)
        self.state = "starting"  # streaming | retrying: … | stopped: … (for the card, status)
        self.stats = {"events": 0, "batches": 0, "gaps": 0, "overflows": 0, "reconnects": 0}
        self.streaming = asyncio.Event()  # set once a subscription is open (tests, the card)
        self._refreshed_last = False  # an UNAUTHENTICATED right after a refresh: back off

    async def stop(self) -> None:
        await super().stop()
        self.streaming.clear()

    async def _run(self, on_new: OnNew) -> None:
        backoff = 1.0
        while True:
            try:
                await self._subscribe_once(on_new)
                backoff = 1.0  # the stream ended cleanly (server restart): reconnect at once
            except ReauthorizationNeeded as exc:
                self.state = f"stopped: {exc.user_message}"
                return
            except PubSubError as exc:
                if exc.kind == "not_enabled":
                    self.state = f"stopped: {exc.user_message}"
                    log.warning("Change Data Capture: %s", exc)
                    return
                if exc.kind == "replay":  # too old: start from now and resync the hole
                    assert self._writer is not None
                    await self._writer.call(forget_replay, self.topic)
                    log.warning("stored replay id refused (%s): resubscribing from now", exc.code)
                    continue
                if exc.kind == "auth" and not self._refreshed_last:  # once, then back off
                    try:
                        if await self._refreshed():
                            self._refreshed_last = True
                            continue
                    except ReauthorizationNeeded as dead:
                        self.state = f"stopped: {dead.user_message}"
                        return
                self.state = f"retrying: {exc.detail or exc.code}"
                log.warning("Change Data Capture stream ended: %s", exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep listening; the resync covers what was missed
                self.state = "retrying: unexpected error"
                log.exception("Change Data Capture stream failed: %s", type(exc).__name__)
            self.streaming.clear()
            self.stats["reconnects"] += 1
            await asyncio.sleep(backoff)
            backoff = min(self.retry_max, backoff * 2)

    async def _refreshed(self) -> bool:
        """A new access token after UNAUTHENTICATED (False: the same one; wait, then retry)."""
        token = self.session.access_token
        await self.session.refresh(token)
        return self.session.access_token != token

    async def _subscribe_once(self, on_new: OnNew) -> None:
        writer = self._writer
        assert writer is not None
        replay = await writer.call(stored_replay, self.topic, self.org_id)
        client = PubSubClient(self.session, self.org_id, self.endpoint)
        try:
            async for batch in client.subscribe(self.topic, replay):
                fresh, overflow = await writer.call(store_batch, self.org_id, self.topic, batch,
                                                    self.watched)
                self._count(batch, overflow)
                if replay is None:  # a new position: what changed before it comes by resync
                    replay = batch.latest_replay_id
                    overflow.add("*")
                self.state = "streaming"
                self.streaming.set()
                self._refreshed_last = False
                if fresh:
                    on_new(fresh)
                if overflow:
                    on_new(ResyncNeeded(frozenset(overflow)))
        finally:
            await client.aclose()

    def _count(self, batch: Batch, overflow: set[str]) -> None:
        self.stats["batches"] += 1
        self.stats["events"] += len(batch.events)
        self.stats["gaps"] += sum(e.change_type.startswith("GAP_") for e in batch.events)
        self.stats["overflows"] += len(overflow)
