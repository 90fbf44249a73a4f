"""The REST client's resources: paging, describe cache, composite, collections, versions."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from smvue_tui.salesforce.client import composite_error
from smvue_tui.salesforce.errors import (
    InvalidQueryLocator,
    ObjectUnavailable,
    QueryError,
    ReadOnlyViolation,
    SalesforceError,
)
from smvue_tui.salesforce.guard import RequestLog
from tests.unit.salesforce.client_fakes import (
    BASE,
    INSTANCE,
    LIMIT_INFO,
    TOKEN_1,
    body_of,
    make_client,
    rest_error,
)


def opp(n: int, **extra) -> dict:
    return {"attributes": {"type": "Opportunity",
                           "url": f"/services/data/v66.0/sobjects/Opportunity/006{n:015d}"},
            "Id": f"006{n:015d}", **extra}


def page(records: list, *, total: int, next_url: str | None = None) -> dict:
    body = {"totalSize": total, "done": next_url is None, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


async def test_query_pages_follow_next_records_url_with_batch_header(httpx_mock):
    soql = "SELECT Id FROM Opportunity"
    httpx_mock.add_response(url=f"{BASE}/query?q={soql.replace(' ', '+')}", headers=LIMIT_INFO,
                            json=page([opp(1), opp(2)], total=3,
                                      next_url="/services/data/v66.0/query/01gXX-2"))
    httpx_mock.add_response(url=f"{BASE}/query/01gXX-2", json=page([opp(3)], total=3))
    async with make_client() as sf:
        pages = [p async for p in sf.query_pages(soql, batch_size=500)]
    assert [(p.page_number, p.records_seen, p.done, p.next_url) for p in pages] == [
        (1, 2, False, "/services/data/v66.0/query/01gXX-2"), (2, 3, True, None)]
    assert pages[0].total_size == 3
    assert pages[1].records == [{"Id": f"006{3:015d}"}]  # attributes stripped
    requests = httpx_mock.get_requests()
    for request in requests:
        assert request.headers["Sforce-Query-Options"] == "batchSize=500"
        assert request.headers["Authorization"] == f"Bearer {TOKEN_1}"
        assert request.headers["Accept"] == "application/json"
        assert request.headers["Accept-Encoding"] == "gzip"
        assert request.headers["Sforce-Call-Options"] == "client=smvue-tui"
        assert request.extensions["timeout"]["read"] == 60.0


async def test_query_all_and_keep_attributes(httpx_mock):
    httpx_mock.add_response(url=re.compile(rf"{re.escape(BASE)}/queryAll\?q=.*"),
                            json=page([opp(1, IsDeleted=True)], total=1))
    async with make_client() as sf:
        pages = [p async for p in sf.query_pages("SELECT Id, IsDeleted FROM Opportunity",
                                                 include_deleted=True, keep_attributes=True)]
    assert pages[0].records[0]["attributes"]["type"] == "Opportunity"
    assert httpx_mock.get_requests()[0].headers["Sforce-Query-Options"] == "batchSize=2000"


@pytest.mark.parametrize("size", [199, 2001])
async def test_batch_size_out_of_range(size):
    async with make_client() as sf:
        with pytest.raises(ValueError):
            await anext(sf.query_pages("SELECT Id FROM Account", batch_size=size))


async def test_attributes_stripped_recursively_and_children_completed(httpx_mock):
    child = {"attributes": {"type": "OpportunityContactRole"}, "Role": "Buyer"}
    record = opp(1, Account={"attributes": {"type": "Account"}, "Name": "Acme"},
                 OpportunityContactRoles={"totalSize": 3, "done": False, "records": [child],
                                          "nextRecordsUrl": "/services/data/v66.0/query/01gC-1"},
                 OpportunityLineItems=None)
    httpx_mock.add_response(url=re.compile(r".*/query\?q=.*"), json=page([record], total=1))
    httpx_mock.add_response(url=f"{BASE}/query/01gC-1",
                            json=page([child], total=3,
                                      next_url="/services/data/v66.0/query/01gC-2"))
    httpx_mock.add_response(url=f"{BASE}/query/01gC-2", json=page([child], total=3))
    async with make_client() as sf:
        [only] = [p async for p in sf.query_pages("SELECT ... FROM Opportunity")]
    rec = only.records[0]
    assert rec["Account"] == {"Name": "Acme"}
    assert rec["OpportunityLineItems"] is None
    roles = rec["OpportunityContactRoles"]
    assert roles["done"] is True and "nextRecordsUrl" not in roles
    assert roles["records"] == [{"Role": "Buyer"}] * 3
    assert len(httpx_mock.get_requests()) == 3


async def test_invalid_query_locator_mid_paging_carries_context(httpx_mock):
    httpx_mock.add_response(url=re.compile(r".*/query\?q=.*"),
                            json=page([opp(1), opp(2)], total=5,
                                      next_url="/services/data/v66.0/query/01gXX-2"))
    httpx_mock.add_response(url=f"{BASE}/query/01gXX-2", status_code=400,
                            json=rest_error("INVALID_QUERY_LOCATOR", "invalid query locator"))
    got = []
    async with make_client() as sf:
        with pytest.raises(InvalidQueryLocator) as info:
            async for p in sf.query_pages("SELECT Id FROM Opportunity"):
                got.append(p)
    err = info.value
    assert len(got) == 1  # the good page was handed out, nothing was skipped or replayed
    assert (err.pages_seen, err.records_seen, err.soql) == (1, 2, "SELECT Id FROM Opportunity")
    assert "after 1 pages, 2 records" in str(err)
    assert err.user_message == "A Salesforce query cursor expired"
    assert len(httpx_mock.get_requests()) == 2  # not restarted from zero


@pytest.mark.parametrize("bad_next", [None, "/services/data/v66.0/query/01gXX-2"])
async def test_broken_paging_raises_instead_of_ending_early(httpx_mock, bad_next):
    first = page([opp(1)], total=9, next_url="/services/data/v66.0/query/01gXX-2")
    second = {"totalSize": 9, "done": False, "records": [opp(2)]}
    if bad_next:
        second["nextRecordsUrl"] = bad_next  # the same locator again: would loop forever
    httpx_mock.add_response(url=re.compile(r".*/query\?q=.*"), json=first)
    httpx_mock.add_response(url=f"{BASE}/query/01gXX-2", json=second)
    async with make_client() as sf:
        with pytest.raises(QueryError, match="paging stopped after 2 pages"):
            async for _ in sf.query_pages("SELECT Id FROM Opportunity"):
                pass


async def test_count(httpx_mock):
    httpx_mock.add_response(
        url=f"{BASE}/query?q=SELECT+COUNT%28%29+FROM+Account+WHERE+IsDeleted+%3D+false",
        json={"totalSize": 4321, "done": True, "records": []})
    httpx_mock.add_response(url=f"{BASE}/query?q=select+COUNT%28%29+FROM+Lead",
                            json={"totalSize": 7, "done": True, "records": []})
    async with make_client() as sf:
        assert await sf.count("FROM Account WHERE IsDeleted = false") == 4321
        assert await sf.count("select COUNT() FROM Lead") == 7


async def test_describe_is_cached_even_for_concurrent_callers(httpx_mock):
    httpx_mock.add_response(url=f"{BASE}/sobjects/Opportunity/describe",
                            json={"name": "Opportunity", "fields": []})
    httpx_mock.add_response(url=f"{BASE}/sobjects", json={"sobjects": [{"name": "Account"}]})
    async with make_client() as sf:
        first, second, third = await asyncio.gather(
            sf.describe("Opportunity"), sf.describe("Opportunity"), sf.describe("opportunity"))
        assert first is second is third
        assert (await sf.describe_global())["sobjects"][0]["name"] == "Account"
        await sf.describe_global()
    assert len(httpx_mock.get_requests()) == 2


async def test_describe_unknown_object_is_typed_and_not_cached(httpx_mock):
    for _ in range(2):
        httpx_mock.add_response(url=f"{BASE}/sobjects/Nope__c/describe", status_code=404,
                                json=rest_error("NOT_FOUND", "The requested resource"))
    async with make_client() as sf:
        for _ in range(2):
            with pytest.raises(ObjectUnavailable):
                await sf.describe("Nope__c")


async def test_path_segments_cannot_escape(httpx_mock):
    async with make_client() as sf:
        with pytest.raises(ValueError):
            await sf.describe("..")
        with pytest.raises(ValueError):
            await sf.get_record("Account", "001/../x")
        httpx_mock.add_response(url=f"{BASE}/sobjects/Account/001%3Fx", json={})
        await sf.get_record("Account", "001?x")  # quoted, not a query string


async def test_get_updated_and_deleted_send_utc_window(httpx_mock):
    start = datetime(2026, 11, 1, 9, 15, 42, tzinfo=UTC)
    end = datetime(2026, 11, 2, 1, 0, tzinfo=timezone(timedelta(hours=-8)))
    window = "start=2026-11-01T09%3A15%3A42%2B00%3A00&end=2026-11-02T09%3A00%3A00%2B00%3A00"
    httpx_mock.add_response(url=f"{BASE}/sobjects/Opportunity/updated/?{window}",
                            json={"ids": ["006A"], "latestDateCovered": "x"})
    httpx_mock.add_response(url=f"{BASE}/sobjects/Opportunity/deleted/?{window}",
                            json={"deletedRecords": [], "latestDateCovered": "x"})
    async with make_client() as sf:
        assert (await sf.get_updated("Opportunity", start, end))["ids"] == ["006A"]
        assert (await sf.get_deleted("Opportunity", start, end))["deletedRecords"] == []
        with pytest.raises(ValueError, match="timezone-aware"):
            await sf.get_updated("Opportunity", datetime(2026, 11, 1), end)


async def test_limits(httpx_mock):
    httpx_mock.add_response(url=f"{BASE}/limits",
                            json={"DailyApiRequests": {"Max": 15000, "Remaining": 14000}})
    async with make_client() as sf:
        assert (await sf.limits())["DailyApiRequests"]["Max"] == 15000


async def test_composite_is_one_post_of_gets(httpx_mock):
    httpx_mock.add_response(url=f"{BASE}/composite", method="POST", json={"compositeResponse": [
        {"body": {"name": "Account"}, "httpStatusCode": 200, "referenceId": "r0"},
        {"body": rest_error("NOT_FOUND", "The requested resource does not exist"),
         "httpStatusCode": 404, "referenceId": "team"}]})
    log = RequestLog()
    async with make_client(recorder=log) as sf:
        results = await sf.composite([{"url": "sobjects/Account/describe"},
                                      {"url": "/services/data/v66.0/sobjects/OpportunityTeamMember",
                                       "referenceId": "team"}], all_or_none=False)
    sent = body_of(httpx_mock.get_requests()[0])
    assert sent == {"allOrNone": False, "compositeRequest": [
        {"method": "GET", "url": "/services/data/v66.0/sobjects/Account/describe",
         "referenceId": "r0"},
        {"method": "GET", "url": "/services/data/v66.0/sobjects/OpportunityTeamMember",
         "referenceId": "team"}]}
    assert composite_error(results[0]) is None
    assert isinstance(composite_error(results[1]), ObjectUnavailable)
    assert [e.via for e in log.entries] == ["", "composite", "composite"]


async def test_composite_refuses_writes_and_too_many(httpx_mock):
    async with make_client() as sf:
        with pytest.raises(ReadOnlyViolation):
            await sf.composite([{"url": "sobjects/Account/describe"},
                                {"method": "PATCH", "url": "sobjects/Account/001", "body": {}}])
        with pytest.raises(ValueError):
            await sf.composite([{"url": "limits"}] * 26)
        assert await sf.composite([]) == []
    assert not httpx_mock.get_requests()


async def test_get_record_strips_attributes(httpx_mock):
    httpx_mock.add_response(url=f"{BASE}/sobjects/Opportunity/006A?fields=Id%2CName",
                            json={"attributes": {"type": "Opportunity"}, "Id": "006A",
                                  "Name": "Big"})
    async with make_client() as sf:
        assert await sf.get_record("Opportunity", "006A", ["Id", "Name"]) == {"Id": "006A",
                                                                            "Name": "Big"}


async def test_get_records_chunks_by_url_size_and_keeps_order(httpx_mock):
    ids = [f"006XX{n:013d}" for n in range(1000)]

    def answer(request):
        asked = request.url.params["ids"].split(",")
        rows = [None if i.endswith("7") else {"attributes": {"type": "Opportunity"}, "Id": i}
                for i in asked]
        return httpx.Response(200, json=rows)

    httpx_mock.add_callback(answer, url=re.compile(r".*/composite/sobjects/Opportunity\?.*"),
                            is_reusable=True)
    async with make_client() as sf:
        rows = await sf.get_records("Opportunity", ids, ["Id", "Name", "Amount"])
    assert [r["Id"] if r else None for r in rows] == [None if i.endswith("7") else i
                                                      for i in ids]
    assert "attributes" not in rows[0]
    requests = httpx_mock.get_requests()
    assert len(requests) == 3  # 1,000 ids at 19 bytes do not fit in one 8 KB URL
    for request in requests:
        assert len(str(request.url)) <= 8000
        assert ",006XX" in str(request.url)  # literal commas, not %2C
        assert request.url.params["fields"] == "Id,Name,Amount"
    assert sum(len(r.url.params["ids"].split(",")) for r in requests) == 1000


async def test_get_records_caps_at_2000_ids_per_call(httpx_mock):
    ids = [f"a{n}" for n in range(4500)]
    httpx_mock.add_callback(
        lambda request: httpx.Response(
            200, json=[{"Id": i} for i in request.url.params["ids"].split(",")]),
        is_reusable=True)
    async with make_client() as sf:
        sf.max_url_bytes = 1_000_000
        rows = await sf.get_records("Opportunity", ids, ["Id"])
    assert len(rows) == 4500
    assert [len(r.url.params["ids"].split(",")) for r in httpx_mock.get_requests()] == [
        2000, 2000, 500]


async def test_get_records_rejects_short_answers(httpx_mock):
    httpx_mock.add_response(json=[{"Id": "a"}])
    async with make_client() as sf:
        assert await sf.get_records("Account", [], ["Id"]) == []
        with pytest.raises(SalesforceError, match="for 2 ids"):
            await sf.get_records("Account", ["a", "b"], ["Id"])


VERSIONS = [{"label": "Winter '26", "url": "/services/data/v65.0", "version": "65.0"},
            {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"}]


async def test_versions_need_no_token_and_negotiation_downgrades(httpx_mock):
    httpx_mock.add_response(url=f"{INSTANCE}/services/data/", json=VERSIONS[:1])
    httpx_mock.add_response(url=f"{INSTANCE}/services/data/v65.0/limits", json={})
    async with make_client(api_version="67.0") as sf:
        assert await sf.negotiate_version() == "65.0"
        assert sf.api_version == "65.0"
        await sf.limits()
    assert "Authorization" not in httpx_mock.get_requests()[0].headers


async def test_negotiation_keeps_ours_when_org_is_newer(httpx_mock):
    httpx_mock.add_response(url=f"{INSTANCE}/services/data/",
                            json=[*VERSIONS, {"version": "67.0"}, {"version": "latest"}])
    async with make_client() as sf:
        assert await sf.negotiate_version() == "66.0"


async def test_absolute_urls_must_stay_on_the_instance(httpx_mock):
    httpx_mock.add_response(url=f"{BASE}/limits", json={})
    async with make_client() as sf:
        await sf.request("GET", f"{BASE}/limits")
        with pytest.raises(SalesforceError, match=r"evil\.example") as info:
            await sf.request("GET", "https://evil.example/services/data/v66.0/limits")
    assert TOKEN_1 not in str(info.value)
    assert len(httpx_mock.get_requests()) == 1


def soap_body(md_type: str) -> bytes:
    return (b'<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Body>'
            b'<upsertMetadata><metadata xsi:type="' + md_type.encode() + b'">'
            b"<fullName>Opportunity.X</fullName></metadata></upsertMetadata></Body></Envelope>")


async def test_post_metadata_soap_returns_faults_and_guards_types(httpx_mock):
    fault = b"<Envelope><Body><Fault><faultcode>sf:INVALID_SESSION_ID</faultcode></Fault>"
    httpx_mock.add_response(url=f"{INSTANCE}/services/Soap/m/66.0", method="POST",
                            status_code=500, content=fault)
    async with make_client() as sf:
        assert await sf.post_metadata_soap(soap_body("WorkflowOutboundMessage")) == (500, fault)
        with pytest.raises(ReadOnlyViolation, match="ApexClass"):
            await sf.post_metadata_soap(soap_body("ApexClass"))
    [request] = httpx_mock.get_requests()
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.headers["SOAPAction"] == "''"
