"""Live path end to end: the demo org's Outbound Message reaches our listener, the store follows."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from smvue_tui.salesforce.metadata import deploy_automation
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.engine import SyncEngine
from tests.integration.sync_support import client_for

FIELDS = ["Id", "Name", "StageName", "Amount", "SystemModstamp"]


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def _admin(running, method: str, path: str, **kw) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, f"{running.base_url}/demo{path}", **kw)


async def test_a_change_in_the_org_reaches_the_store_via_notification(demo, db):
    async with client_for(demo) as client:
        engine = SyncEngine(client, db)
        assert (await engine.run("initial")).status == "ok"
        writer = StoreWriter(db)
        arrived = asyncio.Event()
        listener = WebhookListener(writer, org_id=demo.org.org_id, path_token=new_path_token(),
                                   on_new=lambda received: arrived.set())
        await listener.start()
        try:
            deployed = await deploy_automation(
                client.post_metadata_soap, ["Opportunity"], listener.local_url,
                {"Opportunity": FIELDS}, session_id=client.session.access_token,
                integration_user=demo.org.username, api_version="67.0")
            assert deployed.ok, deployed.failures
            deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
            await _admin(demo, "PATCH", f"/records/Opportunity/{deal.id}",
                         json={"NextStep": "Send the order form", "Amount": 123456.0})
            await asyncio.wait_for(arrived.wait(), timeout=20)
            assert m.ChangeNotification.select().where(
                m.ChangeNotification.record_id == deal.id).exists()
            report = await engine.run("webhook")
            assert report.status == "ok", report.errors
            fresh = m.Opportunity.get_by_id(deal.id)
            assert fresh.next_step == "Send the order form" and fresh.amount == 123456.0
            assert not m.ChangeNotification.select().where(
                m.ChangeNotification.fetched_at.is_null()).exists()
        finally:
            await listener.stop()
            writer.close()
            engine.close()
