"""What Salesforce writes besides the record itself: required-field checks and history rows.

OpportunityHistory gets a row on create and on every change of stage, amount, probability or
close date (always on). OpportunityFieldHistory and LeadHistory get rows for tracked fields only
when the org has field history tracking on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from smvue_demo_org.derived import HISTORY_FIELDS, TRACKED
from smvue_demo_org.ids import is_valid_id, to_18
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import Catalog, FieldDef, ObjectDef


class _Store(Protocol):
    profile: OrgProfile
    catalog: Catalog


# Required picklists Salesforce fills in when a create leaves them out (the org's default value;
# these are the standard defaults of a new org [unverified per org]).
PICKLIST_DEFAULTS: dict[str, dict[str, str]] = {
    "Task": {"Status": "Not Started", "Priority": "Normal"},
    "Lead": {"Status": "Open - Not Contacted"},
}


def fill_defaults(obj: ObjectDef, row: dict[str, Any]) -> None:
    """What Salesforce fills in on create: default picklist values, false for a checkbox."""
    for name, value in PICKLIST_DEFAULTS.get(obj.name, {}).items():
        if not row.get(name):
            row[name] = value
    for f in obj.fields.values():  # Salesforce never stores a null checkbox
        if f.type == "boolean" and row.get(f.name) is None:
            row[f.name] = 0


def check_required(obj: ObjectDef, row: dict[str, Any]) -> None:
    # Checkboxes default to false and read-only fields are Salesforce's to set (defaulted on
    # create), so neither is ever "required" of the caller.
    missing = [f.name for f in obj.fields.values()
               if not f.nillable and not f.system and f.type != "boolean"
               and f.createable is not False and row.get(f.name) in (None, "")]
    if missing:
        raise ValueError(f"Required fields are missing: [{', '.join(missing)}]")


def check_value(fdef: FieldDef, value: Any) -> Any:
    """``value`` as stored for ``fdef``, or ValueError in Salesforce's words."""
    if value is None:
        return None
    bad = ValueError(f"{fdef.name}: value not of required type: {str(value)[:40]}")
    kind = fdef.type
    if kind == "boolean":
        if value not in (True, False, 0, 1):
            raise bad
        return int(value)
    if kind in ("currency", "double", "percent", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return int(value) if kind == "int" else float(value)
    if not isinstance(value, str):
        raise bad
    try:
        if kind == "date":
            date.fromisoformat(value)
        elif kind == "datetime":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad from None
    if kind == "reference":
        if not is_valid_id(value):
            raise ValueError(f"{fdef.name}: id value of incorrect type: {value[:40]}")
        return to_18(value)
    if fdef.length and len(value) > fdef.length:
        raise ValueError(f"{fdef.name}: data value too large (max length={fdef.length})")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def history_rows(store: _Store, sobject: str, old: dict[str, Any] | None, new: dict[str, Any],
                 by: str) -> list[tuple[str, dict[str, Any]]]:
    """(child sObject, values) rows that a create (``old`` None) or update must also write."""
    out: list[tuple[str, dict[str, Any]]] = []
    if sobject == "Opportunity" and (
            old is None or any(old.get(f) != new.get(f) for f in HISTORY_FIELDS)):
        out.append(("OpportunityHistory", {
            "OpportunityId": new["Id"], "StageName": new.get("StageName"),
            "Amount": new.get("Amount"), "Probability": new.get("Probability"),
            "CloseDate": new.get("CloseDate"), "ExpectedRevenue": new.get("ExpectedRevenue"),
            "ForecastCategory": new.get("ForecastCategory"),
            "PrevAmount": old.get("Amount") if old else None,
            "PrevCloseDate": old.get("CloseDate") if old else None,
            "CurrencyIsoCode": new.get("CurrencyIsoCode"),
        }))
    table = {"Opportunity": "OpportunityFieldHistory", "Lead": "LeadHistory"}.get(sobject)
    if table and store.profile.history_tracking and table in store.catalog.objects:
        parent = "OpportunityId" if sobject == "Opportunity" else "LeadId"
        if old is None:
            out.append((table, {parent: new["Id"], "Field": "created"}))
        else:
            for fld, dtype in TRACKED[sobject].items():
                if old.get(fld) != new.get(fld):
                    out.append((table, {parent: new["Id"], "Field": fld, "DataType": dtype,
                                        "OldValue": _text(old.get(fld)),
                                        "NewValue": _text(new.get(fld))}))
    return out
