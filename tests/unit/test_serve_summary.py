"""What `smvue-tui serve` says about a deploy: in words, never a repr (issue 12: a refused
outbound message was printed as ``[DeployFailure(object='Opportunity', …)]``)."""

from __future__ import annotations

from smvue_tui.cli.serve import deploy_summary
from smvue_tui.salesforce.errors import MetadataFault
from smvue_tui.salesforce.metadata import (
    DeployedComponent,
    DeployFailure,
    DeployReport,
    MetadataError,
)


def test_a_refused_deploy_is_told_in_words():
    report = DeployReport(
        deployed=[DeployedComponent("WorkflowOutboundMessage", "Account.SMVue_Account_OM",
                                    "Account"),
                  DeployedComponent("Flow", "SMVue_Account_Sync", "Account",
                                    "Account.SMVue_Account_OM")],
        failures=[DeployFailure("Opportunity", "WorkflowOutboundMessage",
                                "Opportunity.SMVue_Opportunity_OM",
                                "FIELD_INTEGRITY_EXCEPTION: Required field is missing: "
                                "integrationUser",
                                (MetadataError("FIELD_INTEGRITY_EXCEPTION", "missing"),))],
        triggers={"Account": "Flow"})
    text = deploy_summary(report)
    assert "Opportunity: WorkflowOutboundMessage Opportunity.SMVue_Opportunity_OM refused" in text
    assert "Required field is missing: integrationUser" in text
    assert "live: Account" in text
    assert "DeployFailure(" not in text and "MetadataError(" not in text


def test_a_fault_and_a_success_are_told_in_words():
    faulted = DeployReport(fault=MetadataFault("the Metadata API is down", status=503))
    assert "Salesforce stopped the deploy: " in deploy_summary(faulted)
    assert "MetadataFault(" not in deploy_summary(faulted)
    ok = DeployReport(triggers={"Opportunity": "Flow", "Account": "Flow"})
    assert deploy_summary(ok) == ("change-notification automation deployed (Opportunity, "
                                  "Account) — Salesforce will call us")
