"""Outbound message delivery: record changes → queued notifications → SOAP POSTs until ACKed.

As Salesforce does it (protocol reference §5.3): a background sender batches up to 100
notifications per message, reads the records when it sends (not when they changed), retries a
whole message with exponential backoff capped at 2 hours, and drops it once it is 24 hours old.
Delivery is at least once and, with retries, out of order; ``duplicate_rate`` and ``shuffle``
make both happen on purpose.

Time is simulated so tests and demos need not wait: ``time_scale`` simulated seconds pass per
real second (86400 turns a day of retries into one second).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import threading
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from smvue_demo_org.automation import AutomationRegistry, Component, one
from smvue_demo_org.ids import to_18
from smvue_demo_org.org import DemoOrg
from smvue_demo_org.outbound_envelope import (
    HEADERS,
    is_ack,
    notifications_xml,
    sobject_xml,
)

log = logging.getLogger(__name__)

MAX_PER_MESSAGE = 100
FIRST_RETRY = 15.0  # simulated seconds before the first retry; doubles each time
MAX_RETRY = 2 * 3600.0
MAX_AGE = 24 * 3600.0
MAX_CONCURRENT_POSTS = 10


@dataclass
class _Notification:
    id: str
    sobject: str
    record_id: str


@dataclass
class _Message:
    action_id: str  # the WorkflowOutboundMessage's 04k id
    notifications: list[_Notification]
    created: float  # simulated seconds
    due: float
    failures: int = 0
    in_flight: bool = False


@dataclass
class _Stats:
    queued: int = 0  # notifications queued, ever
    attempts: int = 0  # POSTs made, duplicates included
    delivered: int = 0  # notifications in ACKed messages
    failed_attempts: int = 0  # POSTs not ACKed
    dropped: int = 0  # notifications given up on (24 h old, or their definition deleted)
    duplicates: int = 0  # extra POSTs of an already ACKed message
    messages_delivered: int = 0


class OutboundDispatcher:
    def __init__(self, org: DemoOrg, *, time_scale: float = 1.0, duplicate_rate: float = 0.0,
                 shuffle: bool = False, rng: random.Random | None = None,
                 http_timeout: float = 60.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if not 0 <= duplicate_rate <= 1:
            raise ValueError("duplicate_rate must be between 0 and 1")
        self.org = org
        self.time_scale = time_scale
        self.duplicate_rate = duplicate_rate
        self.shuffle = shuffle
        self.rng = rng or random.Random()
        self.http_timeout = http_timeout
        self._stats = _Stats()
        self._pending: dict[str, list[_Notification]] = {}
        self._messages: list[_Message] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id = 0
        self._real_start = 0.0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._posts = asyncio.Semaphore(MAX_CONCURRENT_POSTS)

    @property
    def stats(self) -> dict[str, int]:
        s = self._stats
        return {"queued": s.queued, "attempts": s.attempts, "delivered": s.delivered,
                "failed_attempts": s.failed_attempts, "dropped": s.dropped,
                "duplicates": s.duplicates, "messages_delivered": s.messages_delivered,
                "waiting": sum(map(len, self._pending.values()))
                + sum(len(m.notifications) for m in self._messages)}

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        self._real_start = self._loop.time()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.http_timeout))
        self.org.store.add_listener(self._on_change)
        self._runner = asyncio.create_task(self._run(), name="outbound-dispatcher")

    async def stop(self) -> None:
        if self._runner is None:
            return
        remove = getattr(self.org.store, "remove_listener", None)
        if callable(remove):
            with contextlib.suppress(ValueError):
                remove(self._on_change)
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def drain(self, timeout: float) -> None:
        """Wait (real seconds) until nothing is waiting to be delivered, or the timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    def now(self) -> float:
        """Simulated seconds since start."""
        if self._loop is None:
            return 0.0
        return (self._loop.time() - self._real_start) * self.time_scale

    # --- queueing ----------------------------------------------------------------------------

    def _on_change(self, change: Any) -> None:
        """Store listener; may be called from another thread, so hop onto the loop."""
        if self._runner is None or self._loop is None:
            return
        if threading.get_ident() != self._thread_id:
            self._loop.call_soon_threadsafe(self._enqueue, change)
        else:
            self._enqueue(change)

    def _enqueue(self, change: Any) -> None:
        registry: AutomationRegistry | None = self.org.automation
        if registry is None or change.kind == "delete":
            return
        for om in registry.outbound_for_change(change.sobject, change.kind):
            note = _Notification(registry.new_id("04l"), change.sobject, change.id)
            self._pending.setdefault(om.id, []).append(note)
            self._stats.queued += 1
        self._changed()

    def _changed(self) -> None:
        if self._pending or self._messages:
            self._idle.clear()
        else:
            self._idle.set()
        self._wake.set()

    def _form_messages(self) -> None:
        now = self.now()
        for action_id, notes in self._pending.items():
            if self.shuffle:
                self.rng.shuffle(notes)
            for i in range(0, len(notes), MAX_PER_MESSAGE):
                chunk = notes[i:i + MAX_PER_MESSAGE]
                self._messages.append(_Message(action_id, chunk, created=now, due=now))
        self._pending.clear()

    # --- sending -----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self._form_messages()
                now = self.now()
                due = [m for m in self._messages if not m.in_flight and m.due <= now]
                if self.shuffle:
                    self.rng.shuffle(due)
                for msg in due:
                    msg.in_flight = True
                    task = asyncio.create_task(self._attempt(msg))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                waiting = [m.due for m in self._messages if not m.in_flight]
            except Exception:  # a bug must not stop delivery for good
                log.exception("outbound dispatcher loop failed")
                waiting = [self.now() + FIRST_RETRY]
            sleep = (min(waiting) - self.now()) / self.time_scale if waiting else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), None if sleep is None
                                       else max(sleep, 0.0))

    async def _attempt(self, msg: _Message) -> None:
        registry: AutomationRegistry | None = self.org.automation
        om = registry.by_id(msg.action_id) if registry is not None else None
        try:
            if om is None:  # the definition was deleted: its queue goes with it
                self._finish(msg, dropped=True)
                return
            async with self._posts:
                url = one(om.body, "endpointUrl")
                body = await self._envelope(om, msg)
                ok = await self._post(url, body)
                if ok and self.duplicate_rate and self.rng.random() < self.duplicate_rate:
                    self._stats.duplicates += 1
                    await self._post(url, body)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbound message %s failed to build or send", msg.action_id)
            ok = False
        if ok:
            self._stats.delivered += len(msg.notifications)
            self._stats.messages_delivered += 1
            self._finish(msg)
            return
        msg.failures += 1
        retry_at = self.now() + min(FIRST_RETRY * 2 ** (msg.failures - 1), MAX_RETRY)
        if retry_at - msg.created > MAX_AGE:
            self._finish(msg, dropped=True)
        else:
            msg.due, msg.in_flight = retry_at, False
            self._changed()

    def _finish(self, msg: _Message, dropped: bool = False) -> None:
        if dropped:
            self._stats.dropped += len(msg.notifications)
        if msg in self._messages:
            self._messages.remove(msg)
        self._changed()

    async def _envelope(self, om: Component, msg: _Message) -> bytes:
        """The SOAP message, with each record as it is now (it may have changed or gone)."""
        obj = self.org.catalog.get(om.sobject)
        fields = [f.strip() for f in om.body.get("fields") or [] if isinstance(f, str)]
        items = []
        for note in msg.notifications:
            row = self.org.store.get(obj.name, note.record_id)
            if inspect.isawaitable(row):
                row = await row
            items.append((note.id, sobject_xml(obj, fields, note.record_id, row)))
        org18 = to_18(self.org.org_id)
        version = one(om.body, "apiVersion") or self.org.latest_version
        soap = f"{self.org.base_url}/services/Soap"
        return notifications_xml(org18, om.id, f"{soap}/c/{version}/{org18[:15]}",
                                 f"{soap}/u/{version}/{org18[:15]}", items)

    async def _post(self, url: str, body: bytes) -> bool:
        assert self._session is not None
        self._stats.attempts += 1
        try:
            async with self._session.post(url, data=body, headers=HEADERS) as resp:
                ok = is_ack(resp.status, await resp.read())
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.info("outbound message POST failed: %s", type(exc).__name__)
            ok = False
        if not ok:
            self._stats.failed_attempts += 1
        return ok


def add_outbound(app: web.Application, org: DemoOrg, **dispatcher_kwargs: Any
                 ) -> OutboundDispatcher:
    """A dispatcher that starts and stops with ``app``."""
    dispatcher = OutboundDispatcher(org, **dispatcher_kwargs)

    async def on_startup(_app: web.Application) -> None:
        await dispatcher.start()

    async def on_cleanup(_app: web.Application) -> None:
        await dispatcher.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return dispatcher
