"""What real Salesforce says about every object the app reads — the demo org is held to this.

Nobody on this project wrote these facts; each is copied (schema facts only, never code) from
an artifact of a real org or from Salesforce's documentation, and its source is named beside it:

- NETCOREFORCE: describe-generated models of a real org, API 64.0, in the public repository
  anthonyreilly/NetCoreForce (src/NetCoreForce.Models/Sf<Object>.cs, commit 539d50fa, June
  2025). Their facts — each field's name, label, type, nillable, createable/updateable,
  referenceTo and relationshipName, in describe order — are kept per object in
  real_objects/<Object>.json with that source beside them (scripts/extract_real_objects.py
  rebuilds them). That org had no multi-currency, no record types on Opportunity and no team
  selling, so CurrencyIsoCode / RecordTypeId and the two team objects are not in it
  (see FEATURE_FIELDS).
- Compound fields on the wire: REST returns an address as an object with the keys city, country,
  geocodeAccuracy, latitude, longitude, postalCode, state, street (countryCode and stateCode too
  when State and Country picklists are on) — real v62.0 and v35.0 query answers quoted in public
  code (code-index files 52584151754 and 14613625358); null when every component is null
  [unverified]. Bulk API 2.0 refuses them: 400 API_ERROR "Selecting compound data not supported
  in Bulk Query" — StevenMMortimer/salesforcer tests/testthat/test-query.R (commit 61ede39f), run
  against a real org.
- ILLUMINATED_CLOUD: types generated from a real org's describe by Illuminated Cloud, public
  repository ruwanthalk/ruwanthalk (.illuminatedCloud/lwc/types/objects/<Object>.d.ts, commit
  2f28b596): the team objects' field names (their types are the Object Reference's).
- OBJECT_REFERENCE: Salesforce's SOAP API Object Reference, "Supported Calls" of each object:
  an object is replicateable (``/updated``, ``/deleted``) when getUpdated()/getDeleted() are
  among them.

``tests/unit/demo_org/test_real_salesforce.py`` and ``test_real_width.py`` hold the demo org's
catalog and describe against this file and the kept lists.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NETCOREFORCE = "anthonyreilly/NetCoreForce src/NetCoreForce.Models (real org describe, API 64.0)"
ILLUMINATED_CLOUD = "ruwanthalk/ruwanthalk .illuminatedCloud/lwc/types/objects (real org describe)"
OBJECT_REFERENCE = "Salesforce SOAP API Object Reference, Supported Calls"


@dataclass(frozen=True)
class ObjectFacts:
    replicateable: bool  # getUpdated()/getDeleted() supported: /updated and /deleted work
    source: str  # where replicateable comes from
    verified: bool = True  # False: from memory of the docs, not re-read in a stored copy


# IsDeleted presence comes from the field lists below (REAL_FIELDS); replicateability from the
# Object Reference. Objects whose "Supported Calls" were re-read in a stored copy are verified.
OBJECTS: dict[str, ObjectFacts] = {
    "Organization": ObjectFacts(False, f"{OBJECT_REFERENCE}: describeSObjects(), query(), "
                                       "retrieve(), update()", verified=False),
    "User": ObjectFacts(True, f"{OBJECT_REFERENCE}: … getDeleted(), getUpdated() …",
                        verified=False),
    "BusinessProcess": ObjectFacts(False, f"{OBJECT_REFERENCE}: create(), describeSObjects(), "
                                          "query(), retrieve(), update()", verified=False),
    "RecordType": ObjectFacts(True, f"{OBJECT_REFERENCE}: create(), update(), query(), "
                                    "retrieve(), getDeleted(), getUpdated(), describeSObjects()"),
    "OpportunityStage": ObjectFacts(False, f"{OBJECT_REFERENCE}: query(), retrieve(), "
                                           "describeSObjects()"),
    "Opportunity": ObjectFacts(True, f"{OBJECT_REFERENCE}: create(), delete(), describeLayout(),"
                                     " describeSObjects(), getDeleted(), getUpdated(), query(), "
                                     "retrieve(), search(), undelete(), update(), upsert()"),
    **{name: ObjectFacts(True, f"{OBJECT_REFERENCE}: … getDeleted(), getUpdated() …",
                         verified=False)
       for name in ("Account", "Contact", "OpportunityContactRole", "OpportunityHistory",
                    "OpportunityFieldHistory", "OpportunityTeamMember", "AccountTeamMember",
                    "Lead", "LeadHistory", "Task", "Event", "EmailMessage")},
}

# Fields that exist only when the org has the feature (the NetCoreForce org had none of them).
FEATURE_FIELDS: dict[str, str] = {
    "CurrencyIsoCode": "multi-currency", "RecordTypeId": "record types on the object",
}

# Per object, the fields as describe returned them (name, label, type, nillable, createable,
# updateable, referenceTo, relationshipName), in describe order: smvue_demo_org/real_objects/
# <Object>.json, each with its source (repository, path, commit, API version) beside the fields.
# Rebuilt by scripts/extract_real_objects.py from NETCOREFORCE.
_DATA = Path(__file__).with_name("real_objects")


def real_field_facts(sobject: str) -> list[dict[str, Any]] | None:
    """The real describe facts of ``sobject``'s fields, or None when no real list is kept."""
    path = _DATA / f"{sobject}.json"
    if not path.is_file():
        return None
    return list(_load(path)["fields"])


def real_source(sobject: str) -> dict[str, str] | None:
    path = _DATA / f"{sobject}.json"
    return dict(_load(path)["source"]) if path.is_file() else None


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


_RAW: dict[str, tuple[str, ...]] = {
    # Source: ILLUMINATED_CLOUD (names); types per the Object Reference.
    "OpportunityTeamMember": (
        "Id:id IsDeleted:boolean OpportunityId:reference UserId:reference Name:string "
        "PhotoUrl:url Title:string TeamMemberRole:picklist OpportunityAccessLevel:picklist "
        "CreatedDate:datetime CreatedById:reference LastModifiedDate:datetime "
        "LastModifiedById:reference SystemModstamp:datetime ",
    ),
    "AccountTeamMember": (
        "Id:id IsDeleted:boolean AccountId:reference UserId:reference TeamMemberRole:picklist "
        "PhotoUrl:url Title:string AccountAccessLevel:picklist OpportunityAccessLevel:picklist "
        "CaseAccessLevel:picklist ContactAccessLevel:picklist CreatedDate:datetime "
        "CreatedById:reference LastModifiedDate:datetime LastModifiedById:reference "
        "SystemModstamp:datetime ",
    ),
}

REAL_FIELDS: dict[str, dict[str, str]] = {
    **{path.stem: {f["name"]: f["type"] for f in _load(path)["fields"]}
       for path in sorted(_DATA.glob("*.json"))},
    **{name: dict(pair.split(":") for pair in "".join(chunks).split())
       for name, chunks in _RAW.items()},
}


def has_is_deleted(sobject: str) -> bool:
    """Whether real Salesforce gives ``sobject`` an IsDeleted field (queryAll can see deletes)."""
    return "IsDeleted" in REAL_FIELDS.get(sobject, {})
