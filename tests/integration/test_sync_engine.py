"""The sync engine against a demo org over loopback: the store equals the org, always."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.engine import SyncEngine
from tests.integration.sync_support import client_for, differences
from tests.postgres_server import open_test_store

LOOKBACKS = Lookbacks()


def _today():
    return datetime.now(UTC).date()


async def _sync(running, db, kind="incremental", **engine_options):
    async with client_for(running) as client:
        engine = SyncEngine(client, db, lookbacks=LOOKBACKS, **engine_options)
        try:
            return await engine.run(kind)
        finally:
            engine.close()


def _diff(running):
    conn = running.org.store.reader()
    try:
        return differences(conn, LOOKBACKS, _today())
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path, store_backend):
    database = open_test_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def test_initial_sync_makes_the_store_equal_the_org(demo, db):
    report = await _sync(demo, db, "initial")
    assert report.status == "ok", report.errors
    assert _diff(demo) == []
    assert m.Opportunity.select().count() > 100
    assert m.SyncRun.get().status == "ok"


async def test_incremental_after_random_changes(demo, db):
    await _sync(demo, db, "initial")
    for _ in range(3):
        changed = demo.admin("POST", "/mutate", json={"count": 25}).json()["changes"]
        assert changed
        report = await _sync(demo, db)
        assert report.status == "ok", report.errors
        assert _diff(demo) == []


async def test_no_change_incremental_costs_at_most_four_calls(demo, db):
    await _sync(demo, db, "initial")
    await _sync(demo, db)
    report = await _sync(demo, db)
    assert report.status == "ok"
    assert report.api_calls <= 4


async def test_deal_closing_out_of_the_lookback_leaves_the_store(demo, db):
    await _sync(demo, db, "initial")
    deal = m.Opportunity.select().where(m.Opportunity.is_closed == False).first()  # noqa: E712
    demo.admin("PATCH", f"/records/Opportunity/{deal.id}",
               json={"StageName": "Closed Lost", "CloseDate": "2023-01-15"})
    await _sync(demo, db)
    assert m.Opportunity.get_or_none(m.Opportunity.id == deal.id) is None
    assert _diff(demo) == []


async def test_api_limit_pauses_never_succeeds(demo, db):
    demo.admin("POST", "/usage", json={"used": demo.org.usage.daily_limit})
    report = await _sync(demo, db, "initial")
    assert report.status == "paused"
    assert report.resumes_at
    assert m.SyncRun.get().status == "paused"
    asyncio.get_running_loop()  # still usable


async def test_reconcile_finds_rows_the_store_lost_and_reads_them_again(demo, db):
    await _sync(demo, db, "initial")
    lost_deals = [d.id for d in m.Opportunity.select().limit(5)]
    m.Opportunity.delete().where(m.Opportunity.id.in_(lost_deals)).execute()
    m.Activity.delete().where(m.Activity.kind == "Task").execute()
    assert (await _sync(demo, db)).status == "ok"
    assert _diff(demo) != []  # an incremental cannot know what it never saw change
    report = await _sync(demo, db, "reconcile")
    assert report.status == "ok", report.errors
    assert report.drift.get("Opportunity") == 5 and report.drift.get("Task", 0) > 0
    assert _diff(demo) == []


async def test_deal_reopened_while_an_initial_was_interrupted_brings_its_children(demo, db):
    """Deal children are read by semi-joins without waiting for the deals: a deal that enters
    the scope after its children's read went past it (here: reopened while the initial was
    paused with the children done and the deals half read) must still get its children."""
    await _sync(demo, db, "initial")
    cutoff = LOOKBACKS.closed_cutoff(_today()).isoformat()
    conn = demo.org.store.reader()
    try:
        old = conn.execute(
            "SELECT o.Id FROM Opportunity o JOIN OpportunityHistory h ON h.OpportunityId = o.Id "
            "WHERE o.IsDeleted = 0 AND o.IsClosed = 1 AND o.CloseDate < ? "
            "GROUP BY o.Id HAVING COUNT(*) > 1 LIMIT 1", (cutoff,)).fetchone()[0]
    finally:
        conn.close()
    # What a crash or pause leaves when the children finished first: deals past a cursor.
    deals = list(m.Opportunity.select().order_by(m.Opportunity.system_modstamp,
                                                 m.Opportunity.id))
    mid = deals[len(deals) // 2]
    m.Opportunity.delete().where(
        m.Opportunity.id.in_([d.id for d in deals[len(deals) // 2 + 1:]])).execute()
    m.SyncCursor.update(initial_done=False, watermark=mid.system_modstamp,
                        watermark_id=mid.id).where(m.SyncCursor.sobject == "Opportunity").execute()
    m.SyncRun.update(status="paused").execute()
    future = (_today() + timedelta(days=30)).isoformat()
    demo.admin("PATCH", f"/records/Opportunity/{old}",
               json={"StageName": "Prospecting", "CloseDate": future}).raise_for_status()
    report = await _sync(demo, db)
    assert report.status == "ok", report.errors
    assert m.Opportunity.get_or_none(m.Opportunity.id == old) is not None
    assert _diff(demo) == []
