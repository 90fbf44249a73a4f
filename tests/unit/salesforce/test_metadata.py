"""deploy_automation / remove_automation against a fake Metadata API transport."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.errors import MetadataSessionInvalid, ServerUnavailable
from smvue_tui.salesforce.metadata import (
    SETUP_PATHS,
    DeployedComponent,
    deploy_automation,
    remove_automation,
)
from tests.unit.salesforce.metadata_fake import FakeMetadataApi
from tests.unit.salesforce.metadata_samples import TOKEN

OM, RULE, FLOW = "WorkflowOutboundMessage", "WorkflowRule", "Flow"
URL = "https://hooks.example.org/sf/7f3c9a"
FIELDS = {"Opportunity": ["Amount", "StageName", "LastModifiedDate"]}


@pytest.fixture
def api() -> FakeMetadataApi:
    return FakeMetadataApi()


async def deploy(api, objects=("Opportunity", "Account"), **kw):
    return await deploy_automation(api, list(objects), URL, FIELDS, session_id=TOKEN,
                                   integration_user="int@acme.example", **kw)


def kinds(report):
    return [(c.type, c.full_name) for c in report.deployed]


async def test_deploys_message_then_a_flow_first(api):
    """A 2026 org takes no new Workflow Rules: the record-triggered Flow comes first."""
    report = await deploy(api)
    assert report.ok and report.fault is None and report.failures == []
    assert api.calls == [
        ("upsertMetadata", OM, ["Opportunity.SMVue_Opportunity_OM", "Account.SMVue_Account_OM"]),
        ("upsertMetadata", FLOW, ["SMVue_Opportunity_Sync", "SMVue_Account_Sync"]),
    ]
    assert kinds(report) == [
        (OM, "Opportunity.SMVue_Opportunity_OM"), (OM, "Account.SMVue_Account_OM"),
        (FLOW, "SMVue_Opportunity_Sync"), (FLOW, "SMVue_Account_Sync")]
    assert report.triggers == {"Opportunity": FLOW, "Account": FLOW}
    assert report.live_objects == ["Opportunity", "Account"]
    flow = report.deployed[2]
    assert (flow.object, flow.outbound_message, flow.created) == \
        ("Opportunity", "Opportunity.SMVue_Opportunity_OM", True)
    assert b"<fields>StageName</fields>" in api.bodies[0]
    assert b"<integrationUser>int@acme.example</integrationUser>" in api.bodies[0]
    assert b"<actionName>Opportunity.SMVue_Opportunity_OM</actionName>" in api.bodies[1]


async def test_falls_back_to_a_workflow_rule_when_the_flow_is_refused(api):
    api.refuse_flows = True
    report = await deploy(api)
    assert report.ok
    assert [c[:2] for c in api.calls] == [("upsertMetadata", OM), ("upsertMetadata", FLOW),
                                         ("upsertMetadata", RULE)]
    assert report.triggers == {"Opportunity": RULE, "Account": RULE}
    assert (RULE, "Opportunity.SMVue_Opportunity_Rule") in kinds(report)
    assert not [c for c in report.deployed if c.type == FLOW]
    assert api.names(RULE) == {"Opportunity.SMVue_Opportunity_Rule",
                               "Account.SMVue_Account_Rule"}


async def test_trigger_choice(api):
    report = await deploy(api, trigger="flow")
    assert [c[1] for c in api.calls] == [OM, FLOW] and report.triggers["Account"] == FLOW
    api2 = FakeMetadataApi()
    api2.refuse_rules = True
    report2 = await deploy(api2, trigger="rule")
    assert [c[1] for c in api2.calls] == [OM, RULE]
    assert not report2.ok and report2.triggers == {}
    assert {f.type for f in report2.failures} == {RULE}
    assert "INVALID_OPERATION" in report2.failures[0].reason
    with pytest.raises(ValueError):
        await deploy(api, trigger="process-builder")


async def test_rule_and_flow_both_refused(api):
    api.refuse_rules = api.refuse_flows = True
    report = await deploy(api, objects=["Opportunity"])
    assert not report.ok and report.triggers == {}
    [failure] = report.failures
    assert failure.type == RULE and failure.object == "Opportunity"
    assert "flow refused (FIELD_INTEGRITY_EXCEPTION" in failure.reason
    assert "workflow rule: INVALID_OPERATION" in failure.reason
    # The message itself did land, so it is recorded for removal.
    assert kinds(report) == [(OM, "Opportunity.SMVue_Opportunity_OM")]


async def test_redeploy_is_idempotent(api):
    first = await deploy(api)
    state = dict(api.components)
    second = await deploy(api)
    assert second.ok and api.components == state
    assert kinds(second) == kinds(first)
    assert all(c.created for c in first.deployed) and not any(c.created for c in second.deployed)


async def test_bad_object_names_fail_alone(api):
    report = await deploy(api, objects=["Opportunity", "Not An Object"])
    assert report.triggers == {"Opportunity": FLOW}
    [failure] = report.failures
    assert failure.object == "Not An Object" and "object API name" in failure.reason


async def test_calls_are_chunked_by_ten(api):
    objects = [f"Obj{i}__c" for i in range(12)]
    report = await deploy(api, objects=objects)
    assert report.ok
    assert [(op, t, len(n)) for op, t, n in api.calls] == [
        ("upsertMetadata", OM, 10), ("upsertMetadata", OM, 2),
        ("upsertMetadata", FLOW, 10), ("upsertMetadata", FLOW, 2)]


async def test_expired_session_refreshed_once(api):
    api.tokens = {"fresh-token"}
    refreshed = []

    async def refresh() -> str:
        refreshed.append(1)
        return "fresh-token"

    report = await deploy(api, refresh=refresh)
    assert report.ok and refreshed == [1]
    assert api.calls[0] == ("INVALID_SESSION", "", [])
    assert b"fresh-token" in api.bodies[-1]


async def test_expired_session_without_refresh_is_reported(api):
    api.tokens = set()
    report = await deploy(api)
    assert isinstance(report.fault, MetadataSessionInvalid)
    assert report.fault.code == "INVALID_SESSION_ID"
    assert report.deployed == [] and not report.ok
    for text in (str(report.fault), repr(report.fault), repr(report), str(report)):
        assert TOKEN not in text and "AQ4AQFake" not in text


async def test_refresh_that_still_fails_stops_after_one_retry(api):
    api.tokens = set()

    async def refresh() -> str:
        return "still-bad"

    report = await deploy(api, refresh=refresh)
    assert isinstance(report.fault, MetadataSessionInvalid)
    assert [c[0] for c in api.calls] == ["INVALID_SESSION", "INVALID_SESSION"]


async def test_fault_midway_keeps_what_was_deployed(api):
    api.fail_call = 1  # the rule upsert gets a 503 page
    report = await deploy(api)
    assert report.fault is not None and report.fault.status == 503
    assert kinds(report) == [(OM, "Opportunity.SMVue_Opportunity_OM"),
                             (OM, "Account.SMVue_Account_OM")]


async def test_transport_errors_are_reported(api):
    api.raise_on_call = (0, ServerUnavailable("connection reset"))
    report = await deploy(api)
    assert isinstance(report.fault, ServerUnavailable) and report.deployed == []


async def test_untyped_transport_errors_are_reported(api):
    api.raise_on_call = (1, ConnectionResetError("peer reset"))
    report = await deploy(api)
    assert isinstance(report.fault, ServerUnavailable)
    assert "ConnectionResetError" in str(report.fault)
    assert len(report.deployed) == 2  # the messages from the first call are still recorded


# --- removal -------------------------------------------------------------------------------------

async def test_removal_order_for_flows(api):
    api.refuse_rules = True
    deployed = await deploy(api)
    api.calls.clear()
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    assert removal.ok and removal.leftovers == []
    assert [c[:2] for c in api.calls] == [
        ("upsertMetadata", FLOW),  # deactivate (Draft) before delete
        ("deleteMetadata", FLOW),
        ("deleteMetadata", OM),  # messages last, once nothing references them
    ]
    assert b"<status>Draft</status>" in api.bodies[-3]
    assert api.components == {}
    assert {c.full_name for c in removal.removed} == {c.full_name for c in deployed.deployed}


async def test_removal_order_for_rules(api):
    deployed = await deploy(api, trigger="rule")
    api.calls.clear()
    removal = await remove_automation(api, deployed.deployed, session_id=TOKEN)
    assert removal.ok
    assert [c[:2] for c in api.calls] == [("deleteMetadata", RULE), ("deleteMetadata", OM)]
    assert api.components == {}


async def test_obsolete_tried_when_draft_refused(api):
    api.refuse_rules = True
    deployed = await deploy(api, objects=["Opportunity"])
    api.refuse_statuses = {"Draft"}
    api.calls.clear()
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    assert [c[:2] for c in api.calls][:2] == [("upsertMetadata", FLOW), ("upsertMetadata", FLOW)]
    assert b"<status>Obsolete</status>" in api.bodies[-3]
    assert removal.ok


async def test_partial_removal_lists_leftovers_with_setup_paths(api):
    api.refuse_rules = True
    deployed = await deploy(api)
    api.refuse_deletes = {"SMVue_Opportunity_Sync"}
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    assert not removal.ok
    left = {lo.component.full_name: lo for lo in removal.leftovers}
    assert set(left) == {"SMVue_Opportunity_Sync", "Opportunity.SMVue_Opportunity_OM"}
    assert "DELETE_FAILED" in left["SMVue_Opportunity_Sync"].reason
    assert left["SMVue_Opportunity_Sync"].setup_path == "Setup > Process Automation > Flows"
    assert left["Opportunity.SMVue_Opportunity_OM"].setup_path == \
        "Setup > Process Automation > Workflow Actions > Outbound Messages"
    assert "still used" in left["Opportunity.SMVue_Opportunity_OM"].reason
    stored = left["SMVue_Opportunity_Sync"].to_dict()
    assert stored["component"]["type"] == FLOW and stored["setup_path"] == SETUP_PATHS[FLOW]
    assert {c.full_name for c in removal.removed} == {"SMVue_Account_Sync",
                                                      "Account.SMVue_Account_OM"}
    # The message that is still referenced was not even attempted.
    om_deletes = [n for op, t, n in api.calls if op == "deleteMetadata" and t == OM]
    assert om_deletes == [["Account.SMVue_Account_OM"]]


async def test_active_flow_that_cannot_be_deactivated(api):
    api.refuse_rules = True
    deployed = await deploy(api, objects=["Opportunity"])
    api.refuse_statuses = {"Draft", "Obsolete"}
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    [flow_left, om_left] = removal.leftovers
    assert flow_left.component.type == FLOW
    assert "active flow" in flow_left.reason and "deactivation refused" in flow_left.reason
    assert om_left.component.type == OM


async def test_already_gone_counts_as_removed(api):
    deployed = await deploy(api)
    api.components.clear()  # an admin removed everything by hand
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    assert removal.ok and len(removal.removed) == 4


async def test_fault_during_removal_lists_the_rest(api):
    deployed = await deploy(api, trigger="rule")
    api.tokens = set()
    removal = await remove_automation(api, deployed, session_id=TOKEN)
    assert isinstance(removal.fault, MetadataSessionInvalid)
    assert removal.removed == [] and len(removal.leftovers) == 4
    assert all("not removed" in lo.reason and TOKEN not in lo.reason
               for lo in removal.leftovers)
    assert {lo.setup_path for lo in removal.leftovers} == {SETUP_PATHS[OM], SETUP_PATHS[RULE]}
    assert TOKEN not in repr(removal)


async def test_removal_from_stored_dicts(api):
    deployed = await deploy(api)
    stored = [c.to_dict() for c in deployed.deployed]
    again = [DeployedComponent.from_dict(d) for d in stored]
    assert again == deployed.deployed
    removal = await remove_automation(api, again, session_id=TOKEN)
    assert removal.ok and api.components == {}


async def test_removing_nothing_sends_nothing(api):
    removal = await remove_automation(api, [], session_id=TOKEN)
    assert removal.ok and api.calls == []
