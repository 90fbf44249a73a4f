"""The change-notification listener: Salesforce Outbound Messages in, ACKs out.

An aiohttp server on the app's own event loop (or ``smvue-tui serve``), at a path that carries
an unguessable token. For each POST: XML only, size-capped, parsed with defusedxml; the
OrganizationId must be the connected org's, and so must the store's Organization row (checked
at start and per message: the listener refuses another org's store); the notification ids are
written to the store *before* the ACK (so an ACKed notification is never lost); duplicates are
recognised by id and not fetched again. New record ids are handed to ``on_new`` (debounced by
the caller) which fetches them through the normal client and upsert path. Anything wrong gets
no ACK, so Salesforce retries it or gives up — and never crashes the app.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from smvue_tui.salesforce.outbound import (
    ACK_BODY,
    OutboundMessageError,
    ack_response_headers,
    org_ids_match,
    parse_notifications,
)
from smvue_tui.store import models as m
from smvue_tui.store.org_stores import StoreOrgMismatch, ensure_bound_store_is
from smvue_tui.store.writer_thread import StoreWriter

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")


def new_path_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Received:
    sobject: str
    record_id: str


def _record(org_id: str, notifications: list[tuple[str, str, str, str | None]]) -> list[Received]:
    """Store notification ids (ignoring ones seen before); returns the new ones' records.
    StoreOrgMismatch, nothing written, when the store holds another org."""
    ensure_bound_store_is(org_id)
    ids = [n[0] for n in notifications]
    seen = {i for (i,) in m.ChangeNotification.select(m.ChangeNotification.notification_id)
            .where(m.ChangeNotification.notification_id.in_(ids)).tuples()}
    fresh = [n for n in notifications if n[0] not in seen]
    with m.ChangeNotification._meta.database.atomic():
        for notification_id, sobject, record_id, modstamp in fresh:
            m.ChangeNotification.insert(
                notification_id=notification_id, sobject=sobject, record_id=record_id,
                modstamp=modstamp).on_conflict_ignore().execute()
    return [Received(n[1], n[2]) for n in fresh]


class WebhookListener:
    def __init__(self, writer: StoreWriter, *, org_id: str, path_token: str,
                 on_new: Callable[[list[Received]], None], host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.writer = writer
        self.org_id = org_id
        self.path = f"/sf/outbound/{path_token}"
        self.on_new = on_new
        self.host, self.port = host, port
        self.stats = {"acked": 0, "rejected": 0, "duplicates": 0}
        self._runner: web.AppRunner | None = None

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
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _reject(self, status: int, reason: str) -> web.Response:
        self.stats["rejected"] += 1
        log.warning("outbound message rejected (%s): %s", status, reason)
        return web.Response(status=status, text=reason)

    async def handle(self, request: web.Request) -> web.Response:
        if request.path != self.path:
            return self._reject(404, "not found")
        if request.method != "POST":
            return self._reject(405, "POST only")
        if request.content_type not in XML_TYPES:
            return self._reject(415, "XML only")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, "too large")
        try:
            message = parse_notifications(body, max_bytes=MAX_BODY)
        except OutboundMessageError as exc:
            return self._reject(400, exc.reason)
        if not org_ids_match(message.organization_id, self.org_id):
            return self._reject(403, "not the connected org")
        rows = [(n.id, n.sobject_type, n.record_id, n.fields.get("SystemModstamp"))
                for n in message.notifications if n.record_id]
        try:
            fresh = await self.writer.call(_record, self.org_id, rows)
        except StoreOrgMismatch as exc:  # no ACK: Salesforce keeps it for the right store
            return self._reject(409, str(exc))
        self.stats["duplicates"] += len(rows) - len(fresh)
        self.stats["acked"] += 1
        if fresh:
            self.on_new(fresh)
        return web.Response(body=ACK_BODY, headers=ack_response_headers())
