"""The Bulk API 2.0 query client against canned Salesforce answers (pytest-httpx): the CSV of a
results page becomes the typed records a REST query gives; jobs are created, polled, paged by
locator, aborted and deleted; what Bulk cannot serve is BulkUnavailable."""

from __future__ import annotations

import gc
import json
import re
import weakref

import pytest

from smvue_tui.salesforce.bulk import BulkQueries, BulkUnavailable
from smvue_tui.salesforce.bulk_csv import CsvRecords, unsupported_fields
from smvue_tui.salesforce.errors import RateLimitExceeded, SalesforceError
from tests.unit.salesforce.client_fakes import BASE, LIMIT_INFO, make_client, rest_error

JOB = "750XX0000000001AAA"
JOB_URL = f"{BASE}/jobs/query/{JOB}"
TYPES = {"Id": "id", "Name": "string", "Amount": "currency", "Probability": "percent",
         "IsWon": "boolean", "CloseDate": "date", "SystemModstamp": "datetime",
         "NumberOfEmployees": "int", "Account.Name": "string", "Account.Owner.Email": "email"}


def info(state: str, **extra) -> dict:
    return {"id": JOB, "operation": "query", "object": "Opportunity", "state": state,
            "apiVersion": 66.0, "numberRecordsProcessed": 3, **extra}


def test_csv_values_become_rest_types():
    text = ('"Id","Name","Amount","Probability","IsWon","CloseDate","SystemModstamp",'
            '"NumberOfEmployees","Account.Name","Account.Owner.Email"\n'
            '"006A","Big ""deal"", with comma","1500.5","10.0","true","2026-01-31",'
            '"2026-11-01T09:14:05.000Z","0.0","Acme","a@b.c"\n'
            '"006B",,,,"false",,"2026-11-02T10:00:00.000Z",,,\n'
            '"006C","multi\nline","","","false","","2026-11-03T00:00:00.000Z","12","Beta",""\n')
    records = CsvRecords(TYPES).parse(text.encode())
    assert records[0] == {
        "Id": "006A", "Name": 'Big "deal", with comma', "Amount": 1500.5, "Probability": 10.0,
        "IsWon": True, "CloseDate": "2026-01-31", "SystemModstamp": "2026-11-01T09:14:05.000+0000",
        "NumberOfEmployees": 0, "Account": {"Name": "Acme", "Owner": {"Email": "a@b.c"}}}
    # nulls, empty quoted strings alike; an empty lookup is None as REST sends it
    assert records[1] == {"Id": "006B", "Name": None, "Amount": None, "Probability": None,
                          "IsWon": False, "CloseDate": None,
                          "SystemModstamp": "2026-11-02T10:00:00.000+0000",
                          "NumberOfEmployees": None, "Account": None}
    assert records[2]["Name"] == "multi\nline"
    assert records[2]["Account"] == {"Name": "Beta", "Owner": {"Email": None}}
    assert type(records[2]["NumberOfEmployees"]) is int and type(records[0]["Amount"]) is float


def test_a_page_is_parsed_in_batches_as_they_are_asked_for():
    text = '"Id","N"\n' + "".join(f'"{i}","{i}"\n' for i in range(5))
    batches = CsvRecords({"N": "int"}).batches(text.encode(), 2)
    assert next(batches) == [{"Id": "0", "N": 0}, {"Id": "1", "N": 1}]
    assert [len(b) for b in batches] == [2, 1]


def test_columns_without_a_known_type_stay_text_and_header_case_is_matched():
    records = CsvRecords({"amount": "double"}).parse('"Id","Amount","Other"\n"1","2","3"\n')
    assert records == [{"Id": "1", "Amount": 2.0, "Other": "3"}]
    assert CsvRecords({}).parse(b"") == []


