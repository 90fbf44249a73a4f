"""The sync engine under the demo org's injected faults: every run ends with the store equal to
the org — nothing lost, nothing stored twice — however the transport, the session, the API
allocation or the query locators misbehave on the way."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from tests.integration.sync_run import diff, duplicated_tables, sync

SMALL_PAGES = 200  # Salesforce's smallest batch: many pages, so faults land mid-paging


@pytest.fixture
def db(tmp_path):
    database = open_store(tmp_path / "store.sqlite3")
    yield database
    database.close()


@pytest.fixture
def query_errors(monkeypatch) -> Counter:
    """Error codes that ended a query mid-way: proof the injected fault really fired."""
    seen: Counter = Counter()
    original = SalesforceClient.query_pages

    async def query_pages(self, soql, **kw):
        try:
            async for page in original(self, soql, **kw):
                yield page
        except Exception as exc:
            seen[getattr(exc, "code", type(exc).__name__)] += 1
            raise

    monkeypatch.setattr(SalesforceClient, "query_pages", query_pages)
    return seen


def _faults(running, **values) -> None:
    response = running.admin("POST", "/faults", json=values)
    assert response.status_code == 200, response.text


async def _initial_ok(running, db, **options):
    report = await sync(running, db, "initial", batch_size=SMALL_PAGES, **options)
    assert report.status == "ok", report.errors
    return report


async def _equal(running, db) -> None:
    assert diff(running) == []
    assert duplicated_tables(db) == []


async def test_server_error_bursts_during_initial_sync(demo, db):
    _faults(demo, error_rate=0.25)
    await _initial_ok(demo, db)
    _faults(demo, error_rate=0)
    await _equal(demo, db)


async def test_connections_dropped_mid_body(demo, db):
    _faults(demo, drop_rate=0.2)
    await _initial_ok(demo, db)
    _faults(demo, drop_rate=0)
    await _equal(demo, db)


# Every N calls all sessions expire. With N ≤ concurrency the other requests can use up a fresh
# session before a retry is sent; that is not a dead login (issue 20: it said "Log in again"),
# so a request refreshes again, up to requester.MAX_REFRESHES times.
@pytest.mark.parametrize(("every", "concurrency"), [(2, 1), (7, 4), (1, 4), (2, 4), (3, 4)])
async def test_session_expiring_between_pages(demo, db, every, concurrency):
    _faults(demo, session_expiry_calls=every)
    await _initial_ok(demo, db, concurrency=concurrency)
    demo.admin("POST", "/mutate", json={"count": 30})
    report = await sync(demo, db, batch_size=SMALL_PAGES, concurrency=concurrency)
    assert report.status == "ok", report.errors
    assert demo.admin("GET", "/faults").json()["authenticated_calls"] >= 3 * every
    _faults(demo, session_expiry_calls=0)
    await _equal(demo, db)


async def test_api_limit_mid_sync_pauses_then_a_second_run_completes(demo, db):
    limit = demo.org.usage.daily_limit
    # The whole initial sync of this org takes ~24 calls: 20 reach the deals' first pages (the
    # plan, counts and every object's first read start together; 15 sometimes did not) and
    # still stop before the end.
    demo.admin("POST", "/usage", json={"used": limit - 20})
    report = await sync(demo, db, "initial", batch_size=SMALL_PAGES)
    assert report.status == "paused"
    assert report.resumes_at
    assert report.errors[0]["code"] == "REQUEST_LIMIT_EXCEEDED"
    assert m.SyncRun.get().status == "paused"
    assert m.Opportunity.select().count() > 0  # it stopped midway, keeping what it had
    assert diff(demo) != []
    demo.admin("POST", "/usage", json={"used": 0})
    report = await sync(demo, db, "initial", batch_size=SMALL_PAGES)
    assert report.status == "ok", report.errors
    await _equal(demo, db)
    assert [r.status for r in m.SyncRun.select().order_by(m.SyncRun.id)] == ["paused", "ok"]


async def test_api_limit_mid_incremental_pauses_then_catches_up(demo, db):
    await _initial_ok(demo, db)
    demo.admin("POST", "/mutate", json={"count": 3000})  # more than one page of changes
    demo.admin("POST", "/usage", json={"used": demo.org.usage.daily_limit - 3})
    report = await sync(demo, db, batch_size=SMALL_PAGES)
    assert report.status == "paused", report.errors
    assert report.resumes_at
    demo.admin("POST", "/usage", json={"used": 0})
    report = await sync(demo, db, batch_size=SMALL_PAGES)
    assert report.status == "ok", report.errors
    await _equal(demo, db)


async def test_org_changing_while_the_initial_sync_pages(demo, db):
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            demo.admin("POST", "/mutate", json={"count": 5})

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        await _initial_ok(demo, db)
    finally:
        stop.set()
        thread.join()
    report = await sync(demo, db)
    assert report.status == "ok", report.errors
    await _equal(demo, db)


async def test_deletes_older_than_the_delete_log_are_found_by_id_check(demo, db):
    await _initial_ok(demo, db)
    gone = [d.id for d in m.Opportunity.select().order_by(m.Opportunity.id).limit(5)]
    for deal in gone:
        demo.admin("DELETE", f"/records/Opportunity/{deal}").raise_for_status()
    later = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    demo.admin("POST", "/purge-deleted", json={"before": later}).raise_for_status()
    report = await sync(demo, db)
    assert report.status == "ok", report.errors
    assert not m.Opportunity.select().where(m.Opportunity.id.in_(gone)).exists()
    await _equal(demo, db)


async def test_query_timeouts_split_large_queries_into_windows(demo, db, query_errors):
    _faults(demo, query_timeout_rows=150)
    await _initial_ok(demo, db)
    assert query_errors["QUERY_TIMEOUT"] > 0
    demo.admin("POST", "/mutate", json={"count": 40})
    report = await sync(demo, db)
    assert report.status == "ok", report.errors
    demo.admin("POST", "/mutate", json={"count": 400})  # more changes than one query may hold
    report = await sync(demo, db, batch_size=SMALL_PAGES)
    assert report.status == "ok", report.errors
    _faults(demo, query_timeout_rows=0)
    await _equal(demo, db)


@pytest.mark.parametrize(("max_locators", "size"), [(1, 300), (2, 600)])
async def test_evicted_query_locators_restart_from_the_checkpoint(make_org, db, max_locators,
                                                                  size, query_errors):
    running = make_org(size=size)  # two open locators are only evicted with many pages
    # Latency keeps several queries mid-paging at once, so locators really get evicted.
    _faults(running, max_locators=max_locators, latency_ms=20)
    await _initial_ok(running, db, concurrency=4)
    assert query_errors["INVALID_QUERY_LOCATOR"] > 0
    _faults(running, max_locators=10, latency_ms=0)
    await _equal(running, db)


async def test_expired_query_locators_restart_from_the_checkpoint(demo, db, query_errors):
    _faults(demo, locator_ttl=0)
    await _initial_ok(demo, db, concurrency=4)
    assert query_errors["INVALID_QUERY_LOCATOR"] > 0
    _faults(demo, locator_ttl=900)
    await _equal(demo, db)


async def test_reconcile_and_full_resync_under_every_fault_at_once(demo, db):
    await _initial_ok(demo, db)
    demo.admin("POST", "/mutate", json={"count": 100})
    _faults(demo, query_timeout_rows=120, locator_ttl=0, error_rate=0.1, drop_rate=0.05)
    for kind in ("reconcile", "full"):
        report = await sync(demo, db, kind, batch_size=SMALL_PAGES)
        assert report.status == "ok", (kind, report.errors)
    _faults(demo, query_timeout_rows=0, locator_ttl=900, error_rate=0, drop_rate=0)
    await _equal(demo, db)
