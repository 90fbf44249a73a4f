"""Deploy/remove the change-notification automation through a real client, and a loopback
Outbound Message listener, for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.metadata import (
    DeployReport,
    RemovalReport,
    SoapPost,
    deploy_automation,
    remove_automation,
)
from smvue_tui.salesforce.outbound import (
    ACK_BODY,
    OutboundMessage,
    OutboundMessageError,
    ack_response_headers,
    parse_notifications,
)

FIELDS = {"Opportunity": ["Name", "StageName", "Amount", "CloseDate"],
          "Account": ["Name", "Industry"]}
LISTENER_PATH = "/sf/outbound"


class Automation:
    """Binds ``deploy_automation``/``remove_automation`` to a client: its guarded SOAP transport,
    its session's token, and a refresh that reuses a token the client already renewed."""

    def __init__(self, client: SalesforceClient, running: Any,
                 post: SoapPost | None = None) -> None:
        self.client = client
        self.running = running
        self.post = post or client.post_metadata_soap
        self._handed = ""

    def token(self) -> str:
        self._handed = self.client.session.access_token
        return self._handed

    async def refresh(self) -> str:
        session = self.client.session
        if session.access_token == self._handed:
            await session.refresh(self._handed)
        return self.token()

    async def deploy(self, objects: list[str], endpoint_url: str, **kw: Any) -> DeployReport:
        return await deploy_automation(self.post, objects, endpoint_url, FIELDS,
                                       session_id=self.token(), refresh=self.refresh,
                                       integration_user=self.running.org.username, **kw)

    async def remove(self, deployed: DeployReport) -> RemovalReport:
        return await remove_automation(self.post, deployed, session_id=self.token(),
                                       refresh=self.refresh)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """GET /demo/automation: what the org has deployed, by type."""
        response = self.running.admin("GET", "/automation")
        response.raise_for_status()
        return response.json()


class Listener:
    """What the loopback listener received: parsed messages, and bodies it rejected."""

    def __init__(self) -> None:
        self.messages: list[OutboundMessage] = []
        self.rejected: list[str] = []
        self.answers: list[bytes] = []
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        try:
            message = parse_notifications(await request.read())
        except OutboundMessageError as exc:
            self.rejected.append(exc.reason)
            return web.Response(status=400, text=exc.reason)
        self.messages.append(message)
        self.answers.append(ACK_BODY)
        self.arrived.set()
        return web.Response(status=200, body=ACK_BODY, headers=ack_response_headers())


@contextlib.asynccontextmanager
async def outbound_listener() -> AsyncIterator[Listener]:
    """An aiohttp listener on 127.0.0.1, port 0, on the caller's loop; ``.url`` to deploy."""
    listener = Listener()
    app = web.Application()
    app.router.add_post(LISTENER_PATH, listener.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        listener.url = f"http://127.0.0.1:{port}{LISTENER_PATH}"
        yield listener
    finally:
        await runner.cleanup()
