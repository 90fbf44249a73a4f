"""The change-notification automation deployed and removed through the real client against a
demo org — the Flow, the Workflow Rule fallback, idempotent re-deploys, refused deletes, an expired
session mid-deploy — and one Outbound Message delivered end to end over loopback."""

from __future__ import annotations

import asyncio

import pytest

from smvue_demo_org.outbound_envelope import is_ack
from smvue_demo_org.profile import OrgProfile
from smvue_tui.salesforce.metadata import SETUP_PATHS
from smvue_tui.salesforce.outbound import ACK_BODY, org_ids_match
from tests.integration.metadata_support import Automation, outbound_listener
from tests.integration.sync_support import client_for
from tests.unit.salesforce.wsdl_schema import envelope_errors

OM, RULE, FLOW = "WorkflowOutboundMessage", "WorkflowRule", "Flow"
ENDPOINT = "https://hooks.example.org/smvue/outbound"
SIZE = 120


def names(snapshot: dict, type_: str) -> list[str]:
    return [c["fullName"] for c in snapshot[type_]]


async def test_deploys_messages_and_flows_first(demo):
    """Flow first: what a 2026 org accepts (no new Workflow Rules since Winter '23)."""
    async with client_for(demo) as client:
        automation = Automation(client, demo)
        report = await automation.deploy(["Opportunity", "Account"], ENDPOINT)
    assert report.ok, (report.failures, report.fault)
    assert report.triggers == {"Opportunity": FLOW, "Account": FLOW}
    deployed = automation.snapshot()
    assert names(deployed, OM) == ["Opportunity.SMVue_Opportunity_OM",
                                   "Account.SMVue_Account_OM"]
    assert names(deployed, FLOW) == ["SMVue_Opportunity_Sync", "SMVue_Account_Sync"]
    assert deployed[RULE] == []
    message = deployed[OM][0]["body"]
    assert message["endpointUrl"] == [ENDPOINT]
    assert message["fields"] == ["Id", "Name", "StageName", "Amount", "CloseDate"]
    assert message["includeSessionId"] == ["false"]
    assert all(flow["live"] == {"create": True, "update": True} for flow in deployed[FLOW])


async def test_an_org_refusing_workflow_rules_gets_flows(make_org):
    running = make_org(size=SIZE, profile=OrgProfile(refuse_workflow_rules=True))
    async with client_for(running) as client:
        report = await Automation(client, running).deploy(["Opportunity"], ENDPOINT)
    assert report.ok, (report.failures, report.fault)
    assert report.triggers == {"Opportunity": FLOW}
    deployed = Automation(client, running).snapshot()
    assert deployed[RULE] == []
    assert names(deployed, FLOW) == ["SMVue_Opportunity_Sync"]
    assert deployed[FLOW][0]["live"] == {"create": True, "update": True}
    assert names(deployed, OM) == ["Opportunity.SMVue_Opportunity_OM"]


async def test_redeploy_is_idempotent(demo):
    async with client_for(demo) as client:
        automation = Automation(client, demo)
        first = await automation.deploy(["Opportunity"], ENDPOINT)
        before = automation.snapshot()
        second = await automation.deploy(["Opportunity"], ENDPOINT)
    assert first.ok and second.ok
    assert all(c.created for c in first.deployed)
    assert not any(c.created for c in second.deployed)
    assert [(c.type, c.full_name) for c in second.deployed] == \
        [(c.type, c.full_name) for c in first.deployed]
    assert automation.snapshot() == before  # same components, same ids, nothing added


@pytest.mark.parametrize("trigger", ["rule", "flow"])
async def test_remove_leaves_nothing(make_org, trigger):
    running = make_org(size=SIZE)
    async with client_for(running) as client:
        automation = Automation(client, running)
        deployed = await automation.deploy(["Opportunity", "Account"], ENDPOINT,
                                           trigger=trigger)
        assert deployed.ok and len(deployed.deployed) == 4
        removal = await automation.remove(deployed)
    assert removal.ok, removal.leftovers
    assert sorted(c.full_name for c in removal.removed) == \
        sorted(c.full_name for c in deployed.deployed)
    assert automation.snapshot() == {OM: [], RULE: [], FLOW: []}


