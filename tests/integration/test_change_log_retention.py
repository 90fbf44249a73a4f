"""A sync against the demo org (loopback HTTP) ends with the change log's retention: rows older
than ``Lookbacks.change_log_days`` keep only their stage and close-date steps, the rest go; a
webhook sync (a live update) leaves it for the next sync; each sync reads only the rows that
crossed the cutoff since the last one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from smvue_tui.store import changelog_retention as retention
from smvue_tui.store import models as m
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.engine import SyncEngine
from tests.integration.sync_support import client_for
from tests.postgres_server import open_test_store


@pytest.fixture
def db(tmp_path, store_backend):
    database = open_test_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def _sync(running, db, kind: str, today: date | None = None):
    async with client_for(running) as client:
        engine = SyncEngine(client, db, lookbacks=Lookbacks(change_log_days=400), today=today)
        try:
            return await engine.run(kind)
        finally:
            engine.close()


def _row(deal: str, days_ago: int, changes: dict) -> dict:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {"opportunity_id": deal, "changed_at": at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "seen_at": at.isoformat(), "changes": json.dumps(changes, sort_keys=True)}


async def test_a_sync_ends_by_pruning_the_change_log(demo, db):
    today = datetime.now(UTC).date()
    assert (await _sync(demo, db, "initial", today)).status == "ok"
    mark = m.SyncCursor.get_by_id(retention.MARK).watermark
    assert mark == retention.cutoff(today, 400)  # where the next sync's read starts
    deal = (m.Opportunity.select().where(m.Opportunity.is_closed == False)  # noqa: E712
            .order_by(m.Opportunity.id).first().id)
    amount_only = m.DealChange.create(**_row(deal, 380, {"Amount": [10.0, 20.0]}))
    staged = m.DealChange.create(**_row(deal, 370, {"Amount": [20.0, 30.0],
                                                    "StageName": ["Prospecting", "Proposal"]}))
    recent = m.DealChange.create(**_row(deal, 30, {"OwnerId": ["005a", "005b"]}))

    assert (await _sync(demo, db, "webhook", today)).status == "ok"  # a live update: not now
    assert m.DealChange.select().count() == 3
    assert (await _sync(demo, db, "incremental", today)).removed.get("pruned:deal_change") \
        is None  # nothing crossed the cutoff yet

    later = today + timedelta(days=40)  # 40 days on, the first two rows are past it
    report = await _sync(demo, db, "incremental", later)
    assert report.status == "ok", report.errors
    assert report.removed.get("pruned:deal_change") == 1
    assert m.DealChange.get_or_none(m.DealChange.id == amount_only.id) is None
    assert json.loads(m.DealChange.get_by_id(staged.id).changes) == {
        "StageName": ["Prospecting", "Proposal"]}
    assert json.loads(m.DealChange.get_by_id(recent.id).changes) == {"OwnerId": ["005a", "005b"]}
    fact = m.DealFact.get_by_id(deal)
    assert fact.l_stage == "Proposal" and "Amount" not in (fact.l_steps or "")
    assert m.SyncCursor.get_by_id(retention.MARK).watermark == retention.cutoff(later, 400)
