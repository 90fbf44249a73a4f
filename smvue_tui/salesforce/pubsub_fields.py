"""Which fields a change event names: its header's bitmaps decoded against the event's schema.

The Pub/Sub API sends ``changedFields``, ``nulledFields`` and ``diffFields`` as bitmaps (Pub/Sub
API guide, "Event Deserialization Considerations"): the first entry, ``"0x…"``, has bit ``i`` set
for the schema's field ``i``; an entry ``"P-0x…"`` names components of the compound field at
position ``P``, bit ``j`` being field ``j`` of that field's nested record. Compound fields are an
address (``BillingAddress`` → Street, City, …), a geolocation, and a person's ``Name`` (a
``Switchable_PersonName`` record: Salutation, FirstName, LastName, and MiddleName/Suffix where
enabled) — CDC Developer Guide, "Get Compound Fields in Change Events". Salesforce's own decoder
(forcedotcom/pub-sub-api ``python/util/ChangeEventHeaderUtility.py``) finds the nested record in
a ``[null, R]``, ``[string, R]`` or ``[null, string, R]`` union; so does this one.

A malformed entry is skipped, never raised: the app only needs the record ids to re-read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _records(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Named records defined in the schema's fields, by full and short name (an Avro named type
    is defined once; later fields refer to it by name)."""
    out: dict[str, dict[str, Any]] = {}
    for field in schema.get("fields", []):
        types = field.get("type")
        for t in types if isinstance(types, list) else [types]:
            if isinstance(t, dict) and t.get("type") == "record":
                out[t["name"]] = t
                out[t["name"].rsplit(".", 1)[-1]] = t
    return out


def _nested(field: dict[str, Any], records: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    types = field.get("type")
    for t in types if isinstance(types, list) else [types]:
        if isinstance(t, dict) and t.get("type") == "record":
            return t
        if isinstance(t, str) and t in records:
            return records[t]
    return None


def _bits(value: int) -> Iterator[int]:
    i = 0
    while value:
        if value & 1:
            yield i
        value >>= 1
        i += 1


def decoded(bitmap: list[str], schema: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    """(top-level field, component or None) for every bit set in ``bitmap``."""
    fields = schema.get("fields", [])
    records: dict[str, dict[str, Any]] | None = None
    for entry in bitmap:
        parent, _, bits = str(entry).rpartition("-")
        try:
            value = int(bits, 16)
        except ValueError:
            continue
        if not parent:
            yield from ((fields[i]["name"], None) for i in _bits(value) if i < len(fields))
            continue
        if not parent.isdigit() or int(parent) >= len(fields):
            continue
        compound = fields[int(parent)]
        records = _records(schema) if records is None else records
        record = _nested(compound, records)
        if record is None:  # components unknown: the compound's name stands for them
            yield compound["name"], None
            continue
        parts = record["fields"]
        yield from ((compound["name"], parts[j]["name"]) for j in _bits(value) if j < len(parts))


def bitmap_fields(bitmap: list[str], schema: dict[str, Any]) -> tuple[str, ...]:
    """Top-level field names from a bitmap; a compound's own name stands for its components."""
    return tuple(dict.fromkeys(top for top, _part in decoded(bitmap, schema)))


def component_field(compound: str, component: str) -> str:
    """The sObject field a compound's component is: City of BillingAddress is BillingCity, of a
    Lead's Address just City; FirstName of Name is FirstName; Latitude of a geolocation Loc__c is
    Loc__Latitude__s (Object Reference, "Address Compound Fields", "Geolocation Compound Field")."""
    if compound.endswith("Address"):
        return compound.removesuffix("Address") + component
    if compound.endswith("__c"):
        return f"{compound.removesuffix('__c')}__{component}__s"
    return component


def sobject_fields(bitmap: list[str], schema: dict[str, Any]) -> tuple[str, ...]:
    """The sObject fields a bitmap names, a compound's components as their own fields: a Contact
    whose last name changed gives ``("LastName", "LastModifiedDate")``, not ``"Name"``."""
    return tuple(dict.fromkeys(
        top if part is None else component_field(top, part)
        for top, part in decoded(bitmap, schema)))
