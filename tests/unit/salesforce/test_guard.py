"""The read-only guard: what it allows, what it refuses (before sending), what it records."""

from __future__ import annotations

import json

import httpx
import pytest

from smvue_tui.salesforce.errors import ReadOnlyViolation
from smvue_tui.salesforce.guard import (
    Entry,
    ReadOnlyGuard,
    RequestLog,
    guarded_async_client,
    recording,
)

HOST = "https://acme.my.salesforce.com"
DATA = f"{HOST}/services/data/v66.0"
SOAP = f"{HOST}/services/Soap/m/66.0"


def soap(call: str, inner: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  xmlns:tns="http://soap.sforce.com/2006/04/metadata">
 <soapenv:Header xmlns="http://soap.sforce.com/2006/04/metadata">
  <SessionHeader><sessionId>00DXX!AQ4FakeToken</sessionId></SessionHeader>
 </soapenv:Header>
 <soapenv:Body xmlns="http://soap.sforce.com/2006/04/metadata">
  <{call}>{inner}</{call}>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def md(xsi_type: str, name: str = "Opportunity.X") -> str:
    return f'<metadata xsi:type="{xsi_type}"><fullName>{name}</fullName></metadata>'


def by_type(md_type: str) -> str:
    return f"<type>{md_type}</type><fullNames>Opportunity.X</fullNames>"


def composite(*methods: str, key: str = "compositeRequest") -> bytes:
    subs = [{"method": m, "url": f"/services/data/v66.0/sobjects/Account/{i}",
             "referenceId": f"r{i}"} for i, m in enumerate(methods)]
    return json.dumps({key: subs}).encode()


ALLOWED = [
    ("GET", f"{DATA}/query?q=SELECT+Id+FROM+Account", b""),
    ("GET", f"{DATA}/query/01gXX0000012ABC-2000", b""),
    ("GET", f"{DATA}/sobjects/Opportunity/describe", b""),
    ("GET", f"{HOST}/services/data/", b""),
    ("GET", f"{HOST}/services/oauth2/userinfo", b""),
    ("GET", "https://login.salesforce.com/id/00DXX0000001abc/005XX0000001abc", b""),
    ("POST", "https://login.salesforce.com/services/oauth2/token", b"grant_type=refresh_token"),
    ("POST", f"{HOST}/services/oauth2/revoke", b"token=x"),
    ("POST", f"{DATA}/composite", composite("GET", "get")),
    ("POST", f"{DATA}/composite/batch", composite("GET", key="batchRequests")),
    ("POST", SOAP, soap("createMetadata", md("WorkflowOutboundMessage"))),
    ("POST", SOAP, soap("upsertMetadata", md("WorkflowRule") + md("WorkflowRule", "Opp.Y"))),
    ("POST", SOAP, soap("updateMetadata", md("tns:Flow", "PipelinePulse"))),
    ("POST", SOAP, soap("readMetadata", by_type("Flow"))),
    ("POST", SOAP, soap("deleteMetadata", by_type("WorkflowOutboundMessage"))),
    # Bulk API 2.0 query jobs: create (query/queryAll), poll, results, abort, delete
    ("POST", f"{DATA}/jobs/query", b'{"operation": "query", "query": "SELECT Id FROM Account"}'),
    ("POST", f"{DATA}/jobs/query", b'{"operation": "queryAll", "query": "SELECT Id FROM Task"}'),
    ("GET", f"{DATA}/jobs/query/750XX0000000001AAA", b""),
    ("GET", f"{DATA}/jobs/query/750XX0000000001AAA/results?locator=MTA&maxRecords=5", b""),
    ("PATCH", f"{DATA}/jobs/query/750XX0000000001AAA", b'{"state": "Aborted"}'),
    ("PATCH", f"{DATA}/jobs/query/750XX0000000001", b'{"state":"Aborted"}'),
    ("DELETE", f"{DATA}/jobs/query/750XX0000000001AAA", b""),
]

REFUSED = [
    ("POST", f"{DATA}/sobjects/Account", b'{"Name": "x"}'),
    ("PATCH", f"{DATA}/sobjects/Account/001XX000003DHP0", b'{"Name": "x"}'),
    ("DELETE", f"{DATA}/sobjects/Account/001XX000003DHP0", b""),
    ("PUT", f"{DATA}/sobjects/Account/001XX000003DHP0", b""),
    ("HEAD", f"{DATA}/sobjects/Account", b""),
    ("GET", f"{HOST}/services/apexrest/anything", b""),
    ("GET", f"{DATA}/../../apexrest/x", b""),
    ("POST", f"{DATA}/query", b"q=SELECT"),
    ("POST", f"{DATA}/composite", composite("GET", "PATCH")),
    ("POST", f"{DATA}/composite", composite("DELETE")),
    ("POST", f"{DATA}/composite", b'{"compositeRequest": [{"url": "/x"}]}'),
    ("POST", f"{DATA}/composite", b"not json"),
    ("POST", f"{DATA}/composite", b"{}"),
    ("POST", f"{DATA}/composite/batch", composite("GET", "POST", key="batchRequests")),
    ("POST", f"{DATA}/composite/batch", composite("GET")),  # wrong key for batch
    ("POST", f"{DATA}/composite/tree/Account", b'{"records": []}'),
    ("POST", f"{DATA}/composite/sobjects", b'{"records": []}'),
    ("POST", f"{DATA}/composite/graph", b'{"graphs": []}'),
    ("POST", f"{DATA}/jobs/query", b'{"operation": "insert", "object": "Account"}'),
    ("POST", f"{DATA}/jobs/query", b'{"query": "SELECT Id FROM Account"}'),
    ("POST", f"{DATA}/jobs/query", b'[{"operation": "query"}]'),
    ("POST", f"{DATA}/jobs/query", b"operation=query"),
    ("POST", f"{DATA}/jobs/ingest", b'{"operation": "query", "object": "Account"}'),
    ("POST", f"{DATA}/jobs/ingest", b'{"operation": "insert", "object": "Account"}'),
    ("PUT", f"{DATA}/jobs/ingest/750XX0000000001AAA/batches", b"Name\nx\n"),
    ("PATCH", f"{DATA}/jobs/ingest/750XX0000000001AAA", b'{"state": "UploadComplete"}'),
    ("DELETE", f"{DATA}/jobs/ingest/750XX0000000001AAA", b""),
    ("PATCH", f"{DATA}/jobs/query/750XX0000000001AAA", b'{"state": "UploadComplete"}'),
    ("PATCH", f"{DATA}/jobs/query/750XX0000000001AAA",
     b'{"state": "Aborted", "query": "SELECT Id FROM Account"}'),
    ("PATCH", f"{DATA}/jobs/query", b'{"state": "Aborted"}'),
    ("DELETE", f"{DATA}/jobs/query", b""),
    ("DELETE", f"{DATA}/jobs/query/001XX000003DHP0AAA", b""),  # not a job id
    ("DELETE", f"{DATA}/jobs/query/750XX0000000001AAA/results", b""),
    ("DELETE", f"{DATA}/jobs/query/750XX0000000001AAA", b'{"state": "Aborted"}'),
    ("POST", f"{DATA}/jobs/query/750XX0000000001AAA", b'{"operation": "query"}'),
    ("PUT", f"{DATA}/jobs/query/750XX0000000001AAA", b'{"state": "Aborted"}'),
    ("POST", SOAP, soap("createMetadata", md("ApexClass"))),
    ("POST", SOAP, soap("createMetadata", md("WorkflowRule") + md("ApexTrigger"))),
    ("POST", SOAP, soap("createMetadata", "<metadata><fullName>x</fullName></metadata>")),
    ("POST", SOAP, soap("createMetadata", md("Flow") + "<extra/>")),
    ("POST", SOAP, soap("deleteMetadata", by_type("CustomObject"))),
    ("POST", SOAP, soap("readMetadata", by_type("Flow") + "<type>ApexClass</type>")),
    ("POST", SOAP, soap("renameMetadata", by_type("Flow"))),
    ("POST", SOAP, soap("deploy", "<ZipFile>UEsDBA==</ZipFile>")),
    ("POST", SOAP, b"<not-xml"),
    ("POST", SOAP, b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>
<Envelope><Body><createMetadata>&a;</createMetadata></Body></Envelope>"""),
    ("POST", f"{HOST}/services/Soap/u/66.0", soap("create", md("Account"))),
    ("POST", f"{HOST}/services/Soap/m/66.0/extra", soap("createMetadata", md("Flow"))),
    # A JSON key given twice: which one Salesforce's parser keeps is not ours to guess.
    ("POST", f"{DATA}/composite",
     b'{"compositeRequest": [{"method": "DELETE", "method": "GET", "referenceId": "a",'
     b' "url": "/services/data/v66.0/sobjects/Account/001XX000003DHP0"}]}'),
    ("POST", f"{DATA}/jobs/query", b'{"operation": "insert", "operation": "query"}'),
    ("PATCH", f"{DATA}/jobs/query/750XX0000000001AAA",
     b'{"state": "UploadComplete", "state": "Aborted"}'),
    # An encoded newline ends the decoded path: a regex's "$" must not match before it.
    ("POST", f"{DATA}/jobs/query%0A", b'{"operation": "query"}'),
    ("DELETE", f"{DATA}/jobs/query/750XX0000000001AAA%0A", b""),
    ("POST", f"{DATA}/composite%0A", composite("GET")),
]


@pytest.mark.parametrize(("method", "url", "body"), ALLOWED)
def test_allows_reads_oauth_and_the_automation(method, url, body):
    log = RequestLog()
    ReadOnlyGuard(log).check(method, url, body)
    assert log.entries[0] == Entry(method, httpx.URL(url).path)
    assert not log.refused


@pytest.mark.parametrize(("method", "url", "body"), REFUSED)
def test_refuses_everything_else(method, url, body):
    log = RequestLog()
    with pytest.raises(ReadOnlyViolation) as info:
        ReadOnlyGuard(log).check(method, url, body)
    assert info.value.user_message == "Refused to write to Salesforce"
    assert info.value.code == "READ_ONLY"
    assert not log.entries and len(log.refused) == 1
    assert "FakeToken" not in str(info.value)


def test_refusal_says_which_metadata_type():
    with pytest.raises(ReadOnlyViolation, match="ApexClass"):
        ReadOnlyGuard().check("POST", SOAP, soap("createMetadata", md("ApexClass")))


def test_records_composite_subrequests():
    log = RequestLog()
    ReadOnlyGuard(log).check("POST", f"{DATA}/composite", composite("GET", "GET"))
    assert log.entries == [
        Entry("POST", "/services/data/v66.0/composite"),
        Entry("GET", "/services/data/v66.0/sobjects/Account/0", "composite"),
        Entry("GET", "/services/data/v66.0/sobjects/Account/1", "composite"),
    ]
    assert log.pairs() == {("POST", "/services/data/v66.0/composite")}


def test_recording_sees_every_guard_and_stops_after_the_block():
    with recording() as seen:
        ReadOnlyGuard().check("GET", f"{DATA}/limits")
        ReadOnlyGuard(RequestLog()).check("GET", f"{DATA}/sobjects")
        with pytest.raises(ReadOnlyViolation):
            ReadOnlyGuard().check("DELETE", f"{DATA}/sobjects/Account/1")
    ReadOnlyGuard().check("GET", f"{DATA}/query")
    assert [e.path for e in seen.entries] == ["/services/data/v66.0/limits",
                                              "/services/data/v66.0/sobjects"]
    assert seen.refused == [Entry("DELETE", "/services/data/v66.0/sobjects/Account/1")]


async def test_hook_refuses_before_sending(httpx_mock):
    log = RequestLog()
    async with guarded_async_client(ReadOnlyGuard(log)) as http:
        with pytest.raises(ReadOnlyViolation):
            await http.post(f"{DATA}/sobjects/Account", json={"Name": "x"})
        with pytest.raises(ReadOnlyViolation):
            await http.delete(f"{DATA}/sobjects/Account/001XX000003DHP0")
        httpx_mock.add_response(url=f"{DATA}/limits", json={})
        await http.get(f"{DATA}/limits")
    assert [r.method for r in httpx_mock.get_requests()] == ["GET"]
    assert log.pairs() == {("GET", "/services/data/v66.0/limits")}


async def test_hook_refuses_streamed_post_bodies(httpx_mock):
    async def body():
        yield composite("GET")

    async with guarded_async_client() as http:
        with pytest.raises(ReadOnlyViolation, match="streamed"):
            await http.post(f"{DATA}/composite", content=body())
    assert not httpx_mock.get_requests()


async def test_hook_keeps_caller_hooks(httpx_mock):
    seen = []

    async def mine(request):
        seen.append(request.method)

    httpx_mock.add_response(json={})
    async with guarded_async_client(event_hooks={"request": [mine]}) as http:
        await http.get(f"{DATA}/limits")
        with pytest.raises(ReadOnlyViolation):
            await http.patch(f"{DATA}/sobjects/Account/1", json={})
    assert seen == ["GET"]  # the guard runs first and stops the PATCH before other hooks
