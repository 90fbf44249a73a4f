"""A sync against the demo org (loopback HTTP) ends with the change log's retention: rows older
than ``Lookbacks.change_log_days`` keep only their stage and close-date steps, the rest go; a
webhook sync (a live update) leaves it for the next sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

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


async def _sync(running, db, kind: str):
    async with client_for(running) as client:
        engine = SyncEngine(client, db, lookbacks=Lookbacks(change_log_days=400))
        try:
            return await engine.run(kind)
        finally:
            engine.close()


def _row(deal: str, days_ago: int, changes: dict) -> dict:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return {"opportunity_id": deal, "changed_at": at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "seen_at": at.isoformat(), "changes": json.dumps(changes, sort_keys=True)}


async def test_a_sync_ends_by_pruning_the_change_log(demo, db):
    assert (await _sync(demo, db, "initial")).status == "ok"
    deal = m.Opportunity.select().order_by(m.Opportunity.id).first().id
    amount_only = m.DealChange.create(**_row(deal, 500, {"Amount": [10.0, 20.0]}))
    staged = m.DealChange.create(**_row(deal, 450, {"Amount": [20.0, 30.0],
                                                    "StageName": ["Prospecting", "Proposal"]}))
    recent = m.DealChange.create(**_row(deal, 30, {"OwnerId": ["005a", "005b"]}))

    assert (await _sync(demo, db, "webhook")).status == "ok"  # a live update: not now
    assert m.DealChange.select().count() == 3

    report = await _sync(demo, db, "incremental")
    assert report.status == "ok", report.errors
    assert report.removed.get("pruned:deal_change") == 1
    assert m.DealChange.get_or_none(m.DealChange.id == amount_only.id) is None
    assert json.loads(m.DealChange.get_by_id(staged.id).changes) == {
        "StageName": ["Prospecting", "Proposal"]}
    assert json.loads(m.DealChange.get_by_id(recent.id).changes) == {"OwnerId": ["005a", "005b"]}
    fact = m.DealFact.get_by_id(deal)
    assert fact.l_stage == "Proposal" and "Amount" not in (fact.l_steps or "")
