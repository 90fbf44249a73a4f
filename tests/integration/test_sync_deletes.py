"""Deletes are never lost: a run that cannot prove from the delete log that it saw every delete
since its cursor checks ids before it reports ok (issue 20, items 3 and 4)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from smvue_tui.store import models as m
from smvue_tui.sync.engine import SyncEngine
from smvue_tui.sync.plan import SPECS_BY_NAME
from tests.integration.sync_support import client_for
from tests.integration.test_sync_engine import LOOKBACKS, _diff
from tests.integration.test_sync_engine import _sync as sync_with
from tests.postgres_server import open_test_store

# The test's stand-in for "more than the 5-minute overlap passes": a 1-second overlap, then 2 s.
OVERLAP = timedelta(seconds=1)


@pytest.fixture
def db(tmp_path, store_backend):
    database = open_test_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


async def _sync(running, db, kind="incremental", **options):
    return await sync_with(running, db, kind, overlap=OVERLAP, **options)


def _delete_some_stored(running, every: int = 7) -> dict[str, list[str]]:
    """Delete in the org every ``every``-th stored row of the main objects; returns them."""
    deleted: dict[str, list[str]] = {}
    for name in ("Opportunity", "Account", "Contact", "Task", "Event"):
        spec = SPECS_BY_NAME[name]
        query = spec.model.select(spec.model.id).order_by(spec.model.id)
        if spec.constants.get("_kind"):
            query = query.where(spec.model.kind == spec.constants["_kind"])
        if spec.constants.get("_sobject"):
            query = query.where(spec.model.sobject == spec.constants["_sobject"])
        for (record_id,) in list(query.tuples())[::every]:
            row = running.org.store.get(name, record_id)
            if row is None or row.get("IsDeleted"):  # gone with its deal
                continue
            running.admin("DELETE", f"/records/{name}/{record_id}").raise_for_status()
            deleted.setdefault(name, []).append(record_id)
    return deleted


# A harmless change per object: it moves the object's cursor past the deletes.
TOUCH = {"Opportunity": {"NextStep": "Call back", "StageName": "Negotiation/Review"},
         "Account": {"Website": "https://example.com"}, "Contact": {"Title": "CFO"},
         "Task": {"Subject": "Follow up"}, "Event": {"Subject": "Review"}}


def _touch_one_each(running, deleted: dict[str, list[str]]) -> None:
    """Change one surviving stored record of each object, after the deletes (so each cursor
    moves past them and no change query with its overlap can see the deletes again)."""
    for name, values in TOUCH.items():
        model = SPECS_BY_NAME[name].model
        for (record_id,) in model.select(model.id).order_by(model.id.desc()).tuples():
            row = running.org.store.get(name, record_id)
            if record_id not in deleted.get(name, []) and row and not row.get("IsDeleted") \
                    and (name != "Opportunity" or not row.get("IsClosed")):
                running.admin("PATCH", f"/records/{name}/{record_id}",
                              json=values).raise_for_status()
                break


def _still_stored(deleted: dict[str, list[str]]) -> dict[str, int]:
    out = {}
    for name, ids in deleted.items():
        model = SPECS_BY_NAME[name].model
        left = model.select().where(model.id.in_(ids)).count()
        if left:
            out[name] = left
    return out


async def test_deletes_across_an_interrupted_initial_are_found(demo, db):
    """Kill (here: cancel) an initial mid-way, delete records in the org, let more than the
    overlap pass, sync twice: both runs say ok and the deleted records are gone."""
    async with client_for(demo) as client:
        engine = SyncEngine(client, db, lookbacks=LOOKBACKS, overlap=OVERLAP, batch_size=200)

        def progress(event):  # stop once some of the deals are stored, not all
            if (event.sobject == "Opportunity" and event.phase == "running"
                    and 0 < event.done < (event.total or 0)):
                engine.cancelled.set()

        engine.progress = progress
        with pytest.raises(asyncio.CancelledError):
            await engine.run("initial")
        engine.close()
    interrupted = [c.sobject for c in m.SyncCursor.select() if not c.initial_done]
    assert interrupted, "the initial was meant to stop part-way"
    deleted = _delete_some_stored(demo)
    assert sum(map(len, deleted.values())) > 20
    await asyncio.sleep(2 * OVERLAP.total_seconds())  # the delete log is older than the overlap
    _touch_one_each(demo, deleted)
    first = await _sync(demo, db)
    assert first.status == "ok", first.errors
    # The interrupted objects' deletes no delete log covers: gone before the run said ok.
    # (Objects whose initial had finished are proved by the delete log, which Salesforce
    # covers up to the last whole minute: the rest come with the next run.)
    assert _still_stored({k: v for k, v in deleted.items() if k in interrupted}) == {}
    second = await _sync(demo, db)
    assert second.status == "ok", second.errors
    assert _still_stored(deleted) == {}
    assert _diff(demo) == []


async def test_full_sync_removes_what_the_org_no_longer_has(demo, db):
    """Rows the delete log can no longer tell about (here: purged) are removed by --full."""
    assert (await _sync(demo, db, "initial")).status == "ok"
    # What a store that missed deletes looks like: the org deleted rows and the log of it is
    # gone (older than Salesforce keeps, or purged), while the delete checkpoint is recent.
    deleted = _delete_some_stored(demo, every=5)
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    demo.admin("POST", "/purge-deleted", json={"before": later}).raise_for_status()
    assert _still_stored(deleted)
    report = await _sync(demo, db, "full")
    assert report.status == "ok", report.errors
    assert _still_stored(deleted) == {}
    assert sum(report.removed.get(name, 0) for name in deleted) >= sum(
        map(len, deleted.values()))
    assert _diff(demo) == []