@pytest.mark.parametrize("text", [
    '"Id","IsWon"\n"1","maybe"\n',  # not a boolean
    '"Id","Amount"\n"1","12,5"\n',  # not a number
    '"Id","Amount"\n"1"\n',  # a short row
    '"Id","Name"\n"1","unterminated\n',  # a quote never closed
])
def test_unreadable_results_are_a_clear_error(text):
    with pytest.raises(SalesforceError) as info_:
        CsvRecords({"IsWon": "boolean", "Amount": "double"}).parse(text)
    assert info_.value.code == "BAD_BULK_CSV"
    assert "Bulk API results could not be read" in info_.value.detail


def test_compound_and_binary_fields_are_named_as_unsupported():
    assert unsupported_fields({"Id": "id", "BillingAddress": "address", "Body": "base64",
                               "Location__c": "location", "Name": "string"}) == [
        "BillingAddress", "Body", "Location__c"]


async def test_a_job_is_created_polled_and_read_page_by_page(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{BASE}/jobs/query", headers=LIMIT_INFO,
                            json=info("UploadComplete"))
    httpx_mock.add_response(method="GET", url=JOB_URL, json=info("InProgress"))
    httpx_mock.add_response(method="GET", url=JOB_URL, json=info("JobComplete"))
    httpx_mock.add_response(
        method="GET", url=f"{JOB_URL}/results?maxRecords=2",
        headers={"Sforce-Locator": "MgX", "Sforce-NumberOfRecords": "2"},
        content=b'"Id","IsWon"\n"006A","true"\n"006B","false"\n')
    httpx_mock.add_response(
        method="GET", url=f"{JOB_URL}/results?maxRecords=2&locator=MgX",
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
        content=b'"Id","IsWon"\n"006C",""\n')
    httpx_mock.add_response(method="DELETE", url=JOB_URL, status_code=204)
    async with make_client() as sf:
        bulk = BulkQueries(sf, poll_first=0.001, max_records=2)
        created = await bulk.create("SELECT Id, IsWon FROM Opportunity", include_deleted=True)
        done = await bulk.wait(created["id"])
        pages = [p async for p in bulk.pages(JOB, {"IsWon": "boolean"})]
        await bulk.delete(JOB)
        assert sf.calls_sent == 6 and bulk.jobs_created == 1
    assert done["state"] == "JobComplete"
    assert [(p.records, p.next_locator, p.number) for p in pages] == [
        ([{"Id": "006A", "IsWon": True}, {"Id": "006B", "IsWon": False}], "MgX", 2),
        ([{"Id": "006C", "IsWon": None}], None, 1)]
    create = httpx_mock.get_requests()[0]
    assert json.loads(create.content) == {
        "operation": "queryAll", "query": "SELECT Id, IsWon FROM Opportunity",
        "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}


async def test_polls_double_to_a_two_second_cap(httpx_mock):
    # At a 10 s cap, jobs that finished just after a poll sat unread 4–10 s (issue 15's trace).
    for _ in range(8):
        httpx_mock.add_response(method="GET", url=JOB_URL, json=info("InProgress"))
    httpx_mock.add_response(method="GET", url=JOB_URL, json=info("JobComplete"))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with make_client() as sf:
        done = await BulkQueries(sf, sleep=sleep).wait(JOB)
    assert done["state"] == "JobComplete"
    assert waits == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0]


