"""Which record changes queue an outbound message, and the whole path through the Metadata API."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from smvue_demo_org.automation import OUTBOUND
from smvue_demo_org.ids import make_id
from smvue_demo_org.metadata_api import add_metadata_routes
from smvue_demo_org.outbound_dispatch import add_outbound
from tests.unit.demo_org.metadata_fakes import (
    envelope,
    flow_xml,
    make_org,
    names_xml,
    om_xml,
    results,
    serve,
    soap,
)
from tests.unit.demo_org.outbound_fakes import Listener, deploy, dispatching, listening, parse

OPP = make_id("006", 1)


@pytest.mark.parametrize("trigger, active, when, fires_on", [
    ("rule", True, "onAllChanges", {"create", "update"}),
    ("rule", True, "onCreateOrTriggeringUpdate", {"create", "update"}),
    ("rule", True, "onCreateOnly", {"create"}),
    ("rule", False, "onAllChanges", set()),
    ("flow", True, "CreateAndUpdate", {"create", "update"}),
    ("flow", True, "Create", {"create"}),
    ("flow", True, "Update", {"update"}),
    ("flow", False, "CreateAndUpdate", set()),  # a Draft flow does nothing
])
async def test_which_changes_queue_a_notification(trigger: str, active: bool, when: str,
                                                  fires_on: set[str]) -> None:
    org = make_org()
    listener = Listener()
    async with listening(listener) as url, dispatching(org) as disp:
        deploy(org, url, trigger=trigger, active=active, when=when)
        queued = {}
        for kind in ("create", "update", "delete"):
            before = disp.stats["queued"]
            org.store.write("Opportunity", OPP, kind, StageName="Pilot")
            queued[kind] = disp.stats["queued"] - before
        org.store.write("Account", make_id("001", 1), "update", Name="No trigger here")
        await disp.drain(10)
        assert {k for k, n in queued.items() if n} == fires_on
        assert disp.stats["queued"] == len(fires_on) == disp.stats["delivered"]
    assert sum(len(parse(b).notifications) for _, b in listener.calls) == len(fires_on)


async def test_deleting_the_definition_drops_its_queue() -> None:
    org = make_org()
    listener = Listener(always="500")
    async with listening(listener) as url, dispatching(org, time_scale=100) as disp:
        om = deploy(org, url)
        org.store.write("Opportunity", OPP, "update", StageName="Pilot")
        for _ in range(1000):
            if listener.calls:
                break
            await disp.drain(0.01)
        for comp in org.automation.components():
            org.automation.remove(comp.type, comp.full_name)
        assert org.automation.by_id(om.id) is None
        await disp.drain(10)  # the retry 15 simulated seconds later finds no definition
        assert disp.stats["dropped"] == 1 and disp.stats["waiting"] == 0


async def test_deployed_through_the_metadata_api_and_delivered() -> None:
    org = make_org()
    listener = Listener(script=["500"])
    app = web.Application()
    add_metadata_routes(app, org)
    dispatcher = add_outbound(app, org, time_scale=1000)
    async with listening(listener) as hook, serve(app) as base:
        org.base_url = base
        async with httpx.AsyncClient(base_url=base) as client:
            fields = ("Id", "Name", "StageName", "LastModifiedDate")
            for call in (om_xml(endpoint=hook, fields=fields), flow_xml()):
                [res] = results(await soap(client, envelope(
                    f"<createMetadata>{call}</createMetadata>")))
                assert res["success"] == "true", res
            org.store.write("Opportunity", OPP, "create", Name="Acme", StageName="Pilot")
            await dispatcher.drain(10)
            assert dispatcher.stats["delivered"] == 1 and dispatcher.stats["attempts"] == 2

            # Deactivate, then nothing more is sent; then the whole automation can go.
            await soap(client, envelope(f"<upsertMetadata>{flow_xml(status='Draft')}"
                                        "</upsertMetadata>"))
            org.store.write("Opportunity", OPP, "update", StageName="Closed Won")
            assert dispatcher.stats["queued"] == 1
            for type_, name in (("Flow", "PipelinePulse_Flow"),
                                (OUTBOUND, "Opportunity.PipelinePulse_OM")):
                [res] = results(await soap(client, envelope(
                    names_xml("deleteMetadata", type_, name))))
                assert res["success"] == "true", res
    sent = parse(listener.calls[-1][1])
    assert sent.action_id == make_id("04k", 1)
    assert [name for name, _ in sent.notifications[0][2]] == ["Id", "LastModifiedDate", "Name",
                                                             "StageName"]
    assert sent.enterprise_url.startswith(f"{base}/services/Soap/c/66.0/")
