"""The demo org's Metadata API over real loopback HTTP: CRUD round trips and ordering rules."""

from __future__ import annotations

from dataclasses import replace
from xml.etree import ElementTree as ET

from smvue_demo_org.automation import FLOW, OUTBOUND, RULE
from smvue_demo_org.faults import Faults
from smvue_demo_org.ids import make_id
from smvue_demo_org.limits import ApiUsage
from tests.unit.demo_org.metadata_fakes import (
    MD,
    XSI,
    envelope,
    flow_xml,
    make_org,
    metadata_client,
    names_xml,
    om_xml,
    results,
    rule_xml,
    soap,
)


def create(*components: str) -> str:
    return envelope(f"<createMetadata>{''.join(components)}</createMetadata>")


def upsert(*components: str) -> str:
    return envelope(f"<upsertMetadata>{''.join(components)}</upsertMetadata>")


def delete(type_: str, *names: str) -> str:
    return envelope(names_xml("deleteMetadata", type_, *names))


def read(type_: str, *names: str) -> str:
    return envelope(names_xml("readMetadata", type_, *names))


def records(content: bytes) -> list[ET.Element]:
    return list(ET.fromstring(content).iter(f"{{{MD}}}records"))


def codes(result: dict) -> list[str]:
    return [e["statusCode"] for e in result["errors"]]


async def test_outbound_message_create_read_upsert_delete() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        [res] = results(await soap(client, create(om_xml())))
        assert res == {"errors": [], "fullName": "Opportunity.PipelinePulse_OM",
                       "success": "true"}
        om = org.automation.get(OUTBOUND, "opportunity.pipelinepulse_om")
        assert om.id == make_id("04k", 1)

        [rec] = records((await soap(client, read(OUTBOUND, "Opportunity.PipelinePulse_OM")))
                        .content)
        assert rec.get(f"{{{XSI}}}type") == "WorkflowOutboundMessage"
        tags = [c.tag.rpartition("}")[2] for c in rec]
        assert tags[0] == "fullName" and tags.count("fields") == 5
        assert rec.findtext(f"{{{MD}}}endpointUrl") == "https://hooks.example.org/sf/7f3c9a"

        [dup] = results(await soap(client, create(om_xml())))
        assert dup["success"] == "false" and codes(dup) == ["DUPLICATE_DEVELOPER_NAME"]

        moved = om_xml(endpoint="https://hooks.example.org/sf/new")
        [up] = results(await soap(client, upsert(moved)))
        assert (up["success"], up["created"]) == ("true", "false")
        assert org.automation.get(OUTBOUND, "Opportunity.PipelinePulse_OM").id == om.id
        [rec] = records((await soap(client, read(OUTBOUND, "Opportunity.PipelinePulse_OM")))
                        .content)
        assert rec.findtext(f"{{{MD}}}endpointUrl") == "https://hooks.example.org/sf/new"

        [gone] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert gone == {"errors": [], "fullName": "Opportunity.PipelinePulse_OM",
                        "success": "true"}
        [again] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert codes(again) == ["INVALID_CROSS_REFERENCE_KEY"]
        [missing] = records((await soap(client, read(OUTBOUND, "Opportunity.Nope"))).content)
        assert len(missing) == 0 and missing.get(f"{{{XSI}}}nil") == "true"


async def test_upsert_creates_and_update_needs_an_existing_component() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        [up] = results(await soap(client, upsert(om_xml("Opportunity.Other_OM"))))
        assert (up["success"], up["created"]) == ("true", "true")
        body = envelope(f"<updateMetadata>{om_xml('Opportunity.Missing_OM')}</updateMetadata>")
        [res] = results(await soap(client, body))
        assert codes(res) == ["INVALID_CROSS_REFERENCE_KEY"]


