"""The demo org's objects held against real Salesforce (smvue_demo_org/real_salesforce.py).

That file's facts come from a real org's describe (API 64.0) and Salesforce's Object Reference;
a field the demo org invents, a wrong type, IsDeleted where Salesforce has none, or /deleted on
an object Salesforce does not replicate would let the app pass here and fail on a real org.
"""

from __future__ import annotations

import pytest

from smvue_demo_org.describe import describe_global, describe_object
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.real_salesforce import (
    FEATURE_FIELDS,
    OBJECTS,
    REAL_FIELDS,
    has_is_deleted,
)
from smvue_demo_org.schema import build_catalog

EVERYTHING = OrgProfile(multi_currency=True)  # every feature on: every field the org can have
VISIBLE = build_catalog(EVERYTHING).visible(EVERYTHING)


@pytest.mark.parametrize("name", sorted(VISIBLE.objects))
def test_every_field_exists_in_real_salesforce_with_its_type(name):
    real = REAL_FIELDS[name]
    wrong = {f.name: (f.type, real.get(f.name)) for f in VISIBLE.objects[name].fields.values()
             if not f.custom and f.name not in FEATURE_FIELDS and real.get(f.name) != f.type}
    assert wrong == {}  # name: (demo type, real type or None when real Salesforce lacks it)


@pytest.mark.parametrize("name", sorted(VISIBLE.objects))
def test_is_deleted_and_replication_as_in_real_salesforce(name):
    described = describe_object(VISIBLE.objects[name], "67.0")
    assert ("IsDeleted" in {f["name"] for f in described["fields"]}) == has_is_deleted(name)
    summary = next(o for o in describe_global(VISIBLE, "67.0")["sobjects"] if o["name"] == name)
    assert summary["replicateable"] is OBJECTS[name].replicateable, OBJECTS[name].source


def test_the_objects_without_is_deleted_are_the_ones_issue_12_names():
    assert sorted(n for n in REAL_FIELDS if not has_is_deleted(n)) == [
        "BusinessProcess", "OpportunityStage", "Organization", "RecordType", "User"]


def test_history_values_are_any_type_and_activities_have_no_type():
    for history in ("LeadHistory", "OpportunityFieldHistory"):
        assert {VISIBLE.objects[history].fields[f].type for f in ("OldValue", "NewValue")} == \
            {"anyType"}
    assert "Type" not in VISIBLE.objects["Task"].fields
    assert "Type" not in VISIBLE.objects["Event"].fields
