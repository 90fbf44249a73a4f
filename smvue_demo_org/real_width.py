"""The standard objects at their real width: every field real describe lists, in its order.

schema.py defines what the demo org fills in (with picklist values and lengths); this module
widens each standard object to the field list real Salesforce gives it (real_salesforce.py and
real_objects/*.json name the sources), keeping the demo org's own definitions where it has them
and appending what real describe lacks (custom fields, feature fields such as CurrencyIsoCode).
Real facts win for name, type, label, nillable, createable/updateable and references.

Where the facts below come from (ACCOUNT_DESCRIBE = a real Account describe's name/length/type
list quoted in Xplenty's API docs — code-index file 23575023202; [unverified] = our choice):

- Compound address fields and their components — the naming rule ``<prefix>Street/City/State/
  PostalCode/Country/Latitude/Longitude/GeocodeAccuracy`` → ``<prefix>Address`` (prefix Billing,
  Shipping, Mailing, Other, or none for Lead, User and Organization) — Salesforce's "Address
  Compound Fields" page (api.meta compound_fields_address.htm, as quoted in
  pgonzaleznetwork/HappySoup.io issue #157) and describe's ``compoundFieldName`` (BillingStreet →
  BillingAddress, as real describe excerpts in public test fixtures show).
- Lengths: address components Street 255, City 40, State 80, PostalCode 20, Country 80,
  GeocodeAccuracy 40; Phone/Fax 40; Website/PhotoUrl 255; Description 32000; Name 255; Account
  Type and Industry 40; ids 18 — ACCOUNT_DESCRIBE. The same component lengths on the other
  objects' addresses, and every other default below, [unverified].
- Reference targets the NetCoreForce models leave out (polymorphic and system lookups) —
  _REFERENCE_FALLBACK, [unverified].
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from smvue_demo_org.catalog_types import FieldDef, ObjectDef
from smvue_demo_org.real_salesforce import REAL_FIELDS, real_field_facts

_COMPONENTS = ("Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude",
               "GeocodeAccuracy")
_COMPONENT_LENGTH = {"Street": 255, "City": 40, "State": 80, "PostalCode": 20, "Country": 80,
                     "GeocodeAccuracy": 40}
_TYPE_LENGTH = {"id": 18, "reference": 18, "phone": 40, "url": 255, "textarea": 32000,
                "email": 80, "string": 255, "picklist": 255, "combobox": 255,
                "multipicklist": 4099}  # string/picklist/email/combobox defaults [unverified]
_NAMED_LENGTH = {("Account", "Type"): 40, ("Account", "Industry"): 40, ("Account", "Name"): 255,
                 ("Account", "JigsawCompanyId"): 20}
# (object or "*", field) → (referenceTo, relationshipName) [unverified]
_REFERENCE_FALLBACK: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = {
    ("*", "FromId"): (("User",), "From"),
    ("*", "RecurrenceActivityId"): (("Task", "Event"), None),
    ("Opportunity", "ContactId"): (("Contact",), "Contact"),
    ("*", "DelegatedApproverId"): (("Group", "User"), None),
    ("*", "CallCenterId"): (("CallCenter",), None),
}


def compound_of(sobject: str, field: str, names: set[str]) -> str | None:
    """The compound address field ``field`` is a component of, if any."""
    for part in _COMPONENTS:
        if field.endswith(part):
            parent = field[: -len(part)] + "Address"
            if parent in names and parent != field:
                return parent
    return None


def _length(sobject: str, name: str, ftype: str, compound: str | None) -> int:
    if (sobject, name) in _NAMED_LENGTH:
        return _NAMED_LENGTH[(sobject, name)]
    if compound:
        part = next((p for p in _COMPONENT_LENGTH if name.endswith(p)), None)
        if part:
            return _COMPONENT_LENGTH[part]
        return 0  # latitude / longitude: doubles
    return _TYPE_LENGTH.get(ftype, 0)


def _facts(sobject: str) -> list[dict[str, Any]] | None:
    facts = real_field_facts(sobject)
    if facts is None and sobject in REAL_FIELDS:  # names and types only (the team objects)
        facts = [{"name": n, "type": t} for n, t in REAL_FIELDS[sobject].items()]
    return facts


def _new_field(sobject: str, fact: dict[str, Any], compound: str | None) -> FieldDef:
    name, ftype = fact["name"], fact["type"]
    targets: tuple[str, ...] = tuple(fact.get("referenceTo") or ())
    rel = fact.get("relationshipName")
    if ftype == "reference" and not targets:
        targets, rel = _REFERENCE_FALLBACK.get(
            (sobject, name), _REFERENCE_FALLBACK.get(("*", name), ((), None)))
    createable = fact.get("createable", ftype not in ("id", "address", "location"))
    return FieldDef(
        name, ftype, fact.get("label") or name, reference_to=targets,
        relationship_name=rel if ftype == "reference" else None,
        nillable=fact.get("nillable", name not in ("Id", "IsDeleted")),
        length=_length(sobject, name, ftype, compound),
        system=not createable and not fact.get("updateable", createable),
        compound=compound, createable=createable,
        updateable=fact.get("updateable", createable),
    )


def _merged(mine: FieldDef, fact: dict[str, Any], compound: str | None) -> FieldDef:
    """The demo org's definition with real describe's facts laid over it."""
    changes: dict[str, Any] = {"compound": compound}
    for key, attr in (("label", "label"), ("nillable", "nillable"),
                      ("createable", "createable"), ("updateable", "updateable")):
        if key in fact:
            changes[attr] = fact[key]
    if fact.get("referenceTo"):
        changes["reference_to"] = tuple(fact["referenceTo"])
        changes["relationship_name"] = fact.get("relationshipName")
    return replace(mine, **changes)


def widen(obj: ObjectDef) -> ObjectDef:
    """``obj`` with its real field list; objects without a kept real list are unchanged."""
    facts = _facts(obj.name)
    if facts is None:
        return obj
    names = {f["name"] for f in facts}
    fields: dict[str, FieldDef] = {}
    for fact in facts:
        compound = compound_of(obj.name, fact["name"], names)
        mine = obj.fields.get(fact["name"])
        fields[fact["name"]] = (_merged(mine, fact, compound) if mine is not None
                                else _new_field(obj.name, fact, compound))
    for name, mine in obj.fields.items():  # custom and feature fields real describe lacks
        fields.setdefault(name, mine)
    return replace(obj, fields=fields)