async def test_workflow_rule_needs_its_outbound_message_and_blocks_its_deletion() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        [res] = results(await soap(client, create(rule_xml())))
        assert res["success"] == "false" and codes(res) == ["INVALID_CROSS_REFERENCE_KEY"]
        assert "Opportunity.PipelinePulse_OM" in res["errors"][0]["message"]

        results(await soap(client, create(om_xml())))
        [res] = results(await soap(client, create(rule_xml())))
        assert res["success"] == "true"
        rule = org.automation.get(RULE, "Opportunity.PipelinePulse_Rule")
        assert rule.id == make_id("01Q", 1) and rule.fires_on("update")

        [blocked] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert blocked["success"] == "false"
        assert "WorkflowRule Opportunity.PipelinePulse_Rule" in blocked["errors"][0]["message"]

        [rec] = records((await soap(client, read(RULE, "Opportunity.PipelinePulse_Rule")))
                        .content)
        assert rec.get(f"{{{XSI}}}type") == "WorkflowRule"
        assert rec.findtext(f"{{{MD}}}actions/{{{MD}}}name") == "PipelinePulse_OM"

        [ok] = results(await soap(client, delete(RULE, "Opportunity.PipelinePulse_Rule")))
        assert ok["success"] == "true"
        [ok] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert ok["success"] == "true"
        assert org.automation.snapshot() == {OUTBOUND: [], RULE: [], FLOW: []}


async def test_flow_must_be_deactivated_before_delete_and_before_its_message_goes() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        [res] = results(await soap(client, create(flow_xml())))
        assert res == {"errors": [], "fullName": "PipelinePulse_Flow", "success": "true"}
        flow = org.automation.get(FLOW, "PipelinePulse_Flow")
        assert flow.id == make_id("300", 1) and flow.sobject == "Opportunity"

        [blocked] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert "Flow PipelinePulse_Flow" in blocked["errors"][0]["message"]
        [active] = results(await soap(client, delete(FLOW, "PipelinePulse_Flow")))
        assert active["success"] == "false" and "Deactivate" in active["errors"][0]["message"]

        [up] = results(await soap(client, upsert(flow_xml(status="Obsolete"))))
        assert (up["success"], up["created"]) == ("true", "false")
        assert not org.automation.get(FLOW, "PipelinePulse_Flow").fires_on("create")
        [rec] = records((await soap(client, read(FLOW, "PipelinePulse_Flow"))).content)
        assert rec.findtext(f"{{{MD}}}status") == "Obsolete"
        assert rec.findtext(f"{{{MD}}}start/{{{MD}}}object") == "Opportunity"

        for type_, name in ((FLOW, "PipelinePulse_Flow"),
                            (OUTBOUND, "Opportunity.PipelinePulse_OM")):
            [ok] = results(await soap(client, delete(type_, name)))
            assert ok["success"] == "true", ok


async def test_flow_validation_follows_salesforce_rules() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        bad = [
            flow_xml("Bad__Name"),
            flow_xml("Missing_Target", action="Opportunity.Nope_OM"),
            flow_xml("On_Delete", when="Delete"),
            flow_xml("Wrong_Object", sobject="Account"),
            flow_xml("Changed_On_Create", filter_formula="ISCHANGED({!$Record.StageName})"),
        ]
        for res in results(await soap(client, create(*bad))):
            assert res["success"] == "false", res
            assert res["errors"][0]["message"]
        [ok] = results(await soap(client, create(flow_xml(
            "Changed_On_Update", when="Update",
            filter_formula="ISCHANGED({!$Record.StageName})"))))
        assert ok["success"] == "true"


async def test_outbound_message_validation_errors_are_clear() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        cases = [
            (om_xml("Opportunity.No_Url", endpoint=""), "endpointUrl", "endpointUrl"),
            (om_xml("Opportunity.Ftp_Url", endpoint="ftp://x.example/"), "http", "endpointUrl"),
            (om_xml("Opportunity.Bad_Field", fields=("Id", "Nope__c")), "Nope__c", "fields"),
            (om_xml("Widget__c.Some_OM"), "Widget__c", "fullName"),
            # Salesforce sends as an active user of the org: an unknown username is refused.
            (om_xml("Opportunity.Stranger").replace("manager@demo.smvue.local",
                                                    "nobody@elsewhere.example"),
             "no active user", "integrationUser"),
        ]
        answers = results(await soap(client, create(*(xml for xml, _, _ in cases))))
        for (_, words, field), res in zip(cases, answers, strict=True):
            [err] = res["errors"]
            assert res["success"] == "false"
            assert words in err["message"] and err["fields"] == field, err
        assert org.automation.components() == []