async def test_refused_deletes_are_leftovers_with_setup_paths(demo):
    async with client_for(demo) as client:
        automation = Automation(client, demo)
        deployed = await automation.deploy(["Opportunity"], ENDPOINT, trigger="rule")
        demo.admin("POST", "/faults", json={"refuse_metadata_deletes": 1}).raise_for_status()
        removal = await automation.remove(deployed)
    assert not removal.ok and removal.removed == []
    left = {lo.component.type: lo for lo in removal.leftovers}
    assert set(left) == {RULE, OM}
    assert left[RULE].setup_path == SETUP_PATHS[RULE] == \
        "Setup > Process Automation > Workflow Rules"
    assert left[OM].setup_path == SETUP_PATHS[OM]
    assert "REQUEST_LIMIT_EXCEEDED" in left[RULE].reason
    assert "still used by a trigger" in left[OM].reason
    assert [lo.to_dict()["component"]["full_name"] for lo in removal.leftovers] == \
        ["Opportunity.SMVue_Opportunity_Rule", "Opportunity.SMVue_Opportunity_OM"]
    still = automation.snapshot()  # nothing was removed behind the report's back
    assert len(still[RULE]) == len(still[OM]) == 1


async def test_session_expiring_mid_deploy_is_refreshed(demo):
    async with client_for(demo) as client:
        calls = 0

        async def expiring_post(body: bytes) -> tuple[int, bytes]:
            nonlocal calls
            calls += 1
            if calls == 2:  # after the messages, before the flows
                await asyncio.to_thread(demo.admin, "POST", "/expire-sessions")
            return await client.post_metadata_soap(body)

        automation = Automation(client, demo, post=expiring_post)
        report = await automation.deploy(["Opportunity"], ENDPOINT)
        refreshes = client.session.refresh_count
    assert report.ok, (report.failures, report.fault)
    assert report.triggers == {"Opportunity": FLOW}
    assert refreshes == 1 and calls == 3  # messages, refused flows call, flows again
    assert len(automation.snapshot()[FLOW]) == 1


async def test_record_change_delivers_an_outbound_message_over_loopback(make_org):
    running = make_org(size=SIZE, time_scale=1000)  # a missed ACK would be retried in ~15 ms
    async with outbound_listener() as listener, client_for(running) as client:
        report = await Automation(client, running).deploy(["Opportunity"], listener.url)
        assert report.ok, (report.failures, report.fault)
        [deal] = await client.query_all_records(
            "SELECT Id, StageName FROM Opportunity WHERE IsClosed = false LIMIT 1")
        stage = "Negotiation/Review" if deal["StageName"] != "Negotiation/Review" \
            else "Prospecting"
        await asyncio.to_thread(running.admin, "PATCH", f"/records/Opportunity/{deal['Id']}",
                                json={"StageName": stage, "Amount": 123456.5})
        await asyncio.wait_for(listener.arrived.wait(), timeout=30)
        await asyncio.sleep(0.3)  # room for a (wrong) retry to show up
    assert listener.rejected == []
    assert len(listener.messages) == 1  # ACKed once: never redelivered
    message = listener.messages[0]
    assert org_ids_match(message.organization_id, running.org.org_id)
    assert message.action_id == report_action_id(running)
    assert message.session_id is None
    [note] = message.notifications
    assert note.sobject_type == "Opportunity" and note.record_id == deal["Id"]
    assert note.fields["StageName"] == stage and float(note.fields["Amount"]) == 123456.5
    assert set(note.fields) == {"Id", "Amount", "CloseDate", "Name", "StageName"}
    assert listener.answers == [ACK_BODY] and is_ack(200, ACK_BODY)


def report_action_id(running) -> str:
    """The deployed WorkflowOutboundMessage's id: the ActionId every notification carries."""
    return running.admin("GET", "/automation").json()[OM][0]["id"]


@pytest.mark.parametrize(("trigger", "refuse_rules"),
                         [("rule", False), ("flow", False), ("auto", True)])
async def test_the_demo_orgs_answers_are_valid_against_salesforces_wsdl(make_org, trigger,
                                                                         refuse_rules):
    """Requests the app sends and every answer the demo org gives them — refusals included —
    held to Salesforce's own Metadata WSDL (shipped in simple-salesforce)."""
    running = make_org(size=SIZE, profile=OrgProfile(refuse_workflow_rules=refuse_rules))
    exchanged: list[tuple[bytes, bytes]] = []
    async with client_for(running) as client:

        async def recording_post(body: bytes) -> tuple[int, bytes]:
            status, answer = await client.post_metadata_soap(body)
            exchanged.append((body, answer))
            return status, answer

        automation = Automation(client, running, post=recording_post)
        deployed = await automation.deploy(["Opportunity", "Account"], ENDPOINT,
                                           trigger=trigger)
        again = await automation.deploy(["Opportunity"], ENDPOINT, trigger=trigger)
        refused = await automation.deploy(["Contact"], ENDPOINT, trigger="rule")
        removal = await automation.remove(deployed)
    assert deployed.ok and again.ok and removal.ok
    assert refused.ok is not refuse_rules  # the refusal's answer is checked below too
    assert len(exchanged) >= 5
    for request, answer in exchanged:
        assert envelope_errors(request) == [], request[:200]
        assert envelope_errors(answer) == [], answer[:300]
