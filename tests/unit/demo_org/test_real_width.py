"""Each real-width object's describe held against its kept source (smvue_demo_org/real_objects).

The JSON files are a real org's describe facts (see their ``source``); the demo org must describe
every one of those fields, in that order, with the same type, label, nillability, writability and
references, and its compound address fields must look as Salesforce's do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from smvue_demo_org.describe import describe_object
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.real_salesforce import REAL_FIELDS
from smvue_demo_org.schema import build_catalog

DATA = Path(__file__).resolve().parents[3] / "smvue_demo_org" / "real_objects"
SOURCES = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}
EVERYTHING = OrgProfile(multi_currency=True)
VISIBLE = build_catalog(EVERYTHING).visible(EVERYTHING)
READ_ONLY = {"Organization", "OpportunityHistory", "OpportunityFieldHistory", "LeadHistory",
             "OpportunityStage", "BusinessProcess"}


def _described(name: str) -> dict[str, dict]:
    return {f["name"]: f for f in describe_object(VISIBLE.objects[name], "67.0")["fields"]}


def test_every_kept_source_names_its_repository_commit_and_api_version():
    assert len(SOURCES) >= 16
    for name, body in SOURCES.items():
        source = body["source"]
        assert source["repository"] and source["path"].endswith(f"Sf{name}.cs"), name
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]), name
        assert re.fullmatch(r"\d+\.0", source["api_version"]), name


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_describe_matches_the_real_describe_field_by_field(name):
    real = SOURCES[name]["fields"]
    described = _described(name)
    order = list(described)
    missing = [f["name"] for f in real if f["name"] not in described]
    assert missing == []
    assert [order.index(f["name"]) for f in real] == sorted(order.index(f["name"]) for f in real)
    for fact in real:
        got = described[fact["name"]]
        assert (got["type"], got["label"], got["nillable"]) == (
            fact["type"], fact["label"], fact["nillable"]), fact["name"]
        if name not in READ_ONLY:
            assert (got["createable"], got["updateable"]) == (
                fact["createable"], fact["updateable"]), fact["name"]
        if fact.get("referenceTo"):
            assert (got["referenceTo"], got["relationshipName"]) == (
                fact["referenceTo"], fact["relationshipName"]), fact["name"]


@pytest.mark.parametrize("name", ["OpportunityTeamMember", "AccountTeamMember"])
def test_the_team_objects_have_their_real_names_and_types(name):
    described = _described(name)
    assert {n: described[n]["type"] for n in REAL_FIELDS[name]} == REAL_FIELDS[name]


@pytest.mark.parametrize(("name", "compounds", "wide"), [
    ("Account", {"BillingAddress", "ShippingAddress"}, 55),
    ("Contact", {"MailingAddress", "OtherAddress"}, 55),
    ("Lead", {"Address"}, 50), ("User", {"Address"}, 150), ("Organization", {"Address"}, 50),
])
def test_compound_addresses_and_their_components(name, compounds, wide):
    described = _described(name)
    assert len(described) >= wide  # real width, not the 15–20 fields of before
    assert {n for n, f in described.items() if f["type"] == "address"} == compounds
    for compound in compounds:
        prefix = compound.removesuffix("Address")
        parts = {n for n, f in described.items() if f["compoundFieldName"] == compound}
        assert parts == {prefix + p for p in ("Street", "City", "State", "PostalCode", "Country",
                                              "Latitude", "Longitude", "GeocodeAccuracy")}
        whole = described[compound]
        assert (whole["filterable"], whole["sortable"], whole["groupable"],
                whole["createable"], whole["updateable"]) == (False,) * 5
        assert (described[prefix + "Street"]["type"], described[prefix + "City"]["length"],
                described[prefix + "Latitude"]["type"]) == ("textarea", 40, "double")
    assert sum(1 for f in described.values() if f["compoundFieldName"]) == 8 * len(compounds)


def test_compound_fields_are_not_columns_but_their_components_are():
    stored = build_catalog(EVERYTHING).objects["Account"]
    assert not stored.fields["BillingAddress"].stored
    assert stored.fields["BillingCity"].stored


@pytest.mark.parametrize(("soql", "words"), [
    ("SELECT Id FROM Account WHERE BillingAddress != null", "can not be filtered"),
    ("SELECT Id FROM Account ORDER BY ShippingAddress", "can not be sorted"),
    ("SELECT MailingAddress, COUNT(Id) FROM Contact GROUP BY MailingAddress",
     "can not be grouped"),
])
def test_compound_fields_are_selectable_only(soql, words):
    from smvue_demo_org.soql import SoqlError, prepare

    with pytest.raises(SoqlError) as err:
        prepare(soql, VISIBLE)
    assert err.value.error_code == "INVALID_FIELD" and words in err.value.message
    assert prepare("SELECT Id, BillingAddress FROM Account ORDER BY BillingCity", VISIBLE)
