"""Deal queries on a hand-built store: paging and sorting, one deal's detail, notes and action
items (SMVue's own rows)."""

from __future__ import annotations

import json

import pytest

from smvue_tui.store import deals as dl
from smvue_tui.store import models as m
from smvue_tui.store.pipeline import DealFilter
from tests.unit.store.pipeline_fixtures import (
    ACME,
    ANA,
    BO,
    CHILD,
    CY,
    NEW,
    deal_id,
    map_team,
)

ALL_NEW = DealFilter(pipeline=NEW, status="all")


def _names(rows: list[tuple]) -> list[str]:
    return [r[0] for r in rows]


def test_source_counts_and_pages_by_close_date_with_the_id_last(store):
    src = dl.DealSource(ALL_NEW)
    assert src.count() == 7
    first, second = src.fetch(0, 4), src.fetch(4, 4)
    assert len(first) == 4 and len(second) == 3
    closes = [r[dl.DEAL_COLUMNS.index("close_date")] for r in first + second]
    assert closes == sorted(closes)
    assert first[0][dl.ID_INDEX] == deal_id("07")  # Lost deal closes first
    row = dict(zip(dl.DEAL_COLUMNS, next(r for r in first if r[0] == "Acme expansion"),
                   strict=False))
    assert row == {"name": "Acme expansion", "account": "Acme GmbH",
                        "stage": "Prospecting", "amount": 1000.0, "currency": "USD",
                        "close_date": "2026-11-10", "owner": "Ana Lee", "probability": 10.0}


def test_sort_by_amount_descending_and_by_stage_order(store):
    by_amount = dl.DealSource(ALL_NEW).sorted_by("amount", True).fetch(0, 3)
    assert _names(by_amount) == ["Beta rollout", "Acme platform", "Acme expansion"]
    by_stage = dl.DealSource(ALL_NEW).sorted_by("stage", False).fetch(0, 10)
    stages = [r[2] for r in by_stage]
    assert stages == ["Legacy Stage", "Prospecting", "Proposal", "Proposal", "Negotiation",
                      "Closed Won", "Closed Lost"]  # unknown stage (no order) first, ascending
    by_owner = dl.DealSource(ALL_NEW).sorted_by("owner", False).fetch(0, 10)
    assert [r[6] for r in by_owner][:3] == ["Ana Lee"] * 3
    with pytest.raises(ValueError, match="cannot sort deals by"):
        dl.DealSource().sorted_by("Id; DROP TABLE", False)


def test_source_follows_the_team_filter(store):
    map_team(BO)
    assert _names(dl.DealSource(ALL_NEW).sorted_by("name", False).fetch(0, 10)) == [
        "Beta rollout", "Delta legacy", "Lost deal"]


def test_detail_fields_custom_fields_and_hierarchy(store):
    m.CustomFieldMapping.create(api_name="Region__c", label="Region", type="string")
    m.CustomFieldMapping.create(api_name="Old__c", label="Old", type="string", enabled=False)
    m.Opportunity.update(custom_fields=json.dumps({"Region__c": "EMEA", "Old__c": "x"})).where(
        m.Opportunity.id == deal_id("01")).execute()
    d = dl.deal_detail(deal_id("01"))
    fields = dict(d.fields)
    assert (fields["Amount"], fields["Stage"], fields["Owner"], fields["Pipeline"]) == (
        "1,000 USD", "Prospecting", "Ana Lee", "New Business")
    assert d.custom_fields == [("Region", "EMEA")]  # only enabled mappings, by label
    assert d.account == (ACME, "Acme GmbH")
    assert [n for _, n in d.ancestors] == ["Acme Holdings", "Acme Europe"]  # root first
    assert d.children == [(CHILD, "Acme Berlin")]


def test_hierarchy_survives_a_cycle_and_a_missing_parent(store):
    m.Account.update(parent_id=ACME).where(m.Account.name == "Acme Holdings").execute()
    d = dl.deal_detail(deal_id("01"))
    assert [n for _, n in d.ancestors] == ["Acme Holdings", "Acme Europe"]
    m.Account.update(parent_id="0018W00000000ZZQAA").where(m.Account.id == ACME).execute()
    assert dl.deal_detail(deal_id("01")).ancestors == [("0018W00000000ZZQAA", "(not synced)")]


def test_contact_roles_decision_makers_first(store):
    did = deal_id("01")
    for n, (name, role, primary) in enumerate([("Zed Other", "Other", False),
                                               ("Amy Eval", "Evaluator", False),
                                               ("Dan Decider", "Decision Maker", False),
                                               ("Pia Primary", "Technical Buyer", True),
                                               ("Eve Buyer", "Economic Buyer", False)]):
        cid = f"0038W00000000{n}QAA"
        m.Contact.create(id=cid, name=name, account_id=ACME)
        m.OpportunityContactRole.create(id=f"00K8W00000000{n}UAA", opportunity_id=did,
                                        contact_id=cid, role=role, is_primary=primary)
    roles = dl.deal_detail(did).contact_roles
    assert [r.name for r in roles] == ["Pia Primary", "Dan Decider", "Eve Buyer", "Amy Eval",
                                       "Zed Other"]


