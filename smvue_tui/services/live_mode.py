"""How change notifications reach the store while the app is open: one interface, one per mode.

``LiveServices`` starts one mode and stops it; the mode stores what it hears through the store's
writer and calls ``on_new`` so a debounced fetch pulls the named records through the normal sync
path. Outbound Messages (Salesforce POSTs to a public URL) is the mode here; Change Data Capture
over the Pub/Sub API and budgeted polling are further classes with the same three members.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from peewee import Database

from smvue_tui.store.writer_thread import StoreWriter

OnNew = Callable[[Any], None]


@dataclass(frozen=True)
class ResyncNeeded:
    """Passed to ``on_new`` when a mode heard that records changed without learning which (a
    Change Data Capture overflow, a new subscription): an incremental resync covers them."""

    sobjects: frozenset[str]


class LiveMode(Protocol):
    name: str  # what the Integrations card and ``serve`` call it

    async def start(self, on_new: OnNew) -> None:
        """Begin receiving; call ``on_new`` whenever new notifications are stored."""

    async def stop(self) -> None:
        """Stop receiving and release what ``start`` took (sockets, threads)."""


class BackgroundMode:
    """A mode that runs as one task on the caller's loop, writing through its own StoreWriter
    (Change Data Capture, polling); subclasses give ``name`` and ``_run(on_new)``."""

    name = "background"

    def __init__(self, db: Database, org_id: str = "") -> None:
        self.db, self.org_id = db, org_id
        self._writer: StoreWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, on_new: OnNew) -> None:
        """Start; StoreOrgMismatch (nothing started) when the store holds another org."""
        from smvue_tui.store.org_stores import ensure_bound_store_is

        self._writer = StoreWriter(self.db)
        try:
            await self._writer.call(ensure_bound_store_is, self.org_id)
        except BaseException:
            await self.stop()
            raise
        self._task = asyncio.get_running_loop().create_task(self._run(on_new), name=self.name)

    async def _run(self, on_new: OnNew) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class OutboundMessages:
    """Salesforce's Outbound Messages, received by the in-process webhook listener."""

    name = "Outbound Messages"

    def __init__(self, db: Database, org_id: str, path_token: str, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.db, self.org_id, self.path_token = db, org_id, path_token
        self.host, self.port = host, port
        self.listener: Any = None  # the WebhookListener while started
        self._writer: StoreWriter | None = None

    async def start(self, on_new: OnNew) -> None:
        from smvue_tui.services.webhook import WebhookListener

        self._writer = StoreWriter(self.db)
        self.listener = WebhookListener(self._writer, org_id=self.org_id,
                                        path_token=self.path_token, on_new=on_new,
                                        host=self.host, port=self.port)
        try:
            await self.listener.start()
        except BaseException:  # refused (another org's store) or the port is taken
            await self.stop()
            raise

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
