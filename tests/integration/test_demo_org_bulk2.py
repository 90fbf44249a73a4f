"""Bulk API 2.0 query jobs in the demo org, driven by simple-salesforce's ``bulk2`` (a client
nobody here wrote) and by plain HTTP where the wire details matter."""

from __future__ import annotations

import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from smvue_demo_org.bulk_jobs import DAILY_QUERY_JOBS, EXTRA_KEY
from smvue_demo_org.profile import OrgProfile
from tests.integration.conftest import simple_salesforce

SOQL = "SELECT Id, Name, Amount, IsClosed, CloseDate, Account.Name FROM Opportunity"


@pytest.fixture
def sf(demo):
    return simple_salesforce(demo)


def _rows(page: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(page)))


def _as_csv(value) -> str:
    """How a REST JSON value reads in Bulk CSV (independent of the demo org's own code)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _wait(client, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(f"/jobs/query/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def test_job_pages_equal_a_rest_query_of_the_same_soql(sf, demo):
    pages = list(sf.bulk2.Opportunity.query(SOQL, max_records=120, wait=0.05))
    rest = sf.query_all(SOQL)["records"]
    assert len(rest) == demo.org.store.count("Opportunity") > 240  # three pages or more
    assert [len(_rows(p)) for p in pages][:-1] == [120] * (len(pages) - 1)
    bulk = {r["Id"]: r for p in pages for r in _rows(p)}
    assert len(bulk) == len(rest)
    assert list(_rows(pages[0])[0]) == ["Id", "Name", "Amount", "IsClosed", "CloseDate",
                                        "Account.Name"]
    for record in rest:
        row = bulk[record["Id"]]
        assert row["Name"] == record["Name"]
        assert row["Amount"] == _as_csv(record["Amount"])
        assert row["IsClosed"] == _as_csv(record["IsClosed"])
        assert row["CloseDate"] == _as_csv(record["CloseDate"])
        assert row["Account.Name"] == _as_csv((record["Account"] or {}).get("Name"))


def test_a_pk_chunked_job_reads_each_row_once_and_equals_one_pass(sf, demo, monkeypatch):
    # The Id-range simulation (QueryJobs.chunk_rows, a test knob) used to run the job's whole
    # query once per range and keep that range's rows: ~N+1 full queries for N ranges.
    from smvue_demo_org.soql import execute

    where = " WHERE IsClosed = false OR Amount > 1000"
    one_pass = list(sf.bulk2.Opportunity.query(SOQL + where, wait=0.05))
    built, real_stream = [], execute.PreparedQuery._stream

    def stream(self, conn):
        for record in real_stream(self, conn):
            built.append(len(record))
            yield record

    monkeypatch.setattr(execute.PreparedQuery, "_stream", stream)
    demo.org.extras[EXTRA_KEY].chunk_rows = 50
    chunked = list(sf.bulk2.Opportunity.query(SOQL + where, wait=0.05))
    rows = [r for p in chunked for r in _rows(p)]
    assert sorted(rows, key=lambda r: r["Id"]) == sorted(
        (r for p in one_pass for r in _rows(p)), key=lambda r: r["Id"])
    assert len(rows) > 150  # four ranges or more
    full = [n for n in built if n > 2]  # records with more than attributes and Id
    assert len(full) == len(rows)  # each row built once; the bounds from an Id-only pass
    assert len(built) == 2 * len(rows)


def test_query_all_job_includes_deleted_rows(sf, demo):
    victim = sf.query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")["records"][0]["Id"]
    assert demo.admin("DELETE", f"/records/Opportunity/{victim}").status_code == 200
    soql = "SELECT Id, IsDeleted FROM Opportunity"
    live = {r["Id"] for p in sf.bulk2.Opportunity.query(soql, wait=0.05) for r in _rows(p)}
    every = {r["Id"]: r["IsDeleted"]
             for p in sf.bulk2.Opportunity.query_all(soql, wait=0.05) for r in _rows(p)}
    assert victim not in live
    assert every[victim] == "true"
    assert set(every) == live | {victim}


def test_locator_paging_with_max_records_on_the_wire(demo):
    with demo.api() as client:
        job = client.post("/jobs/query", json={
            "operation": "query", "query": "SELECT Id FROM Account",
            "columnDelimiter": "PIPE", "lineEnding": "CRLF"})
        assert job.status_code == 200, job.text
        created = job.json()
        assert created["state"] == "UploadComplete" and created["id"].startswith("750")
        assert created["object"] == "Account" and created["apiVersion"] == 67.0
        info = _wait(client, created["id"])
        assert info["state"] == "JobComplete"
        total = demo.org.store.count("Account")
        assert info["numberRecordsProcessed"] == total > 50
        seen, locator, locators = [], None, []
        while locator != "null":
            params = {"maxRecords": 50} | ({"locator": locator} if locator else {})
            page = client.get(f"/jobs/query/{created['id']}/results", params=params)
            assert page.status_code == 200 and page.headers["content-type"].startswith(
                "text/csv")
            assert page.headers["content-encoding"] == "gzip"  # httpx accepts gzip
            lines = page.text.split("\r\n")
            assert lines[0] == '"Id"' and lines[-1] == ""
            body = lines[1:-1]
            assert int(page.headers["Sforce-NumberOfRecords"]) == len(body) <= 50
            seen += [line.strip('"') for line in body]
            locator = page.headers["Sforce-Locator"]
            locators.append(locator)
        assert len(seen) == len(set(seen)) == total
        assert len(locators) == -(-total // 50)
        # A locator stays valid while the job exists: the second set again, same rows.
        again = client.get(f"/jobs/query/{created['id']}/results",
                           params={"maxRecords": 50, "locator": locators[0]})
        assert [x.strip('"') for x in again.text.split("\r\n")[1:-1]] == seen[50:100]
        bad = client.get(f"/jobs/query/{created['id']}/results", params={"maxRecords": 0})
        assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALIDJOB"
        listed = client.get("/jobs/query").json()
        assert listed["done"] is True
        assert [j["id"] for j in listed["records"]] == [created["id"]]


def test_all_query_jobs_are_listed_in_pages_as_salesforce_documents(demo):
    # "Get Information About All Query Jobs": {done, records, nextRecordsUrl}, a page at a
    # time through the nextRecordsUrl's queryLocator; records with the guide's 13 fields.
    jobs = demo.org.extras[EXTRA_KEY]
    jobs.running.clear()
    jobs.list_page = 2
    with demo.api() as client:
        made = [client.post("/jobs/query", json={"operation": "query",
                                                 "query": "SELECT Id FROM Contact"}).json()["id"]
                for _ in range(5)]
        listed, url, pages = [], "/jobs/query", 0
        while url:
            body = client.get(url).json()
            pages += 1
            assert set(body) == {"done", "records", "nextRecordsUrl"}
            listed += body["records"]
            assert body["done"] is (body["nextRecordsUrl"] is None)
            url = body["nextRecordsUrl"] and body["nextRecordsUrl"].split("/v67.0", 1)[1]
        assert pages == 3 and sorted(j["id"] for j in listed) == sorted(made)
        assert set(listed[0]) == {
            "id", "operation", "object", "createdById", "createdDate", "systemModstamp",
            "state", "concurrencyMode", "contentType", "apiVersion", "jobType", "lineEnding",
            "columnDelimiter"}
        assert {(j["state"], j["jobType"], j["createdById"]) for j in listed} == {
            ("UploadComplete", "V2Query", demo.org.user_id)}
        for params in ({"jobType": "V2Ingest"}, {"jobType": "Classic"},
                       {"isPkChunkingEnabled": "true"}, {"concurrencyMode": "serial"}):
            assert client.get("/jobs/query", params=params).json()["records"] == [], params
        assert len(client.get("/jobs/query", params={"jobType": "V2Query",
                                                     "concurrencyMode": "parallel"}
                              ).json()["records"]) == 2
        assert client.get("/jobs/query", params={"queryLocator": "zz"}).status_code == 400
    jobs.running.set()


def test_abort_then_delete(demo):
    jobs = demo.org.extras[EXTRA_KEY]
    jobs.running.clear()  # hold jobs in UploadComplete so the abort lands before they run
    with demo.api() as client:
        job = client.post("/jobs/query", json={"operation": "query",
                                               "query": "SELECT Id FROM Contact"}).json()
        early = client.delete(f"/jobs/query/{job['id']}")  # not terminated yet
        assert early.status_code == 400 and early.json()[0]["errorCode"] == "API_ERROR"
        aborted = client.patch(f"/jobs/query/{job['id']}", json={"state": "Aborted"})
        assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
        demo.org.extras[EXTRA_KEY].running.set()
        time.sleep(0.1)
        assert client.get(f"/jobs/query/{job['id']}").json()["state"] == "Aborted"
        results = client.get(f"/jobs/query/{job['id']}/results")
        assert results.status_code == 412
        assert results.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
        again = client.patch(f"/jobs/query/{job['id']}", json={"state": "Aborted"})
        assert again.status_code == 400
        gone = client.delete(f"/jobs/query/{job['id']}")
        assert gone.status_code == 204 and gone.content == b""
        assert client.get(f"/jobs/query/{job['id']}").status_code == 404
        assert client.get("/jobs/query").json()["records"] == []


def test_simple_salesforce_sees_a_failed_job(sf, demo):
    demo.org.extras[EXTRA_KEY].fail_with = "InternalServerError: retried more than 15 times"
    with pytest.raises(SalesforceOperationError, match="retried more than 15 times"):
        list(sf.bulk2.Opportunity.query("SELECT Id FROM Opportunity", wait=0.05))


def test_refused_jobs_get_documented_error_bodies(sf, demo):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.bulk2.OpportunityStage.query("SELECT Id, MasterLabel FROM OpportunityStage",
                                        wait=0.05).__next__()
    assert err.value.content == [{"message": "Entity 'OpportunityStage' is not supported by "
                                  "the Bulk API.", "errorCode": "INVALIDENTITY"}]
    with demo.api() as client:
        for soql, code in [("SELECT Id FROM", "MALFORMED_QUERY"),
                           ("SELECT Nope__c FROM Account", "INVALID_FIELD"),
                           ("SELECT COUNT() FROM Account", "INVALIDJOB"),
                           ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "API_ERROR"),
                           ("SELECT Id, BillingAddress FROM Account", "API_ERROR"),
                           ("SELECT Id, Account.ShippingAddress FROM Contact", "API_ERROR"),
                           ("SELECT Id, Address FROM Lead", "API_ERROR")]:
            answer = client.post("/jobs/query", json={"operation": "query", "query": soql})
            assert answer.status_code == 400, soql
            assert answer.json()[0]["errorCode"] == code, soql
            if "Address" in soql:  # a real org's words (salesforcer's tests record them)
                assert answer.json()[0]["message"] == ("Selecting compound data not supported "
                                                       "in Bulk Query"), soql

        assert client.post("/jobs/query", json={"operation": "upsert",
                                                "query": "SELECT Id FROM Account"}
                           ).json()[0]["errorCode"] == "INVALIDJOB"
        assert client.get("/jobs/query/750000000000001AAA").status_code == 404
        assert demo.org.extras[EXTRA_KEY].jobs == {}
        # The components of a compound field are ordinary columns to Bulk.
        ok = client.post("/jobs/query", json={"operation": "query", "query":
                         "SELECT Id, BillingStreet, BillingLatitude FROM Account"})
        assert ok.status_code == 200


def test_every_call_counts_and_a_disabled_api_refuses(make_org):
    org = make_org()
    sent = []
    with org.api() as client:
        client.event_hooks["request"].append(sent.append)
        before = org.org.usage.total_calls
        job = client.post("/jobs/query", json={"operation": "query",
                                               "query": "SELECT Id FROM User"}).json()
        _wait(client, job["id"])
        client.get(f"/jobs/query/{job['id']}/results")
        client.delete(f"/jobs/query/{job['id']}")
        assert len(sent) >= 4
        assert org.org.usage.total_calls == before + len(sent)
        used = int(client.get("/limits").headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])
        assert used == org.org.usage.used >= len(sent)
        jobs = client.get("/limits").json()["DailyBulkV2QueryJobs"]
        assert jobs == {"Max": DAILY_QUERY_JOBS, "Remaining": DAILY_QUERY_JOBS - 1}
        org.org.extras[EXTRA_KEY].daily.set_used(DAILY_QUERY_JOBS)
        over = client.post("/jobs/query", json={"operation": "query",
                                                "query": "SELECT Id FROM User"})
        assert over.status_code == 400 and "10000 query jobs" in over.json()[0]["message"]
    off = make_org(profile=OrgProfile(api_enabled=False))
    token = off.password_login()["access_token"]
    with off.api(token) as client:
        refused = client.post("/jobs/query", json={"operation": "query",
                                                   "query": "SELECT Id FROM User"})
        assert refused.status_code == 403
        assert refused.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"


def test_api_versions_before_49_use_numeric_locators_and_before_47_have_no_jobs(demo):
    token = demo.password_login()["access_token"]
    with demo.api(token, version="46.0") as old:
        assert old.post("/jobs/query", json={"operation": "query",
                                             "query": "SELECT Id FROM Account"}
                        ).status_code == 404
    with demo.api(token, version="48.0") as client:
        job = client.post("/jobs/query", json={"operation": "query",
                                               "query": "SELECT Id FROM Account"}).json()
        _wait(client, job["id"])
        first = client.get(f"/jobs/query/{job['id']}/results", params={"maxRecords": 10})
        assert first.headers["Sforce-Locator"] == "10"
        second = client.get(f"/jobs/query/{job['id']}/results",
                            params={"maxRecords": 10, "locator": "10"})
        rows1, rows2 = first.text.splitlines()[1:], second.text.splitlines()[1:]
        assert len(rows1) == len(rows2) == 10 and not set(rows1) & set(rows2)
        assert second.headers["Sforce-Locator"] == "20"
    with demo.api(token, version="67.0") as newer:  # read with another version: 409
        assert newer.get(f"/jobs/query/{job['id']}/results").status_code == 409


def test_a_slow_job_is_seen_in_progress_and_can_be_aborted_there(demo):
    jobs = demo.org.extras[EXTRA_KEY]
    jobs.processing_seconds = lambda rows: 0.4 if rows > 100 else 0.0
    with demo.api() as client:
        slow = client.post("/jobs/query", json={"operation": "query",
                                                "query": "SELECT Id FROM Opportunity"}).json()
        states = set()
        while True:
            info = client.get(f"/jobs/query/{slow['id']}").json()
            states.add(info["state"])
            if info["state"] == "JobComplete":
                break
            time.sleep(0.02)
        assert "InProgress" in states
        assert info["totalProcessingTime"] >= 400
        doomed = client.post("/jobs/query", json={"operation": "query",
                                                  "query": "SELECT Id FROM Opportunity"}).json()
        while client.get(f"/jobs/query/{doomed['id']}").json()["state"] != "InProgress":
            time.sleep(0.01)
        assert client.patch(f"/jobs/query/{doomed['id']}",
                            json={"state": "Aborted"}).json()["state"] == "Aborted"
        time.sleep(0.5)  # past the processing time: an aborted job does not complete
        assert client.get(f"/jobs/query/{doomed['id']}").json()["state"] == "Aborted"
