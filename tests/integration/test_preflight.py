"""The post-login preflight against demo orgs of different editions and settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import pytest

from smvue_demo_org.profile import OrgProfile
from smvue_tui.config import app_paths
from smvue_tui.salesforce.credentials import credentials_from_token
from smvue_tui.salesforce.environments import resolve_environment
from smvue_tui.salesforce.errors import ReauthorizationNeeded
from smvue_tui.salesforce.preflight import (
    FAIL,
    OK,
    OPPORTUNITY_FIELDS,
    OPTIONAL_OBJECTS,
    WARN,
    PreflightReport,
    run_preflight,
)
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.connection import client_factory_for
from smvue_tui.sync.plan import SPECS_BY_NAME
from tests.integration.sync_support import client_for

SIZE = 120


async def preflight(running) -> PreflightReport:
    async with client_for(running) as client:
        return await run_preflight(client)


def statuses(report: PreflightReport) -> dict[str, str]:
    return {line.name: line.status for line in report.lines}


async def test_default_org_is_all_ok_in_two_api_calls(demo):
    used_before = demo.org.usage.used
    report = await preflight(demo)
    assert report.ok
    assert set(statuses(report).values()) == {OK}, [str(line) for line in report.lines]
    assert {"API access", "Edition", "Environment", "Required objects", "Opportunity fields",
            "Optional objects"} <= set(statuses(report))
    assert (report.edition, report.is_sandbox) == ("Enterprise Edition", False)
    assert report.org_name == "Demo Org 1" and report.org_id == demo.org.org_id
    assert report.line("Environment").message.startswith("Connected to production")
    assert demo.org.usage.used - used_before == 2  # describe global + one composite


async def test_professional_without_api_fails_with_the_product_wording(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(
        edition="Professional", api_enabled=False)))
    assert not report.ok
    line = report.line("API access")
    assert line.status == FAIL
    text = f"{line.message} {line.remedy}"
    assert "Your Salesforce edition must support API access (Professional, Enterprise, or " \
           "Unlimited)" in text
    assert "Ensure you have API Enabled permission in your Salesforce profile" in text
    assert report.edition is None and len(report.lines) == 1


async def test_professional_with_api_warns_that_updates_come_from_the_resync(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(edition="Professional")))
    assert report.ok
    line = report.line("Edition")
    assert line.status == WARN
    assert "Outbound Messages" in line.message and "scheduled resync" in line.message
    assert report.edition == "Professional Edition"
    assert [name for name, status in statuses(report).items() if status != OK] == ["Edition"]


async def test_hidden_amount_is_named_with_the_field_security_remedy(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(
        hidden_fields=("Opportunity.Amount",))))
    line = report.line("Opportunity fields")
    assert line.status == FAIL and not report.ok
    assert "Amount" in line.message and "CloseDate" not in line.message
    assert "Verify field-level security allows read access to standard Opportunity fields" \
        in line.remedy
    assert report.line("Required objects").status == OK


async def test_hidden_field_outside_the_standard_set_is_not_reported(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(
        hidden_fields=("Opportunity.NextStep",))))
    assert report.ok and report.line("Opportunity fields").status == OK


async def test_no_team_selling_warns_what_is_lost(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(team_selling=False)))
    assert report.ok
    line = report.line("OpportunityTeamMember")
    assert line.status == WARN
    assert line.message.startswith("OpportunityTeamMember not available — ")
    assert "collaborators" in line.message
    assert "OpportunityTeamMember" not in report.line("Optional objects").message
    assert [n for n, s in statuses(report).items() if s != OK] == ["OpportunityTeamMember"]


async def test_sandbox_is_called_out(make_org):
    report = await preflight(make_org(size=SIZE, profile=OrgProfile(sandbox=True)))
    assert report.is_sandbox is True and report.ok
    line = report.line("Environment")
    assert line.status == WARN and "SANDBOX" in line.message
    assert "login.salesforce.com" in line.remedy and "test.salesforce.com" in line.remedy


async def test_expired_session_is_refreshed_and_a_dead_login_propagates(demo):
    async with client_for(demo) as client:
        demo.admin("POST", "/expire-sessions").raise_for_status()
        assert (await run_preflight(client)).ok
        assert client.session.refresh_count == 1
    async with client_for(demo) as client:
        httpx.post(f"{demo.base_url}/services/oauth2/revoke",
                   data={"token": client.session.credentials.refresh_token}).raise_for_status()
        demo.admin("POST", "/expire-sessions").raise_for_status()
        with pytest.raises(ReauthorizationNeeded):
            await run_preflight(client)


def test_checked_fields_and_objects_match_what_the_sync_needs():
    required = SPECS_BY_NAME["Opportunity"].required
    assert set(OPPORTUNITY_FIELDS) == set(required) - {"Id", "SystemModstamp"}
    assert set(OPTIONAL_OBJECTS) - {"RecordType"} == {
        name for name, spec in SPECS_BY_NAME.items() if not spec.essential}


def test_doctor_prints_the_connect_screens_checks(demo, smvue_home):
    """`smvue-tui doctor` over SSH: the same preflight lines as the Connect screen (issue 12)."""
    TokenStore().save(credentials_from_token(demo.web_login(),
                                             environment=resolve_environment(demo.base_url),
                                             client_id=demo.org.client_id))

    async def expected():
        client = client_factory_for(app_paths())()
        try:
            return await run_preflight(client)
        finally:
            await client.aclose()

    report = asyncio.run(expected())
    env = {**os.environ, "SMVUE_HOME": str(smvue_home)}
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "doctor"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    for line in report.lines:
        assert f"{line.name}: {line.message}" in done.stdout
    assert "http://localhost:1717/OauthRedirect" in done.stdout
    assert "SMVue can sync this org." in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_doctor_without_a_login_says_what_to_do(smvue_home):
    done = subprocess.run([sys.executable, "-m", "smvue_tui", "doctor"], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "SMVUE_HOME": str(smvue_home)})
    assert done.returncode == 2 and "smvue-tui login" in done.stderr
    assert "Traceback" not in done.stderr
