"""10,000 change notifications over loopback — 30% duplicates, shuffled — while a resync runs.

Every message is ACKed only once stored, nothing is lost, and the store ends equal to the org.
Throughput and latency are printed (run with -s), never asserted: they are figures for the note.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import httpx
import pytest

from smvue_tui.salesforce.outbound import ACK_BODY
from smvue_tui.services.live import LiveServices, LiveSettings
from smvue_tui.services.webhook import new_path_token
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.coordinator import SyncCoordinator
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.sync.plan import SPECS_BY_NAME
from tests.integration.sync_support import client_for, differences
from tests.postgres_server import open_test_store

TOTAL = 10_000
DUPLICATE_SHARE = 0.3
PER_MESSAGE = 10


def _message(org_id: str, items: list[tuple[str, str, str]]) -> bytes:
    notes = "".join(
        f"<Notification><Id>{nid}</Id><sObject xsi:type=\"sf:{sobject}\" "
        f"xmlns:sf=\"urn:sobject.enterprise.soap.sforce.com\"><sf:Id>{rid}</sf:Id>"
        f"</sObject></Notification>" for nid, sobject, rid in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>04k8W0000000001AAA</ActionId>"
        '<SessionId xsi:nil="true"/><EnterpriseUrl>x</EnterpriseUrl><PartnerUrl>x</PartnerUrl>'
        f"{notes}</notifications></soapenv:Body></soapenv:Envelope>").encode()


@pytest.fixture
def db(tmp_path, store_backend):
    database = open_test_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def test_ten_thousand_notifications_with_duplicates_while_resync_runs(demo, db):
    async def run(kind: str):
        async with client_for(demo) as client:
            engine = SyncEngine(client, db)
            try:
                return await engine.run(kind)
            finally:
                engine.close()

    assert (await run("initial")).status == "ok"
    changes = []
    for _ in range(3):
        answer = demo.admin("POST", "/mutate", json={"count": 400}).json()["changes"]
        changes += [c for c in answer if c["sobject"] in SPECS_BY_NAME]
    unique = int(TOTAL * (1 - DUPLICATE_SHARE))
    rng = random.Random(7)
    notes = [(f"04l8W{n:010d}", c["sobject"], c["id"])
             for n, c in zip(range(unique), (rng.choice(changes) for _ in range(unique)),
                             strict=True)]
    sent = notes + [rng.choice(notes) for _ in range(TOTAL - unique)]
    rng.shuffle(sent)
    messages = [_message(demo.org.org_id, sent[i:i + PER_MESSAGE])
                for i in range(0, len(sent), PER_MESSAGE)]

    lane = SyncCoordinator(run)
    live = LiveServices(lane.request, lane.cancel, lambda: lane.running,
                        LiveSettings(debounce_seconds=0.2))
    listener = await live.start_listener(db, demo.org.org_id, new_path_token())
    resync = asyncio.create_task(lane.request("incremental"))  # the scheduled resync, mid-load
    latencies: list[float] = []
    acks = 0
    semaphore = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=60) as http:
        async def post(body: bytes) -> None:
            nonlocal acks
            async with semaphore:
                started = time.perf_counter()
                response = await http.post(listener.local_url, content=body,
                                           headers={"Content-Type": "text/xml; charset=utf-8"})
                latencies.append(time.perf_counter() - started)
                acks += response.content == ACK_BODY

        began = time.perf_counter()
        await asyncio.gather(*(post(body) for body in messages))
        elapsed = time.perf_counter() - began
    await resync
    await lane.request("webhook")  # drain whatever the debounce has not fetched yet
    await lane.request("incremental")
    await live.stop()

    assert acks == len(messages)
    assert m.ChangeNotification.select().count() == unique
    assert not m.ChangeNotification.select().where(
        m.ChangeNotification.fetched_at.is_null()).exists()
    conn = demo.org.store.reader()
    try:
        assert differences(conn, Lookbacks(), __import__("datetime").date.today()) == []
    finally:
        conn.close()
    latencies.sort()
    print(f"\nlive load: {len(messages)} messages / {TOTAL} notifications in {elapsed:.2f}s = "
          f"{len(messages) / elapsed:.0f} requests/s, p50 "
          f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
          f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
