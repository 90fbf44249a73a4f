"""Every Metadata API envelope the app can build, validated against Salesforce's own WSDL.

The schema is the ``metadata.wsdl`` shipped inside simple-salesforce (Salesforce's Metadata API
WSDL, API 63.0): written by Salesforce, not by us, so a shared wrong assumption between our
client and our demo org cannot make these pass. Requests are collected from real runs of
``deploy_automation``/``remove_automation`` (every path: rule, flow, flow fallback, deactivation
to Draft and Obsolete, deletes) as well as from each builder directly.
"""

from __future__ import annotations

import pytest

from smvue_tui.salesforce.metadata import deploy_automation, remove_automation
from smvue_tui.salesforce.metadata_defs import (
    FLOW_STATUSES,
    outbound_message,
    record_triggered_flow,
    workflow_rule,
)
from smvue_tui.salesforce.metadata_xml import (
    MetadataComponent,
    create_metadata_envelope,
    delete_metadata_envelope,
    read_metadata_envelope,
    save_envelope,
    upsert_metadata_envelope,
)
from tests.unit.salesforce.metadata_fake import FakeMetadataApi
from tests.unit.salesforce.metadata_samples import TOKEN, response, result
from tests.unit.salesforce.wsdl_schema import envelope_errors, wsdl_version

URL = "https://hooks.example.org/sf/outbound/7f3c9a"
FIELDS = {"Opportunity": ["Amount", "StageName", "CloseDate"], "Account": ["Name"],
          "Contact": ["AccountId"], "Custom_Thing__c": ["Status__c"]}
USER = "integration@acme.example"


def test_the_schema_is_salesforces_metadata_wsdl():
    assert wsdl_version() == "63.0"


def _om(obj="Opportunity", user=USER):
    return outbound_message(obj, f"SMVue_{obj.replace('__', '_').strip('_')}_OM", URL,
                            FIELDS.get(obj, []), user)


BUILT = {
    "outbound message": lambda: upsert_metadata_envelope(TOKEN, [_om(), _om("Account")]),
    "outbound message, custom object": lambda: create_metadata_envelope(
        TOKEN, [_om("Custom_Thing__c")], all_or_none=True),
    "workflow rule": lambda: upsert_metadata_envelope(
        TOKEN, [workflow_rule("Opportunity", "SMVue_Opportunity_Rule",
                              "Opportunity.SMVue_Opportunity_OM")]),
    "update rule": lambda: save_envelope(
        "updateMetadata", TOKEN, [workflow_rule("Account", "R", "Account.M")]),
    **{f"flow {status}": (lambda status=status: upsert_metadata_envelope(
        TOKEN, [record_triggered_flow("Opportunity", "SMVue_Opportunity_Sync",
                                      "Opportunity.SMVue_Opportunity_OM", status,
                                      label="SMVue sync")]))
       for status in FLOW_STATUSES},
    "read": lambda: read_metadata_envelope(TOKEN, "Flow", ["SMVue_Opportunity_Sync"]),
    "delete": lambda: delete_metadata_envelope(
        TOKEN, "WorkflowOutboundMessage", ["Opportunity.SMVue_Opportunity_OM", "Account.M"]),
}


@pytest.mark.parametrize("what", list(BUILT))
def test_each_builder_makes_a_valid_envelope(what):
    assert envelope_errors(BUILT[what]()) == []


async def _every_request_of_a_deploy_and_removal() -> list[bytes]:
    bodies: list[bytes] = []
    for trigger, refuse_rules in (("auto", False), ("auto", True), ("rule", False),
                                  ("flow", False)):
        api = FakeMetadataApi()
        api.refuse_rules = refuse_rules
        api.refuse_statuses = {"Draft"}  # removal goes on to Obsolete: both envelopes built
        report = await deploy_automation(api, list(FIELDS), URL, FIELDS, session_id=TOKEN,
                                         integration_user=USER, trigger=trigger)
        assert report.live_objects, report.failures
        await remove_automation(api, report, session_id=TOKEN)
        bodies += api.bodies
    return bodies


async def test_every_request_deploy_and_removal_send_is_valid():
    bodies = await _every_request_of_a_deploy_and_removal()
    calls = {b.split(b"<soapenv:Body", 1)[1][:200] for b in bodies}
    assert len(bodies) >= 12 and len(calls) > 4  # messages, rules, flows, deletes were built
    for body in bodies:
        assert envelope_errors(body) == [], body[:300]


def test_an_outbound_message_cannot_be_built_without_an_integration_user():
    for user in (None, "", "  "):
        with pytest.raises(ValueError, match="integration user"):
            _om(user=user)


async def test_a_deploy_without_an_integration_user_sends_nothing_and_says_why():
    api = FakeMetadataApi()
    report = await deploy_automation(api, ["Opportunity"], URL, FIELDS, session_id=TOKEN,
                                     integration_user="")
    assert api.bodies == [] and not report.ok
    assert "integration user" in report.failures[0].reason


def test_the_schema_refuses_what_salesforce_refuses():
    """The validator is not lax: the envelope of issue 12 (no integrationUser) and elements
    out of WSDL order both fail."""
    body = dict(_om().body)
    del body["integrationUser"]
    missing = upsert_metadata_envelope(TOKEN, [MetadataComponent(
        "WorkflowOutboundMessage", "Opportunity.SMVue_Opportunity_OM", body)])
    assert any("integrationUser" in e for e in envelope_errors(missing))
    swapped = upsert_metadata_envelope(TOKEN, [_om()]).replace(
        b"<apiVersion>66.0</apiVersion><description>", b"<description>").replace(
        b"</description><endpointUrl>", b"</description><apiVersion>66.0</apiVersion>"
                                        b"<endpointUrl>")
    assert envelope_errors(swapped) != []


@pytest.mark.parametrize(("operation", "inner"), [
    ("upsertMetadata", result("Opportunity.SMVue_Opportunity_OM", created=True)),
    ("createMetadata", result("Account.R", [("DUPLICATE_DEVELOPER_NAME", "exists")])),
    ("deleteMetadata", result("SMVue_Opportunity_Sync", [("DELETE_FAILED", "active flow")])),
])
def test_the_answers_our_tests_parse_are_shaped_like_salesforces(operation, inner):
    assert envelope_errors(response(operation, inner)) == []
