"""The read-only REST client against a served demo org: paging, describe, collections,
composite, replication windows, faults (expiring sessions, errors, dropped connections,
evicted locators) — and a list of every method+path it sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from smvue_tui.salesforce.client import SalesforceClient
from smvue_tui.salesforce.errors import (
    InvalidQueryLocator,
    ObjectUnavailable,
    ServerUnavailable,
)
from smvue_tui.salesforce.guard import recording


class DemoSession:
    """SessionLike over the demo org's password grant (a refresh is a fresh login)."""

    def __init__(self, demo) -> None:
        self.demo = demo
        body = demo.password_login()
        self.access_token: str = body["access_token"]
        self.instance_url: str = body["instance_url"]
        self.refreshes = 0
        self._lock = asyncio.Lock()

    async def refresh(self, failed_access_token: str) -> None:
        async with self._lock:
            if self.access_token != failed_access_token:
                return
            body = await asyncio.to_thread(self.demo.password_login)
            self.access_token = body["access_token"]
            self.refreshes += 1


def fault(demo, **values) -> None:
    demo.admin("POST", "/faults", json=values).raise_for_status()


async def no_sleep(_delay: float) -> None:
    return None


async def test_reads_the_org_and_sends_only_reads(demo):
    session = DemoSession(demo)
    with recording() as log:
        async with SalesforceClient(session, sleep=no_sleep) as sf:
            version = await sf.negotiate_version()
            total = await sf.count("FROM Opportunity")
            pages = [p async for p in sf.query_pages(
                "SELECT Id, Name, Account.Name FROM Opportunity ORDER BY Id", batch_size=200)]
            ids = [r["Id"] for p in pages for r in p.records]
            described = await sf.describe("Opportunity")
            assert await sf.describe("Opportunity") is described
            names = {o["name"] for o in (await sf.describe_global())["sobjects"]}
            sf.max_url_bytes = 3000  # force several sObject Collections calls
            rows = await sf.get_records("Opportunity", [*ids, "006000000000000AAA"],
                                        ["Id", "Name"])
            composite = await sf.composite([{"url": "limits"},
                                            {"url": "sobjects/Account/describe"}])
            now = datetime.now(UTC)
            updated = await sf.get_updated("Opportunity", now - timedelta(days=2), now)
            deleted = await sf.get_deleted("Opportunity", now - timedelta(days=2), now)
            limits = await sf.limits()
            with pytest.raises(ObjectUnavailable):
                await sf.describe("NoSuchThing__c")
            usage = sf.usage
    assert version == "66.0"
    assert total == len(ids) == len(set(ids)) == pages[0].total_size > 200
    assert len(pages) > 1 and pages[-1].done and "attributes" not in pages[0].records[0]
    assert {"name", "fields"} <= described.keys() and "Opportunity" in names
    assert [r["Id"] for r in rows[:-1]] == ids and rows[-1] is None
    assert [c["httpStatusCode"] for c in composite] == [200, 200]
    assert "ids" in updated and "deletedRecords" in deleted
    assert limits["DailyApiRequests"]["Max"] == usage.max and usage.used > 0
    sent = log.pairs()
    assert {method for method, _ in sent} == {"GET", "POST"}
    assert {path for method, path in sent if method == "POST"} == {
        "/services/data/v66.0/composite"}
    assert {e.method for e in log.entries if e.via} == {"GET"}
    assert not log.refused


async def test_survives_expiring_sessions_errors_and_drops(demo):
    fault(demo, session_expiry_calls=2, error_rate=0.2, drop_rate=0.1)
    session = DemoSession(demo)
    runs = []
    async with SalesforceClient(session, sleep=no_sleep, max_retries=8) as sf:
        for _ in range(4):
            runs.append([r["Id"] async for p in sf.query_pages(
                "SELECT Id FROM Opportunity ORDER BY Id", batch_size=200) for r in p.records])
    fault(demo, session_expiry_calls=0, error_rate=0, drop_rate=0)
    async with SalesforceClient(DemoSession(demo)) as sf:
        total = await sf.count("FROM Opportunity")
    assert all(len(run) == len(set(run)) == total for run in runs)
    assert session.refreshes >= 2


async def test_evicted_locator_surfaces_with_context(demo):
    fault(demo, max_locators=1)
    async with SalesforceClient(DemoSession(demo), sleep=no_sleep) as sf:
        first = sf.query_pages("SELECT Id FROM Opportunity", batch_size=200)
        page = await anext(first)
        assert not page.done
        # a second query opens another locator, evicting the first one
        await anext(sf.query_pages("SELECT Id, Name FROM Opportunity", batch_size=200))
        with pytest.raises(InvalidQueryLocator) as info:
            await anext(first)
    assert (info.value.pages_seen, info.value.records_seen) == (1, len(page.records))


async def test_wrong_port_is_server_unavailable_quickly():
    class Nowhere:
        access_token = "00Dx!nothing"
        instance_url = "http://127.0.0.1:9"

        async def refresh(self, failed_access_token: str) -> None:
            raise AssertionError("not reached")

    async with SalesforceClient(Nowhere(), max_retries=1, sleep=no_sleep, timeout=5) as sf:
        with pytest.raises(ServerUnavailable):
            await sf.limits()
