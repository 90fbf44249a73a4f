"""A sync against the plainest real org (the demo org's ``lean`` profile), issue 12.

No IsDeleted on User, RecordType, OpportunityStage or Organization (as in real Salesforce), no
multi-currency, no record types, no team selling, no EmailMessage: the sync ends ok with the
store equal to the org, and no statement it sends — initial or incremental — is refused.
"""

from __future__ import annotations

import dataclasses

from smvue_demo_org.profile import named_profile
from smvue_tui.salesforce.preflight import run_preflight
from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from tests.integration.sync_run import diff, sync
from tests.integration.sync_support import client_for
from tests.integration.wire_log import WireLog, selected_fields


async def _sync(running, db, wire, kind="incremental"):
    return await sync(running, db, kind, client_options={"transport": wire})


def _diff(running):
    return diff(running)


def _unknown_fields(running, statements):
    visible = running.org.visible
    return sorted({(o, f) for soql in statements for o, f in selected_fields(soql)
                   if visible.get(o) is None or visible.get(o).field(f) is None})


async def test_lean_org_syncs_and_its_incrementals_send_nothing_it_refuses(make_org, tmp_path):
    running = make_org(profile=named_profile("lean"))
    db = open_store(tmp_path / "store.sqlite3")
    wire = WireLog()
    try:
        report = await _sync(running, db, wire, "initial")
        assert report.status == "ok", report.errors
        assert wire.refused == [] and _diff(running) == []
        assert m.Collaborator.select().count() == 0 and m.RecordType.select().count() == 0

        changed = running.admin("POST", "/mutate", json={"count": 30}).json()["changes"]
        assert changed
        wire.soql.clear()
        report = await _sync(running, db, wire)
        assert report.status == "ok" and report.errors == [], report.errors
        assert wire.refused == []
        assert _diff(running) == []
        incremental = [s for s in wire.soql if "ORDER BY" in s]
        assert any("IsDeleted" in s for s in incremental if " FROM Opportunity " in s)
        for sobject in ("User", "OpportunityStage", "RecordType", "Organization"):
            assert not [s for s in wire.soql if f" FROM {sobject} " in s and "IsDeleted" in s]
        assert _unknown_fields(running, wire.soql) == []

        report = await _sync(running, db, wire)  # nothing was re-planned: no describe again
        assert report.status == "ok" and wire.refused == []
        report = await _sync(running, db, wire, "reconcile")  # Id checks, COUNT drift checks
        assert report.status == "ok" and report.errors == [], report.errors
        assert wire.refused == [] and _diff(running) == []
        assert _unknown_fields(running, wire.soql) == []

        # A change notification's fetch by id, and the Connect screen's preflight.
        deal = m.Opportunity.select().first()
        running.admin("PATCH", f"/records/Opportunity/{deal.id}", json={"Amount": 123456.0})
        m.ChangeNotification.create(notification_id="04l000000000001AAA",
                                    sobject="Opportunity", record_id=deal.id)
        report = await _sync(running, db, wire, "webhook")
        assert report.status == "ok" and wire.refused == []
        assert m.Opportunity.get_by_id(deal.id).amount == 123456.0
        async with client_for(running, transport=wire) as client:
            assert (await run_preflight(client)).ok
        assert wire.refused == [] and _unknown_fields(running, wire.soql) == []
    finally:
        db.close()
        await wire.aclose()


async def test_a_field_refused_mid_run_replans_that_object_only(make_org, tmp_path):
    running = make_org(profile=named_profile("lean"))
    db = open_store(tmp_path / "store.sqlite3")
    wire = WireLog()
    try:
        assert (await _sync(running, db, wire, "initial")).status == "ok"
        org = running.org  # an admin hides Lead.Title from the user after the plan was made
        org.visible = org.catalog.visible(dataclasses.replace(org.profile,
                                                              hidden_fields=("Lead.Title",)))
        report = await _sync(running, db, wire)
        assert [e["object"] for e in report.errors] == ["Lead"]
        assert set(m.ObjectPlan.select(m.ObjectPlan.sobject).tuples()) == {
            (s,) for s in ("Organization", "User", "RecordType", "OpportunityStage",
                           "Opportunity", "Account", "Contact", "OpportunityContactRole",
                           "OpportunityHistory", "OpportunityTeamMember", "AccountTeamMember",
                           "LeadHistory", "Task", "Event", "EmailMessage")}
        wire.urls.clear()
        report = await _sync(running, db, wire)
        assert report.status == "ok" and report.errors == [], report.errors
        assert [u for u in wire.urls if u.endswith("/describe")] == [
            "/services/data/v67.0/sobjects/Lead/describe"]
        assert "Title" not in m.ObjectPlan.get(m.ObjectPlan.sobject == "Lead").fields
    finally:
        db.close()
        await wire.aclose()