async def test_refused_workflow_rule_tells_to_use_a_flow() -> None:
    org = make_org(refuse_workflow_rules=True)
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        [res] = results(await soap(client, create(rule_xml())))
        assert res["success"] == "false"
        assert "Flow" in res["errors"][0]["message"]
        [flow] = results(await soap(client, create(flow_xml())))
        assert flow["success"] == "true"


async def test_professional_edition_has_no_outbound_messages() -> None:
    org = make_org(edition="Professional")
    async with metadata_client(org) as client:
        [res] = results(await soap(client, create(om_xml())))
        assert res["success"] == "false"
        assert "Professional Edition" in res["errors"][0]["message"]


async def test_refused_deletes_leave_the_component_in_place() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        org.extras["refuse_metadata_deletes"] = True
        [res] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert codes(res) == ["REQUEST_LIMIT_EXCEEDED"]
        assert org.automation.get(OUTBOUND, "Opportunity.PipelinePulse_OM") is not None


async def test_all_or_none_rolls_back_every_component() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        body = envelope(f"<createMetadata>{om_xml()}{om_xml('Opportunity.X', endpoint='')}"
                        "</createMetadata>", all_or_none=True)
        first, second = results(await soap(client, body))
        assert codes(first) == ["ALL_OR_NONE_OPERATION_ROLLED_BACK"]
        assert codes(second) == ["FIELD_INTEGRITY_EXCEPTION"]
        assert org.automation.components() == []
        [res] = results(await soap(client, create(om_xml())))
        assert org.automation.get(OUTBOUND, res["fullName"]).id == make_id("04k", 1)


async def test_org_id_form_of_the_endpoint_and_snapshot() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        resp = await client.post(f"/services/Soap/m/66.0/{org.org_id[:15]}",
                                 content=create(om_xml()).encode(),
                                 headers={"Content-Type": "text/xml", "SOAPAction": '""'})
        assert results(resp)[0]["success"] == "true"
        snap = org.automation.snapshot()
        assert [c["fullName"] for c in snap[OUTBOUND]] == ["Opportunity.PipelinePulse_OM"]
        assert snap[OUTBOUND][0]["body"]["fields"][0] == "Id"


async def test_update_changes_an_existing_rule_even_when_new_rules_are_refused() -> None:
    org = make_org()
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        results(await soap(client, create(rule_xml())))
        org.profile = replace(org.profile, refuse_workflow_rules=True)
        body = envelope(f"<updateMetadata>{rule_xml(active=False)}</updateMetadata>")
        [res] = results(await soap(client, body))
        assert res["success"] == "true"
        assert not org.automation.get(RULE, "Opportunity.PipelinePulse_Rule").fires_on("create")


async def test_the_faults_knob_also_refuses_deletes() -> None:
    org = make_org()
    org.faults = Faults()
    async with metadata_client(org) as client:
        results(await soap(client, create(om_xml())))
        org.faults.set("refuse_metadata_deletes", "1")
        [res] = results(await soap(client, delete(OUTBOUND, "Opportunity.PipelinePulse_OM")))
        assert codes(res) == ["REQUEST_LIMIT_EXCEEDED"]


async def test_calls_count_against_the_daily_api_allocation() -> None:
    org = make_org()
    org.usage = ApiUsage(3)
    async with metadata_client(org) as client:
        for _ in range(3):
            assert (await soap(client, read(OUTBOUND, "Opportunity.X"))).status_code == 200
        resp = await soap(client, read(OUTBOUND, "Opportunity.X"))
        assert resp.status_code == 500 and b"sf:REQUEST_LIMIT_EXCEEDED" in resp.content
        assert org.usage.used == 3
