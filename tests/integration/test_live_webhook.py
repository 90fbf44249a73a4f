"""Live path end to end: the demo org's Outbound Message reaches our listener, the store follows.

And one notification can never stop it (issue 20, item 1): a message at the right path whose
record id is 900,000 characters (or another object's id) is refused before the ACK and stored
nowhere; rows an older version stored unchecked are set aside with their reason (shown by
``status``); a genuine change after them still arrives.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.salesforce.metadata import deploy_automation
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.sync.live import set_aside_counts
from tests.integration.sync_support import client_for
from tests.unit.salesforce.outbound_samples import envelope, notification_id

FIELDS = ["Id", "Name", "StageName", "Amount", "SystemModstamp"]
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def _admin(running, method: str, path: str, **kw) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, f"{running.base_url}/demo{path}", **kw)


async def deploy_to(listener: WebhookListener, client, running) -> None:
    """Point the org's Opportunity automation at ``listener``."""
    deployed = await deploy_automation(
        client.post_metadata_soap, ["Opportunity"], listener.local_url,
        {"Opportunity": FIELDS}, session_id=client.session.access_token,
        integration_user=running.org.username, api_version="67.0")
    assert deployed.ok, deployed.failures


@contextlib.asynccontextmanager
async def live(running, db):
    """A store synced from ``running``, and a started listener whose ``arrived`` event is set
    by each new notification: yields (client, engine, listener, arrived)."""
    async with client_for(running) as client:
        engine = SyncEngine(client, db)
        assert (await engine.run("initial")).status == "ok"
        writer = StoreWriter(db)
        arrived = asyncio.Event()
        listener = WebhookListener(writer, org_id=running.org.org_id,
                                   path_token=new_path_token(),
                                   on_new=lambda received: arrived.set())
        await listener.start()
        try:
            yield client, engine, listener, arrived
        finally:
            await listener.stop()
            writer.close()
            engine.close()


async def test_a_change_in_the_org_reaches_the_store_via_notification(demo, db):
    async with live(demo, db) as (client, engine, listener, arrived):
        await deploy_to(listener, client, demo)
        await change_arrives(demo, engine, arrived, "Send the order form", 123456.0)


async def change_arrives(running, engine, arrived: asyncio.Event, step: str,
                         amount: float) -> str:
    """Change an open deal in the org; its notification arrives, a webhook sync brings the
    change into the store and leaves nothing pending. Returns the deal's id."""
    deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
    await _admin(running, "PATCH", f"/records/Opportunity/{deal.id}",
                 json={"NextStep": step, "Amount": amount})
    await asyncio.wait_for(arrived.wait(), timeout=20)
    assert m.ChangeNotification.select().where(
        m.ChangeNotification.record_id == deal.id).exists()
    report = await engine.run("webhook")
    assert report.status == "ok", report.errors
    fresh = m.Opportunity.get_by_id(deal.id)
    assert fresh.next_step == step and fresh.amount == amount
    assert not m.ChangeNotification.select().where(
        m.ChangeNotification.fetched_at.is_null()).exists()
    return deal.id


def poison_body(org_id: str, record_id: str, n: int = 900) -> bytes:
    item = (f"<Notification><Id>{notification_id(n)}</Id>"
            '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f"<sf:Id>{record_id}</sf:Id></sObject></Notification>")
    return envelope(item, org_id=org_id)


async def test_a_poison_notification_is_refused_and_a_genuine_change_still_arrives(demo, db):
    async with live(demo, db) as (client, engine, listener, arrived):
        account = m.Account.select().first().id
        async with httpx.AsyncClient() as http:
            for n, bad in enumerate(["0" * 900_000, "006" + "A" * 40, account,
                                     "006XX000004A001QQQ"]):
                answer = await http.post(listener.local_url, headers=XML,
                                         content=poison_body(demo.org.org_id, bad, n))
                assert answer.status_code == 400 and b"Ack" not in answer.content
        assert not m.ChangeNotification.select().exists()
        # What an older version stored unchecked: it must not hold up what comes after.
        for n, bad in enumerate(["0" * 5000, account, "006XX000004A001"[:14]]):
            m.ChangeNotification.create(notification_id=f"04l{n:015d}", sobject="Opportunity",
                                        record_id=bad)
        await deploy_to(listener, client, demo)
        deal = await change_arrives(demo, engine, arrived, "Sign on Friday", 654321.0)
        assert set_aside_counts() == {"not a valid Opportunity id": 3}
        assert normalize_id(deal, "006") == deal
