"""Read-only proof: every method+path the integration run sent through the guard, plus a fresh
representative workload (preflight, queries, describes, composite, collections, replication,
an initial sync, a token refresh, automation deploy + remove, revoke), is a read, an OAuth call,
a GET-only composite or a Metadata CRUD call on the automation types; writes are refused unsent.

Run with ``-s`` to see the list (normalised, sorted, unique).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import defusedxml.ElementTree as SafeET
import pytest

from smvue_tui.salesforce.bulk import BulkQueries
from smvue_tui.salesforce.errors import ReadOnlyViolation
from smvue_tui.salesforce.guard import ALLOWED_METADATA_TYPES, recording
from smvue_tui.salesforce.metadata_xml import delete_metadata_envelope
from smvue_tui.salesforce.preflight import run_preflight
from smvue_tui.salesforce.token_calls import revoke
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.sync.engine import SyncEngine
from tests.integration.guard_audit import normalise_path, summarise, why_allowed, write_report
from tests.integration.metadata_support import Automation
from tests.integration.sync_support import client_for

ENDPOINT = "https://hooks.example.org/smvue/outbound"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
METADATA_CALLS = {"createMetadata", "updateMetadata", "upsertMetadata", "readMetadata",
                  "deleteMetadata"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def soap_call(body: bytes) -> tuple[str, set[str]]:
    """(call name, metadata types) of one Metadata SOAP envelope."""
    envelope = SafeET.fromstring(body)
    [soap_body] = [el for el in envelope if _local(el.tag) == "Body"]
    [call] = list(soap_body)
    types = {el.get(XSI_TYPE, "") for el in call if _local(el.tag) == "metadata"}
    types |= {(el.text or "").strip() for el in call if _local(el.tag) == "type"}
    return _local(call.tag), types


async def workload(running, tmp_path, soap: list[tuple[str, set[str]]]) -> None:
    """What the app does against an org, end to end, through one logged-in client."""
    async with client_for(running) as client:
        assert (await run_preflight(client)).ok
        pages = [p async for p in client.query_pages(
            "SELECT Id, Name, Account.Name FROM Opportunity ORDER BY Id", batch_size=200)]
        assert len(pages) > 1
        ids = [r["Id"] for r in pages[0].records[:5]]
        assert await client.count("FROM Account") > 0
        await client.query_all_records("SELECT Id FROM Opportunity WHERE IsDeleted = true",
                                       include_deleted=True)
        await client.describe("Account")
        await client.composite([{"url": "limits"}, {"url": "sobjects/Contact/describe"}])
        assert len(await client.get_records("Opportunity", ids, ["Id", "Name"])) == 5
        await client.get_record("Opportunity", ids[0], ["Id", "Name"])
        now = datetime.now(UTC)
        await client.get_updated("Opportunity", now - timedelta(days=1), now)
        await client.get_deleted("Opportunity", now - timedelta(days=1), now)
        await client.limits()
        bulk = BulkQueries(client, poll_first=0.01)
        job = (await bulk.create("SELECT Id, Name FROM Opportunity"))["id"]
        await bulk.wait(job)
        assert sum([p.number async for p in bulk.pages(job, {})]) > 0
        await bulk.delete(job)
        await bulk.abort((await bulk.create("SELECT Id FROM Task", include_deleted=True))["id"])
        running.admin("POST", "/expire-sessions").raise_for_status()  # → token refresh

        db = open_store(tmp_path / "store.sqlite3")
        engine = SyncEngine(client, db, lookbacks=Lookbacks())
        try:
            assert (await engine.run("initial")).status == "ok"
        finally:
            engine.close()
            db.close()

        async def capturing_post(body: bytes) -> tuple[int, bytes]:
            soap.append(soap_call(body))
            return await client.post_metadata_soap(body)

        automation = Automation(client, running, post=capturing_post)
        deployed = await automation.deploy(["Opportunity"], ENDPOINT)
        assert deployed.ok and (await automation.remove(deployed)).ok
        creds = client.session.credentials
        await revoke(creds.environment, creds.refresh_token)


async def test_every_request_is_a_read_or_an_allowed_call(make_org, guard_recorder, tmp_path):
    earlier = list(guard_recorder.entries)
    running = make_org()
    soap: list[tuple[str, set[str]]] = []
    with recording() as log:
        await workload(running, tmp_path, soap)
    assert not log.refused
    lines = summarise([*earlier, *log.entries])
    print(f"\nEvery method+path sent through the read-only guard ({len(lines)} distinct, "
          f"{len(earlier) + len(log.entries)} requests and composite subrequests):")
    for line in lines:
        print(f"  {line:<78} {why_allowed(line) or 'NOT ALLOWED'}")
    assert [line for line in lines if why_allowed(line) is None] == []
    workload_lines = set(summarise(log.entries))
    assert {
        "GET /services/data/",
        "GET /services/data/vNN.0/query",
        "GET /services/data/vNN.0/query/{locator}",
        "GET /services/data/vNN.0/queryAll",
        "GET /services/data/vNN.0/sobjects/{sobject}/describe",
        "GET /services/data/vNN.0/sobjects/{sobject}/{id}",
        "GET /services/data/vNN.0/composite/sobjects/{sobject}",
        "GET /services/data/vNN.0/sobjects/{sobject}/describe (via composite)",
        "POST /services/data/vNN.0/composite",
        "POST /services/oauth2/token",
        "POST /services/oauth2/revoke",
        "POST /services/Soap/m/NN.0",
        "POST /services/data/vNN.0/jobs/query",
        "GET /services/data/vNN.0/jobs/query/{id}/results",
        "PATCH /services/data/vNN.0/jobs/query/{id}",
        "DELETE /services/data/vNN.0/jobs/query/{id}",
    } <= workload_lines
    assert {e.method for e in [*earlier, *log.entries] if e.via} <= {"GET"}
    # Metadata SOAP: only CRUD calls, only the three automation types.
    assert {call for call, _ in soap} == {"upsertMetadata", "deleteMetadata"}
    assert all(call in METADATA_CALLS and types and types <= ALLOWED_METADATA_TYPES
               for call, types in soap)
    sent = sum(1 for e in log.entries if e.path.startswith("/services/Soap/m/"))
    assert sent >= len(soap)  # every captured envelope went out through the guard


async def test_write_attempts_are_refused_and_never_sent(demo):
    async with client_for(demo) as client:
        [deal] = await client.query_all_records(
            "SELECT Id, Name FROM Opportunity ORDER BY Id LIMIT 1")
        deal_id = deal["Id"]
        used, calls = demo.org.usage.used, client.calls_sent
        attempts = [
            lambda: client.request("PATCH", f"sobjects/Opportunity/{deal_id}",
                                   json={"Name": "Overwritten by a bug"}),
            lambda: client.request("POST", "sobjects/Account", json={"Name": "Created by a bug"}),
            lambda: client.request("DELETE", f"sobjects/Opportunity/{deal_id}"),
            lambda: client.composite([{"method": "PATCH", "url": f"sobjects/Opportunity/{deal_id}",
                                       "body": {"Name": "Overwritten by a bug"}}]),
            lambda: client.post_metadata_soap(delete_metadata_envelope(
                client.session.access_token, "ApexClass", ["AnythingAtAll"])),
            lambda: client.request("POST", "jobs/ingest", json={
                "operation": "delete", "object": "Opportunity"}),  # Bulk writes: never
            lambda: client.request("POST", "jobs/query", json={
                "operation": "hardDelete", "query": "SELECT Id FROM Opportunity"}),
        ]
        with recording() as log:
            for attempt in attempts:
                with pytest.raises(ReadOnlyViolation):
                    await attempt()
        assert (demo.org.usage.used, client.calls_sent) == (used, calls)  # nothing reached it
        [after] = await client.query_all_records(
            f"SELECT Id, Name, IsDeleted FROM Opportunity WHERE Id = '{deal_id}'")
    assert after == {"Id": deal_id, "Name": deal["Name"], "IsDeleted": False}
    assert demo.org.store.get("Opportunity", deal_id)["Name"] == deal["Name"]
    assert log.entries == []
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in log.refused] == [
        ("PATCH", deal_id), ("POST", "Account"), ("DELETE", deal_id), ("POST", "composite"),
        ("POST", "67.0"), ("POST", "ingest"), ("POST", "query")]


def test_paths_are_normalised_and_shapes_classified():
    cases = {
        "/services/data/v67.0/sobjects/Opportunity/006Hs00001AbCdEfGH":
            "/services/data/vNN.0/sobjects/{sobject}/{id}",
        "/services/data/v66.0/query/01gHs00000XyZaBIAV-2000":
            "/services/data/vNN.0/query/{locator}",
        "/services/data/v67.0/sobjects/Account/describe":
            "/services/data/vNN.0/sobjects/{sobject}/describe",
        "/services/Soap/m/66.0": "/services/Soap/m/NN.0",
        "/id/00D8W0000jX3VYTUA3/0058W00000AbCdEQAR": "/id/{orgId}/{userId}",
        "/services/data/": "/services/data/",
    }
    assert {path: normalise_path(path) for path in cases} == cases
    assert why_allowed("POST /services/data/vNN.0/composite") == "GET-only composite"
    for bad in ("PATCH /services/data/vNN.0/sobjects/{sobject}/{id}",
                "POST /services/data/vNN.0/sobjects/{sobject}",
                "POST /services/data/vNN.0/composite/sobjects/{sobject}",
                "PATCH /services/data/vNN.0/sobjects/{sobject}/{id} (via composite)",
                "POST /services/data/vNN.0/jobs/ingest",
                "PATCH /services/data/vNN.0/jobs/ingest/{id}",
                "DELETE /services/data/vNN.0/jobs/query",
                "GET /evil.example/services/data"):
        assert why_allowed(bad) is None, bad


def test_report_file_merges_one_run_and_replaces_an_older_one(tmp_path):
    target = tmp_path / "guard.txt"
    write_report(["POST /b", "GET /a"], target, "run1")
    write_report(["GET /c"], target, "run1")  # a second xdist worker of the same run
    assert target.read_text().splitlines()[1:] == ["GET /a", "GET /c", "POST /b"]
    write_report(["GET /z"], target, "run2")
    assert target.read_text().splitlines() == [
        "# smvue-tui read-only guard report, run run2", "GET /z"]