async def test_results_resume_from_a_saved_locator_with_the_jobs_version(httpx_mock):
    url = f"{BASE.replace('v66.0', 'v61.0')}/jobs/query/{JOB}/results?maxRecords=10000&locator=NDA"
    httpx_mock.add_response(method="GET", url=url, content=b'"Id"\n"006Z"\n',
                            headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"})
    async with make_client() as sf:
        pages = [p async for p in BulkQueries(sf).pages(JOB, {}, locator="NDA",
                                                         version="61.0")]
    assert pages[0].records == [{"Id": "006Z"}]


async def test_invalid_entity_and_failed_jobs_are_bulk_unavailable(httpx_mock):
    httpx_mock.add_response(
        method="POST", url=f"{BASE}/jobs/query", status_code=400, json=rest_error(
            "INVALIDENTITY", "Entity 'OpportunityStage' is not supported by the Bulk API."))
    httpx_mock.add_response(method="GET", url=JOB_URL, json=info(
        "Failed", errorMessage="InternalServerError: retried more than 15 times"))
    httpx_mock.add_response(method="DELETE", url=JOB_URL, status_code=204)
    async with make_client() as sf:
        bulk = BulkQueries(sf, poll_first=0.001)
        with pytest.raises(BulkUnavailable) as entity:
            await bulk.create("SELECT Id FROM OpportunityStage")
        with pytest.raises(BulkUnavailable) as failed:
            await bulk.wait(JOB)
        await bulk.delete(JOB)
    assert entity.value.code == "INVALIDENTITY" and bulk.jobs_created == 0
    assert failed.value.code == "BULK_JOB_FAILED" and "retried more than 15" in str(failed.value)


async def test_a_stuck_job_is_aborted_and_given_up(httpx_mock):
    httpx_mock.add_response(method="GET", url=JOB_URL, json=info("InProgress"),
                            is_reusable=True)
    httpx_mock.add_response(method="PATCH", url=JOB_URL, json=info("Aborted"))
    async with make_client() as sf:
        with pytest.raises(BulkUnavailable) as stuck:
            await BulkQueries(sf, poll_first=0.001, max_wait=0.01).wait(JOB)
    assert stuck.value.code == "BULK_JOB_STUCK"
    patch = httpx_mock.get_requests(method="PATCH")[0]
    assert json.loads(patch.content) == {"state": "Aborted"}


async def test_deleting_an_unfinished_job_aborts_it_first(httpx_mock):
    httpx_mock.add_response(method="DELETE", url=JOB_URL, status_code=400, json=rest_error(
        "API_ERROR", "Error encountered when deleting the job because the job is not "
        "terminated"))
    httpx_mock.add_response(method="PATCH", url=JOB_URL, json=info("Aborted"))
    httpx_mock.add_response(method="DELETE", url=JOB_URL, status_code=204)
    async with make_client() as sf:
        await BulkQueries(sf).delete(JOB)
    assert [r.method for r in httpx_mock.get_requests()] == ["DELETE", "PATCH", "DELETE"]


async def test_the_daily_api_limit_is_not_mistaken_for_a_bulk_refusal(httpx_mock):
    httpx_mock.add_response(method="POST", url=f"{BASE}/jobs/query", status_code=403,
                            json=rest_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit "
                                                                      "exceeded."))
    async with make_client() as sf:
        with pytest.raises(RateLimitExceeded):
            await BulkQueries(sf).create("SELECT Id FROM Opportunity")


async def test_a_page_whose_count_disagrees_with_its_rows_stops_the_read(httpx_mock):
    httpx_mock.add_response(method="GET", url=re.compile(rf"{re.escape(JOB_URL)}/results.*"),
                            headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "5"},
                            content=b'"Id"\n"006A"\n')
    async with make_client() as sf:
        pages = [p async for p in BulkQueries(sf).pages(JOB, {})]
    with pytest.raises(BulkUnavailable, match="said 5 records but held 1"):
        _ = pages[0].records


async def test_a_results_page_is_freed_when_dropped_not_at_the_next_full_collection(httpx_mock):
    # httpx links a response and its stream both ways: without the cycle broken, each page's
    # CSV (MBs) lived until a full collection — 33 MB of pages held at once at 100k deals.
    httpx_mock.add_response(method="GET", url=f"{JOB_URL}/results?maxRecords=10000",
                            headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
                            content=b'"Id"\n"006A"\n')
    async with make_client() as sf:
        gc.disable()
        try:
            response = await sf.request("GET", f"{JOB_URL}/results",
                                        params={"maxRecords": "10000"})
            alive = weakref.ref(response)
            del response
            assert alive() is None
        finally:
            gc.enable()
