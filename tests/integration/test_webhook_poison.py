"""One notification can never stop real-time updates (issue 20, item 1).

A message at the right path whose record id is 900,000 characters (or another object's id) is
refused before the ACK and stored nowhere; rows an older version stored unchecked are set
aside with their reason (shown by ``status``); a genuine change after them still arrives.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.salesforce.metadata import deploy_automation
from smvue_tui.services.webhook import WebhookListener, new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.sync.fetch import StoreWriter
from smvue_tui.sync.live import set_aside_counts
from tests.unit.salesforce.outbound_samples import envelope, notification_id

FIELDS = ["Id", "Name", "StageName", "Amount", "SystemModstamp"]
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


def poison_body(org_id: str, record_id: str, n: int = 900) -> bytes:
    item = (f"<Notification><Id>{notification_id(n)}</Id>"
            '<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f"<sf:Id>{record_id}</sf:Id></sObject></Notification>")
    return envelope(item, org_id=org_id)


async def test_a_poison_notification_is_refused_and_a_genuine_change_still_arrives(demo, db):
    from tests.integration.sync_support import client_for

    async with client_for(demo) as client:
        engine = SyncEngine(client, db)
        assert (await engine.run("initial")).status == "ok"
        writer = StoreWriter(db)
        arrived = asyncio.Event()
        listener = WebhookListener(writer, org_id=demo.org.org_id, path_token=new_path_token(),
                                   on_new=lambda received: arrived.set())
        await listener.start()
        try:
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
            deployed = await deploy_automation(
                client.post_metadata_soap, ["Opportunity"], listener.local_url,
                {"Opportunity": FIELDS}, session_id=client.session.access_token,
                integration_user=demo.org.username, api_version="67.0")
            assert deployed.ok, deployed.failures
            deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
            async with httpx.AsyncClient() as http:
                await http.patch(f"{demo.base_url}/demo/records/Opportunity/{deal.id}",
                                 json={"NextStep": "Sign on Friday", "Amount": 654321.0})
            await asyncio.wait_for(arrived.wait(), timeout=20)
            report = await engine.run("webhook")
            assert report.status == "ok", report.errors
            fresh = m.Opportunity.get_by_id(deal.id)
            assert fresh.next_step == "Sign on Friday" and fresh.amount == 654321.0
            assert not m.ChangeNotification.select().where(
                m.ChangeNotification.fetched_at.is_null()).exists()
            assert set_aside_counts() == {"not a valid Opportunity id": 3}
            assert normalize_id(deal.id, "006") == deal.id
        finally:
            await listener.stop()
            writer.close()
            engine.close()
