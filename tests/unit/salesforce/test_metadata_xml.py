"""Metadata API SOAP codec: envelopes, WSDL element order, results, faults, records."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from smvue_tui.salesforce.errors import MetadataFault, MetadataSessionInvalid
from smvue_tui.salesforce.guard import ReadOnlyGuard
from smvue_tui.salesforce.metadata_defs import (
    outbound_message,
    record_triggered_flow,
    workflow_rule,
)
from smvue_tui.salesforce.metadata_xml import (
    ORDER,
    MetadataComponent,
    MetadataError,
    create_metadata_envelope,
    delete_metadata_envelope,
    parse_read_records,
    parse_results,
    read_metadata_envelope,
    save_envelope,
    scrub,
    upsert_metadata_envelope,
)
from tests.unit.salesforce.metadata_samples import (
    INVALID_SESSION,
    MD,
    TOKEN,
    fault,
    response,
    result,
)

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def om(obj="Opportunity", name="PipelinePulse_OM"):
    return outbound_message(obj, name, "https://hooks.example.org/sf/7f3c9a",
                            ["Amount", "CloseDate", "LastModifiedDate", "StageName"],
                            "integration@acme.example", "Pushes opportunity changes")


def local(el):
    return el.tag.rpartition("}")[2]


def call_of(envelope: bytes):
    root = SafeET.fromstring(envelope, forbid_dtd=True)
    assert root.tag == f"{{{ENV}}}Envelope"
    header, body = list(root)
    assert header.tag == f"{{{ENV}}}Header" and body.tag == f"{{{ENV}}}Body"
    [call] = list(body)
    assert call.tag.startswith(f"{{{MD}}}")
    return header, call


def test_create_envelope_matches_the_reference_sample():
    header, call = call_of(create_metadata_envelope(TOKEN, [om()]))
    session = header.find(f"{{{MD}}}SessionHeader/{{{MD}}}sessionId")
    assert session is not None and session.text == TOKEN
    assert header.find(f"{{{MD}}}AllOrNoneHeader") is None
    assert local(call) == "createMetadata"
    [metadata] = list(call)
    assert local(metadata) == "metadata" and metadata.get(f"{{{XSI}}}type") == \
        "WorkflowOutboundMessage"
    assert [(local(c), c.text) for c in metadata] == [
        ("fullName", "Opportunity.PipelinePulse_OM"), ("apiVersion", "66.0"),
        ("description", "Pushes opportunity changes"),
        ("endpointUrl", "https://hooks.example.org/sf/7f3c9a"),
        ("fields", "Id"), ("fields", "Amount"), ("fields", "CloseDate"),
        ("fields", "LastModifiedDate"), ("fields", "StageName"),
        ("includeSessionId", "false"), ("integrationUser", "integration@acme.example"),
        ("name", "PipelinePulse_OM"), ("protected", "false"), ("useDeadLetterQueue", "false"),
    ]


def _assert_in_order(type_name: str, names: list[str]) -> None:
    order = ORDER[type_name]
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), (type_name, names)


@pytest.mark.parametrize("component", [
    om(),
    workflow_rule("Opportunity", "PipelinePulse_Rule", "PipelinePulse_OM"),
    record_triggered_flow("Opportunity", "PipelinePulse_Flow", "Opportunity.PipelinePulse_OM"),
], ids=["outbound", "rule", "flow"])
def test_elements_follow_wsdl_sequence_at_every_level(component):
    _, call = call_of(upsert_metadata_envelope(TOKEN, [component]))
    [metadata] = list(call)
    names = [local(c) for c in metadata]
    assert names[0] == "fullName"
    _assert_in_order(component.type, names[1:])
    for child in metadata:
        nested = {"actions": "WorkflowActionReference", "actionCalls": "FlowActionCall",
                  "start": "FlowStart"}.get(local(child))
        if nested:
            _assert_in_order(nested, [local(c) for c in child])


def test_order_comes_from_the_wsdl_not_the_mapping():
    scrambled = MetadataComponent("WorkflowRule", "Lead.R", {
        "triggerType": "onAllChanges", "formula": "TRUE", "active": True,
        "actions": [{"type": "OutboundMessage", "name": "M"}]})
    _, call = call_of(create_metadata_envelope(TOKEN, [scrambled]))
    rule = call[0]
    assert [local(c) for c in rule] == ["fullName", "actions", "active", "formula",
                                        "triggerType"]
    assert [local(c) for c in rule[1]] == ["name", "type"]


def test_unknown_elements_and_mixed_types_refused():
    with pytest.raises(ValueError, match="no element"):
        create_metadata_envelope(TOKEN, [MetadataComponent("WorkflowRule", "Lead.R",
                                                           {"bogus": "1"})])
    with pytest.raises(ValueError, match="same type"):
        create_metadata_envelope(TOKEN, [om(), workflow_rule("Opportunity", "R", "M")])
    with pytest.raises(ValueError, match="1 to 10"):
        upsert_metadata_envelope(TOKEN, [om(name=f"M{i}") for i in range(11)])
    with pytest.raises(ValueError, match="1 to 10"):
        delete_metadata_envelope(TOKEN, "Flow", [])
    with pytest.raises(ValueError, match="not a save call"):
        save_envelope("deploy", TOKEN, [om()])
    with pytest.raises(ValueError, match="session id"):
        create_metadata_envelope("", [om()])


def test_token_never_in_builder_errors():
    for call in (lambda: upsert_metadata_envelope(TOKEN, []),
                 lambda: create_metadata_envelope(TOKEN, [MetadataComponent("X", "Y", {})])):
        with pytest.raises(ValueError) as info:
            call()
        assert TOKEN not in str(info.value) and "AQ4" not in repr(info.value)


def test_values_are_escaped():
    comp = MetadataComponent("WorkflowOutboundMessage", "Lead.M",
                             {"description": "a < b & c ]]> \"d\"", "name": "M"})
    _, call = call_of(upsert_metadata_envelope("tok<&>", [comp]))
    assert call[0][1].text == "a < b & c ]]> \"d\""


def test_all_or_none_header():
    header, _ = call_of(upsert_metadata_envelope(TOKEN, [om()], all_or_none=True))
    flag = header.find(f"{{{MD}}}AllOrNoneHeader/{{{MD}}}allOrNone")
    assert flag is not None and flag.text == "true"


@pytest.mark.parametrize("build", [read_metadata_envelope, delete_metadata_envelope])
def test_by_name_envelopes(build):
    _, call = call_of(build(TOKEN, "Flow", ["A_Flow", "B_Flow"]))
    assert local(call) == build.__name__.removesuffix("_envelope").replace("_m", "M")
    assert [(local(c), c.text) for c in call] == [
        ("type", "Flow"), ("fullNames", "A_Flow"), ("fullNames", "B_Flow")]


def test_the_read_only_guard_allows_every_envelope():
    guard = ReadOnlyGuard()
    url = "https://acme.my.salesforce.com/services/Soap/m/66.0"
    flow = record_triggered_flow("Opportunity", "F", "Opportunity.M")
    for body in (create_metadata_envelope(TOKEN, [om()]),
                 upsert_metadata_envelope(TOKEN, [flow]),
                 read_metadata_envelope(TOKEN, "WorkflowRule", ["Opportunity.R"]),
                 delete_metadata_envelope(TOKEN, "WorkflowOutboundMessage", ["Opportunity.M"])):
        guard.check("POST", url, body)


# --- results -------------------------------------------------------------------------------------

def test_upsert_results_like_salesforce():
    body = response("upsertMetadata", result("Opportunity.A", created=True)
                    + result("Opportunity.B", created=False)
                    + result("Opportunity.C", [("FIELD_INTEGRITY_EXCEPTION",
                                                "Invalid length, minimum is: 256")],
                             created=False, fields=("endpointUrl",)))
    a, b, c = parse_results(body)
    assert (a.full_name, a.success, a.created, a.errors) == ("Opportunity.A", True, True, [])
    assert (b.success, b.created) == (True, False)
    assert not c.success
    assert c.errors == [MetadataError("FIELD_INTEGRITY_EXCEPTION",
                                      "Invalid length, minimum is: 256", ("endpointUrl",))]
    assert c.errors[0] == ("FIELD_INTEGRITY_EXCEPTION", "Invalid length, minimum is: 256",
                           ("endpointUrl",))
    assert c.has_code("FIELD_INTEGRITY_EXCEPTION")
    assert c.describe() == "FIELD_INTEGRITY_EXCEPTION: Invalid length, minimum is: 256"


def test_save_and_delete_results():
    saved = parse_results(response("createMetadata", result(
        "Opportunity.R", [("INVALID_OPERATION", "Workflow rules can no longer be created")])))
    assert saved[0].errors[0].status_code == "INVALID_OPERATION" and not saved[0].created
    deleted = parse_results(response("deleteMetadata", result("F1") + result("F2", [
        ("DELETE_FAILED", "You can't delete the active flow F2"), ("OTHER", "x")])))
    assert [r.success for r in deleted] == [True, False]
    assert [e.status_code for e in deleted[1].errors] == ["DELETE_FAILED", "OTHER"]


def test_success_false_without_errors_is_a_failure():
    body = response("createMetadata",
                    "<result><fullName>X.Y</fullName><success>false</success></result>")
    assert not parse_results(body)[0].success


# --- faults --------------------------------------------------------------------------------------

def test_invalid_session_is_distinguishable():
    with pytest.raises(MetadataSessionInvalid) as info:
        parse_results(INVALID_SESSION, status=500)
    exc = info.value
    assert isinstance(exc, MetadataFault)
    assert exc.code == "INVALID_SESSION_ID" and exc.status == 500
    assert exc.detail == "Invalid Session ID found in SessionHeader: Illegal Session"


@pytest.mark.parametrize(("body", "code"), [
    (fault("sf:INVALID_TYPE", "INVALID_TYPE: Unknown type name 'Foo' specified"), "INVALID_TYPE"),
    (fault("sf:REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", detail=False),
     "REQUEST_LIMIT_EXCEEDED"),
    (fault("soapenv:Client", "Element {http://soap.sforce.com/2006/04/metadata}name invalid at "
                             "this location"), "Client"),
])
def test_faults_are_typed_with_code(body, code):
    with pytest.raises(MetadataFault) as info:
        parse_results(body, status=500)
    assert info.value.code == code
    assert not isinstance(info.value, MetadataSessionInvalid)


@pytest.mark.parametrize(("status", "body"), [
    (500, b"<html><body>Internal error</body></html>"),
    (503, b"Service Unavailable"),
    (200, b""),
    (200, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'),
    (404, response("upsertMetadata", result("A"))),
    (200, response("somethingElse", "").replace(b"Response>", b">")),
])
def test_non_soap_answers_become_faults(status, body):
    with pytest.raises(MetadataFault, match=f"HTTP {status}"):
        parse_results(body, status=status)


def test_token_scrubbed_from_fault_text():
    body = fault("sf:INVALID_SESSION_ID", f"INVALID_SESSION_ID: bad session {TOKEN}")
    with pytest.raises(MetadataFault) as info:
        parse_results(body, status=500, secret=TOKEN)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert TOKEN not in info.value.detail
    # Even without being told the secret, anything shaped like a session id is cut out.
    assert "AQ4AQFake" not in scrub(f"x {TOKEN} y")
    assert len(scrub("z" * 10_000)) < 600


def test_token_scrubbed_from_result_messages():
    body = response("upsertMetadata", result("A", [("X", f"echo {TOKEN}")], created=False))
    [r] = parse_results(body, secret=TOKEN)
    assert TOKEN not in r.describe() and TOKEN not in repr(r)


# --- readMetadata --------------------------------------------------------------------------------

def test_read_records_to_dicts():
    body = response("readMetadata", (
        '<result><records xsi:type="WorkflowOutboundMessage">'
        "<fullName>Opportunity.M</fullName><apiVersion>66.0</apiVersion>"
        "<endpointUrl>https://h/x</endpointUrl><fields>Id</fields>"
        "<includeSessionId>false</includeSessionId><name>M</name></records>"
        '<records xsi:type="WorkflowOutboundMessage"/>'
        '<records xsi:nil="true"/></result>'))
    [rec] = parse_read_records(body)
    assert rec == {"fullName": "Opportunity.M", "apiVersion": "66.0",
                   "endpointUrl": "https://h/x", "fields": ["Id"],
                   "includeSessionId": "false", "name": "M"}


def test_read_flow_record_nested():
    body = response("readMetadata", (
        '<result><records xsi:type="Flow"><fullName>F</fullName>'
        "<actionCalls><name>Send</name><actionName>Lead.M</actionName></actionCalls>"
        "<start><connector><targetReference>Send</targetReference></connector>"
        "<object>Lead</object></start><status>Active</status></records></result>"))
    [rec] = parse_read_records(body)
    assert rec["actionCalls"] == [{"name": "Send", "actionName": "Lead.M"}]
    assert rec["start"] == {"connector": {"targetReference": "Send"}, "object": "Lead"}
    assert rec["status"] == "Active"


def test_read_fault():
    with pytest.raises(MetadataSessionInvalid):
        parse_read_records(INVALID_SESSION, status=500)
