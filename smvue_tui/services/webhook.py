"""The change-notification listener: Salesforce Outbound Messages in, ACKs out.

An aiohttp server on the app's own event loop (or ``smvue-tui serve``), at a path that carries
an unguessable token. For each POST: XML only, size-capped, parsed with defusedxml; the
OrganizationId must be the connected org's, and so must the store's Organization row (checked
at start and per message: the listener refuses another org's store); the notification ids are
written to the store *before* the ACK (so an ACKed notification is never lost); duplicates are
recognised by id and not fetched again. New record ids are handed to ``on_new`` (debounced by
the caller) which fetches them through the normal client and upsert path. Anything wrong gets
no ACK, so Salesforce retries it or gives up — and never crashes the app.

Everything from outside is checked at the door, before the ACK: ids are Salesforce ids of the
named object's key prefix (a 900,000-character "id" once blocked every fetch after it). The
server bounds what a client can hold: a body must arrive within ``BODY_SECONDS``, a connection
goes at most ``CONNECTION_SECONDS`` without a request answered (slow headers; a keep-alive
connection carrying a mass update is not cut mid-stream), at most ``MAX_CONNECTIONS`` are open
(more are closed).
Rejections are counted per reason and logged at most once per ``LOG_EVERY`` seconds each.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from smvue_tui.salesforce.outbound import (
    ACK_BODY,
    OutboundMessageError,
    ack_response_headers,
    org_ids_match,
    parse_notifications,
)
from smvue_tui.services.path_token import new_path_token, valid_path_token
from smvue_tui.store import models as m
from smvue_tui.store.models import utcnow
from smvue_tui.store.org_stores import StoreOrgMismatch, ensure_bound_store_is
from smvue_tui.store.writer_thread import StoreWriter

__all__ = ["Received", "WebhookListener", "new_path_token"]

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")
BODY_SECONDS = 10.0  # Salesforce sends ≤1 MB at once; a trickle is someone holding us
CONNECTION_SECONDS = 30.0
MAX_CONNECTIONS = 32
LOG_EVERY = 60.0


@dataclass(frozen=True)
class Received:
    sobject: str
    record_id: str


Row = tuple[str, str, str, str | None]  # notification id, object, record id, SystemModstamp


def _insert_sql(db: Any) -> str:
    """The one-row INSERT that skips an id already stored, in the store's own SQL dialect."""
    sql = _INSERT_SQL.get(type(db))
    if sql is None:
        sql, _ = m.ChangeNotification.insert_many(
            [("", "", "", None, "")], fields=_COLUMNS).on_conflict_ignore().sql()
        _INSERT_SQL[type(db)] = sql
    return sql


_COLUMNS = [m.ChangeNotification.notification_id, m.ChangeNotification.sobject,
            m.ChangeNotification.record_id, m.ChangeNotification.modstamp,
            m.ChangeNotification.received_at]
_INSERT_SQL: dict[type, str] = {}  # per database class: its dialect


def _record(org_id: str, messages: list[list[Row]]) -> list[list[Received]]:
    """Store the notification ids of several messages in ONE transaction (ids seen before, in
    the store or earlier in this batch, are skipped); per message, its new ones' records.
    StoreOrgMismatch, nothing written, when the store holds another org.

    One prepared INSERT a notification whose row count says whether the id was new: no SELECT
    first, and no query built per batch (peewee building a 200-row INSERT cost more than the
    write)."""
    ensure_bound_store_is(org_id)
    db = m.ChangeNotification._meta.database
    sql = _insert_sql(db)
    now = utcnow().isoformat()
    out: list[list[Received]] = []
    with db.atomic():
        cursor = db.cursor()
        for rows in messages:
            fresh: list[Received] = []
            for notification_id, sobject, record, stamp in rows:
                cursor.execute(sql, (notification_id, sobject, record, stamp, now))
                if cursor.rowcount == 1:  # 0: stored before, or earlier in this batch
                    fresh.append(Received(sobject, record))
            out.append(fresh)
    return out