def test_activity_newest_first_with_kinds_and_account_activity(store):
    did = deal_id("01")
    rows = [("00U1", "Event", None, "2026-10-02T15:00:00.000+0000", did, "Demo"),
            ("00T1", "Task", "Call", "2026-10-05", did, "Call back"),
            ("00T2", "Task", "Task", "2026-09-01", did, "Send deck"),
            ("02s1", "EmailMessage", None, "2026-10-07T09:00:00.000+0000", did, "Pricing"),
            ("00T3", "Task", "Email", "2026-10-06", ACME, "Email: intro"),
            ("00T4", "Task", "Call", "2026-10-09", deal_id("02"), "Other deal")]
    for aid, kind, sub, when, what, subject in rows:
        m.Activity.create(id=aid.ljust(18, "0"), kind=kind, subtype=sub, occurred_at=when,
                          what_id=what, subject=subject, status="3" if kind ==
                          "EmailMessage" else "Completed")
    acts = dl.deal_detail(did).activities
    assert [(a.kind, a.subject, a.on_account) for a in acts] == [
        ("Email", "Pricing", False), ("Email", "Email: intro", True), ("Call", "Call back", False),
        ("Meeting", "Demo", False), ("Task", "Send deck", False)]
    assert acts[0].status == "Sent" and acts[3].when == "2026-10-02 15:00"


def test_stage_history_and_collaborators(store):
    did = deal_id("01")
    for n, (stage, when) in enumerate([("Prospecting", "2026-08-01T10:00:00.000+0000"),
                                       ("Proposal", "2026-09-01T10:00:00.000+0000")]):
        m.StageHistory.create(id=f"0088W00000000{n}QAA", sobject="OpportunityHistory",
                              parent_id=did, stage_name=stage, amount=1000.0,
                              created_date=when, close_date="2026-11-10")
    m.StageHistory.create(id="0088W00000000LQAA", sobject="LeadHistory", parent_id=did,
                          created_date="2026-09-02")
    map_team(BO)
    m.Collaborator.create(id="00q8W000000001QAA", sobject="OpportunityTeamMember",
                          parent_id=did, user_id=BO, role="Sales Engineer")
    m.Collaborator.create(id="00q8W000000002QAA", sobject="OpportunityTeamMember",
                          parent_id=did, user_id=CY, role="Executive Sponsor")
    m.Collaborator.create(id="01M8W000000001QAA", sobject="AccountTeamMember",
                          parent_id=ACME, user_id=ANA, role="Account Manager")
    d = dl.deal_detail(did)
    assert [h[1] for h in d.stage_history] == ["Proposal", "Prospecting"]
    assert d.stage_history[0][2] == "1,000 USD"  # the deal's currency, as its amount says
    assert [(c.name, c.role, c.on, c.team_member) for c in d.collaborators] == [
        ("Bo Chen", "Sales Engineer", "deal", True),
        ("Cy Park", "Executive Sponsor", "deal", False),
        ("Ana Lee", "Account Manager", "account", False)]


def test_missing_deal_is_a_clear_error(store):
    with pytest.raises(dl.DealNotFound, match="not in the store"):
        dl.deal_detail("0068W00000000ZZQAA")


def test_notes_add_edit_delete_newest_first(store):
    did = deal_id("02")
    first = dl.add_note(did, "  Call the CFO  ")
    second = dl.add_note(did, "Pricing approved")
    m.Note.update(updated_at="2000-01-01").where(m.Note.id == first.id).execute()
    assert [n.body for n in dl.notes(did)] == ["Pricing approved", "Call the CFO"]
    dl.update_note(first.id, "Call the CFO on Monday")
    assert dl.notes(did)[0].body == "Call the CFO on Monday"
    dl.delete_note(second.id)
    assert [n.body for n in dl.deal_detail(did).notes] == ["Call the CFO on Monday"]
    with pytest.raises(ValueError, match="cannot be empty"):
        dl.add_note(did, "   ")


def test_action_items_add_complete_and_order(store):
    did = deal_id("02")
    late = dl.add_action_item(did, "Send contract", "2026-12-20")
    soon = dl.add_action_item(did, "Book demo", "2026-12-01")
    undated = dl.add_action_item(did, "Intro to SE")
    assert [a.text for a in dl.action_items(did)] == ["Book demo", "Send contract", "Intro to SE"]
    dl.set_action_item_done(soon.id)
    assert [(a.text, a.done) for a in dl.action_items(did)] == [
        ("Send contract", False), ("Intro to SE", False), ("Book demo", True)]
    dl.set_action_item_done(soon.id, False)
    assert not m.ActionItem.get_by_id(soon.id).done
    assert {late.id, undated.id} <= {a.id for a in dl.action_items(did)}
    with pytest.raises(ValueError, match="due date must look like 2026-12-31"):
        dl.add_action_item(did, "Bad", "next week")
    with pytest.raises(ValueError, match="cannot be empty"):
        dl.add_action_item(did, "")


def test_money_formatting():
    assert dl.money(None) == "—"
    assert dl.money(1234567.4) == "1,234,567"
    assert dl.money(12.0, "EUR") == "12 EUR"


def test_deep_pages_read_from_the_end_match_forward_paging(store, monkeypatch):
    """Deep offsets are read in reverse; the rows must be the very same, in order."""
    m.Opportunity.insert_many([
        {"id": f"0068W1{i:012d}", "name": f"Bulk {i % 7}", "record_type_id": NEW,
         "stage_name": "Proposal", "amount": float(i % 5) if i % 9 else None,
         "close_date": None if i % 11 == 0 else f"2027-0{1 + i % 9}-1{i % 10}",
         "owner_id": ANA, "is_closed": False} for i in range(60)]).execute()
    for sort in (("close_date", False), ("amount", True), ("name", False)):
        src = dl.DealSource(ALL_NEW).sorted_by(*sort)
        forward = [r[dl.ID_INDEX] for r in src.fetch(0, 1000)]
        monkeypatch.setattr(dl, "_DEEP", 10)  # make every page from 10 on "deep"
        pages = [r[dl.ID_INDEX] for off in range(0, 70, 8) for r in src.fetch(off, 8)]
        monkeypatch.setattr(dl, "_DEEP", 5_000)
        assert pages == forward and len(forward) == 67, sort
