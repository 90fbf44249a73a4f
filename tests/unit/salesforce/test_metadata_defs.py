"""The automation's metadata definitions: names, defaults and validation."""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.metadata_defs import (
    check_developer_name,
    default_names,
    outbound_message,
    record_triggered_flow,
    workflow_rule,
)


def test_outbound_message_defaults():
    c = outbound_message("Opportunity", "SMVue_Opportunity_OM", "https://h.example/x",
                         ["Amount", "Id", "Amount", "StageName"], "int@acme.example", "desc")
    assert (c.type, c.full_name) == ("WorkflowOutboundMessage", "Opportunity.SMVue_Opportunity_OM")
    assert c.body["fields"] == ["Id", "Amount", "StageName"]  # Id first, no repeats
    assert c.body["includeSessionId"] is False
    assert c.body["protected"] is False and c.body["useDeadLetterQueue"] is False
    assert c.body["apiVersion"] == "66.0" and c.body["name"] == "SMVue_Opportunity_OM"
    assert c.body["integrationUser"] == "int@acme.example"
    with pytest.raises(ValueError, match="integration user"):
        outbound_message("Lead", "M", "http://h/x", [], None)


@pytest.mark.parametrize(("args", "match"), [
    (("Opp ty", "M", "https://h/x", []), "object API name"),
    (("Lead", "M__x", "https://h/x", []), "single underscores"),
    (("Lead", "M", "ftp://h/x", []), "http"),
    (("Lead", "M", "https:///x", []), "http"),
    (("Lead", "M", "https://h/x", ["Bad Field"]), "field API names"),
])
def test_outbound_message_validation(args, match):
    with pytest.raises(ValueError, match=match):
        outbound_message(*args, "int@acme.example")


def test_workflow_rule_is_the_product_page_trigger():
    r = workflow_rule("Opportunity", "SMVue_Opportunity_Rule", "Opportunity.SMVue_Opportunity_OM")
    assert (r.type, r.full_name) == ("WorkflowRule", "Opportunity.SMVue_Opportunity_Rule")
    assert r.body["formula"] == "TRUE" and r.body["triggerType"] == "onAllChanges"
    assert r.body["active"] is True
    assert r.body["actions"] == [{"name": "SMVue_Opportunity_OM", "type": "OutboundMessage"}]
    assert workflow_rule("Lead", "R", "M").body["actions"][0]["name"] == "M"
    with pytest.raises(ValueError, match="does not belong"):
        workflow_rule("Lead", "R", "Opportunity.M")


def test_record_triggered_flow():
    f = record_triggered_flow("Opportunity", "SMVue_Opportunity_Sync", "SMVue_Opportunity_OM")
    assert (f.type, f.full_name) == ("Flow", "SMVue_Opportunity_Sync")
    assert f.body["processType"] == "AutoLaunchedFlow" and f.body["status"] == "Active"
    assert f.body["environments"] == "Default"
    assert f.body["label"] == "SMVue_Opportunity_Sync"
    assert f.body["interviewLabel"].startswith("SMVue_Opportunity_Sync ")
    start = f.body["start"]
    assert (start["object"], start["recordTriggerType"], start["triggerType"]) == \
        ("Opportunity", "CreateAndUpdate", "RecordAfterSave")
    [action] = f.body["actionCalls"]
    assert action["actionType"] == "outboundMessage"
    assert action["actionName"] == action["nameSegment"] == "Opportunity.SMVue_Opportunity_OM"
    assert start["connector"]["targetReference"] == action["name"]
    draft = record_triggered_flow("Opportunity", "F", "Opportunity.M", "Draft")
    assert draft.body["status"] == "Draft"
    with pytest.raises(ValueError, match="status"):
        record_triggered_flow("Opportunity", "F", "M", "Paused")


@pytest.mark.parametrize("name", ["My__Flow", "Flow_", "_Flow", "1Flow", "Flow-1", "", "F" * 81])
def test_flow_names_are_validated(name):
    with pytest.raises(ValueError, match="single underscores"):
        record_triggered_flow("Opportunity", name, "M")


def test_developer_name_ok():
    check_developer_name("SMVue_Deal_Room_c_Sync")


def test_default_names_are_valid_for_custom_objects():
    names = default_names("ns__Deal_Room__c")
    assert names.flow == "SMVue_ns_Deal_Room_c_Sync"
    for name in (names.outbound, names.rule, names.flow):
        check_developer_name(name)
    record_triggered_flow("ns__Deal_Room__c", names.flow, names.outbound)
    with pytest.raises(ValueError):
        default_names("bad name")