class GroupCommit:
    """Group commit: messages that arrive while a commit runs wait for the next one, which
    stores them all in one transaction. Each message is still ACKed only once its own ids are
    durable; an idle listener commits at once (a batch of one), a busy one amortises the
    transaction — one per message held a mass update to ~70 messages/s."""

    def __init__(self, writer: StoreWriter, org_id: str) -> None:
        self.writer, self.org_id = writer, org_id
        self._waiting: list[tuple[list[Row], asyncio.Future[list[Received]]]] = []
        self._draining = False
        self.commits = 0  # transactions written (for tests and figures)

    async def record(self, rows: list[Row]) -> list[Received]:
        future: asyncio.Future[list[Received]] = asyncio.get_running_loop().create_future()
        self._waiting.append((rows, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self.writer.call(_record, self.org_id,
                                                     [rows for rows, _ in batch])
                except Exception as exc:  # every message of the batch: no ACK
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.commits += 1
                for (_, future), fresh in zip(batch, results, strict=True):
                    if not future.done():  # a caller that hung up is retried by Salesforce
                        future.set_result(fresh)
        finally:
            self._draining = False


class WebhookListener:
    def __init__(self, writer: StoreWriter, *, org_id: str, path_token: str,
                 on_new: Callable[[list[Received]], None], host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if not valid_path_token(path_token):  # an empty token would listen at /sf/outbound/
            raise ValueError("the webhook path token is empty or too short")
        self.writer = writer
        self.org_id = org_id
        self.path = f"/sf/outbound/{path_token}"
        self.on_new = on_new
        self.host, self.port = host, port
        self.stats = {"acked": 0, "rejected": 0, "duplicates": 0}
        self.commits = GroupCommit(writer, org_id)
        self.rejected: dict[str, int] = {}  # per reason
        self._logged: dict[str, tuple[float, int]] = {}  # reason → (last logged, count then)
        self._runner: web.AppRunner | None = None
        self._opened: dict[Any, float] = {}  # connection → when it opened
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def local_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def start(self) -> None:
        """Listen; StoreOrgMismatch (naming both orgs) when the store is another org's."""
        await self.writer.call(ensure_bound_store_is, self.org_id)
        self._runner = web.AppRunner(self.app(), access_log=None, keepalive_timeout=5.0)
        await self._runner.setup()
        self._bound_connections(self._runner.server)
        site = web.TCPSite(self._runner, self.host, self.port, backlog=MAX_CONNECTIONS)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _bound_connections(self, server: Any) -> None:
        """Close a connection beyond ``MAX_CONNECTIONS`` as soon as it opens."""
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: Any, transport: Any) -> None:
            made(handler, transport)
            if len(self._opened) >= MAX_CONNECTIONS:
                self._count("too many connections")
                # Once its handler has started (closing before made aiohttp's task fail).
                asyncio.get_running_loop().call_soon(transport.close)
                return
            self._opened[handler] = time.monotonic()

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            self._opened.pop(handler, None)
            lost(handler, exc)

        server.connection_made, server.connection_lost = connection_made, connection_lost

    async def _sweep(self) -> None:
        """Close connections that answered no request for ``CONNECTION_SECONDS`` (slow
        headers, or a request held that long)."""
        while True:
            await asyncio.sleep(min(5.0, CONNECTION_SECONDS / 3))
            cutoff = time.monotonic() - CONNECTION_SECONDS
            for handler, opened in list(self._opened.items()):
                if opened < cutoff:
                    self._opened.pop(handler, None)
                    self._count("connection held too long")
                    handler.force_close()
                    if handler.transport is not None:
                        handler.transport.close()

    def _count(self, reason: str) -> None:
        """Count a rejection; log it at most once per ``LOG_EVERY`` seconds per reason."""
        self.stats["rejected"] += 1
        total = self.rejected[reason] = self.rejected.get(reason, 0) + 1
        now = time.monotonic()
        last, then = self._logged.get(reason, (-LOG_EVERY, 0))
        if now - last >= LOG_EVERY:
            self._logged[reason] = (now, total)
            log.warning("outbound message rejected: %s (%d time(s) since the last such line)",
                        reason, total - then)

    def _reject(self, status: int, reason: str) -> web.Response:
        self._count(reason)
        return web.Response(status=status, text=reason)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        finally:
            if request.protocol in self._opened:  # it is doing work: its clock starts again
                self._opened[request.protocol] = time.monotonic()

    async def _handle(self, request: web.Request) -> web.Response:
        # Constant time: the path's token is the listener's one secret.
        if not hmac.compare_digest(request.path.encode(), self.path.encode()):
            return self._reject(404, "not found")
        if request.method != "POST":
            return self._reject(405, "POST only")
        if request.content_type not in XML_TYPES:
            return self._reject(415, "XML only")
        if (request.content_length or 0) > MAX_BODY:
            return self._reject(413, "too large")
        try:
            async with asyncio.timeout(BODY_SECONDS):  # no task per message, as wait_for made
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, "too large")
        except TimeoutError:
            return self._reject(408, "body too slow")
        try:
            message = parse_notifications(body, max_bytes=MAX_BODY)
        except OutboundMessageError as exc:
            return self._reject(400, exc.reason)
        if not org_ids_match(message.organization_id, self.org_id):
            return self._reject(403, "not the connected org")
        # The parser checked every id (record ids against their object's key prefix) and gave
        # them in canonical 18-character form, so one record is one row however it was sent.
        rows = [(n.id, n.sobject_type, n.record_id, n.fields.get("SystemModstamp"))
                for n in message.notifications]
        try:
            fresh = await self.commits.record(rows)
        except StoreOrgMismatch as exc:  # no ACK: Salesforce keeps it for the right store
            log.warning("%s", exc)  # the store's path and orgs: for the log, not the caller
            return self._reject(409, "the store here is not this org's")
        self.stats["duplicates"] += len(rows) - len(fresh)
        self.stats["acked"] += 1
        if fresh:
            self.on_new(fresh)
        return web.Response(body=ACK_BODY, headers=ack_response_headers())
