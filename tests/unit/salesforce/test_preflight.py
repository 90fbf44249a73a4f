"""Preflight answers the demo org does not produce: user-level API denial, unreadable objects,
an unreadable Organization, failed composite, rate limits, dead logins."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.errors import ReauthorizationNeeded
from smvue_tui.salesforce.preflight import FAIL, OK, WARN, run_preflight
from tests.unit.salesforce.client_fakes import (
    BASE,
    INSTANCE,
    LIMIT_INFO,
    FakeSession,
    body_of,
    make_client,
    rest_error,
)

ALL = ["Opportunity", "Account", "Contact", "User", "Event", "Task", "EmailMessage", "Lead",
       "OpportunityHistory", "LeadHistory", "OpportunityTeamMember", "AccountTeamMember",
       "RecordType"]
FIELDS = ["Id", "Name", "Amount", "CloseDate", "StageName", "Probability", "OwnerId",
          "AccountId", "CreatedDate", "LastModifiedDate", "IsClosed", "IsWon"]


def versions(httpx_mock) -> None:
    httpx_mock.add_response(url=f"{INSTANCE}/services/data/", json=[{"version": "66.0"}])


def listing(httpx_mock, names=ALL, **kw) -> None:
    kw.setdefault("json", {"sobjects": [{"name": n, "queryable": True} for n in names]})
    httpx_mock.add_response(url=f"{BASE}/sobjects", headers=LIMIT_INFO, **kw)


def org_record(edition="Enterprise Edition", sandbox=False) -> dict:
    return {"httpStatusCode": 200, "referenceId": "org", "body": {
        "totalSize": 1, "done": True, "records": [{
            "attributes": {"type": "Organization"}, "Id": "00DXX0000001abcAAA",
            "Name": "Acme", "IsSandbox": sandbox, "OrganizationType": edition}]}}


def described(name: str, fields=FIELDS) -> dict:
    return {"httpStatusCode": 200, "referenceId": name,
            "body": {"name": name, "fields": [{"name": f} for f in fields]}}


def denied(ref: str) -> dict:
    return {"httpStatusCode": 403, "referenceId": ref,
            "body": rest_error("INSUFFICIENT_ACCESS", "insufficient access rights on object")}


async def test_user_without_api_permission_fails_with_both_remedies(httpx_mock):
    versions(httpx_mock)
    listing(httpx_mock, status_code=403, json=rest_error(
        "API_CURRENTLY_DISABLED", "API is disabled for this User"))
    async with make_client() as sf:
        report = await run_preflight(sf)
    [line] = report.lines
    assert (line.name, line.status) == ("API access", FAIL) and not report.ok
    assert "your user" in line.message
    assert "Ensure you have API Enabled permission in your Salesforce profile" in line.remedy
    assert "Your Salesforce edition must support API access (Professional, Enterprise, or " \
           "Unlimited)" in line.remedy


async def test_unreadable_objects_and_organization_become_lines(httpx_mock):
    versions(httpx_mock)
    listing(httpx_mock, [n for n in ALL if n not in ("Contact", "Lead")])
    httpx_mock.add_response(url=f"{BASE}/composite", method="POST", json={"compositeResponse": [
        denied("org"), described("Opportunity"), denied("Account"), described("User", ["Id"])]})
    async with make_client() as sf:
        report = await run_preflight(sf)
    sent = body_of(httpx_mock.get_requests()[-1])["compositeRequest"]
    assert [s["referenceId"] for s in sent] == ["org", "Opportunity", "Account", "User"]
    assert sent[0]["url"].startswith("/services/data/v66.0/query?q=SELECT%20Id%2C%20Name")
    status = {line.name: line.status for line in report.lines}
    assert status == {"API access": OK, "Organization": WARN, "Required objects": FAIL,
                      "Opportunity fields": OK, "Optional objects": OK, "Lead": WARN}
    required = report.line("Required objects")
    assert required.message == ("Insufficient permissions to access Salesforce data: cannot "
                                "read Account, Contact")
    assert "INSUFFICIENT_ACCESS" in report.line("Organization").message
    assert report.edition is None and report.is_sandbox is None and not report.ok


async def test_other_editions_warn_and_sandbox_is_named(httpx_mock):
    versions(httpx_mock)
    listing(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/composite", method="POST", json={"compositeResponse": [
        org_record("Team Edition", sandbox=True),
        *(described(n) for n in ("Opportunity", "Account", "Contact", "User"))]})
    async with make_client() as sf:
        report = await run_preflight(sf)
    assert report.ok and report.is_sandbox and report.org_name == "Acme"
    assert report.line("Edition").status == WARN
    assert report.line("Edition").message.startswith("Team Edition: Outbound Messages")
    assert report.line("Environment").message == \
        "Connected to a SANDBOX: Acme (00DXX0000001abcAAA)"


async def test_failed_composite_and_rate_limit_are_lines_not_exceptions(httpx_mock):
    versions(httpx_mock)
    listing(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/composite", method="POST", status_code=503,
                            json=rest_error("SERVER_UNAVAILABLE", "try later"))
    async with make_client(max_retries=0) as sf:
        report = await run_preflight(sf)
    assert [(line.name, line.status) for line in report.lines] == [
        ("API access", OK), ("Salesforce", FAIL)]
    assert "not responding" in report.lines[1].message

    httpx_mock.reset()
    versions(httpx_mock)
    listing(httpx_mock, status_code=403, json=rest_error("REQUEST_LIMIT_EXCEEDED",
                                                         "TotalRequests Limit exceeded."))
    async with make_client() as sf:
        report = await run_preflight(sf)
    assert report.lines[0].status == FAIL
    assert report.lines[0].message.startswith("Salesforce API rate limit exceeded")
    assert "midnight Pacific" in report.lines[0].remedy


async def test_a_dead_login_propagates(httpx_mock):
    versions(httpx_mock)
    listing(httpx_mock, status_code=401, json=rest_error("INVALID_SESSION_ID", "expired"))
    async with make_client(FakeSession(dead=True)) as sf:
        with pytest.raises(ReauthorizationNeeded):
            await run_preflight(sf)
