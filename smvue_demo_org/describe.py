"""Describe Global and sObject Describe bodies, built from the visible catalog."""

from __future__ import annotations

from typing import Any

from smvue_demo_org.schema import Catalog, FieldDef, ObjectDef

_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "date": "xsd:date", "datetime": "xsd:dateTime", "anyType": "xsd:anyType",
    "address": "urn:address", "location": "urn:location",
}
# Long text and history values (anyType) cannot be filtered, grouped or sorted on.
_UNFILTERABLE = ("textarea", "anyType", "address", "location")
# Objects Salesforce lets nobody create through the API.
_READ_ONLY_OBJECTS = {"Organization", "OpportunityHistory", "OpportunityFieldHistory",
                      "LeadHistory", "OpportunityStage", "BusinessProcess"}


def _urls(version: str, name: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def object_summary(obj: ObjectDef, version: str) -> dict[str, Any]:
    writable = obj.name not in _READ_ONLY_OBJECTS
    return {
        "activateable": False, "createable": writable, "custom": obj.custom,
        "customSetting": False, "deletable": writable, "deprecatedAndHidden": False,
        "feedEnabled": False, "hasSubtypes": False, "isSubtype": False,
        "keyPrefix": obj.key_prefix, "label": obj.label, "labelPlural": obj.label_plural,
        "layoutable": writable, "mergeable": False, "mruEnabled": writable, "name": obj.name,
        "queryable": True, "replicateable": obj.replicateable, "retrieveable": True,
        "searchable": writable,
        "triggerable": writable, "undeletable": writable, "updateable": writable,
        "urls": _urls(version, obj.name),
    }


def describe_global(catalog: Catalog, version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [object_summary(o, version) for o in sorted(
            catalog.objects.values(), key=lambda o: o.name)],
    }


def _field(f: FieldDef, obj: ObjectDef) -> dict[str, Any]:
    numeric = f.type in ("double", "currency", "percent")
    writable = not f.system and obj.name not in _READ_ONLY_OBJECTS
    open_object = obj.name not in _READ_ONLY_OBJECTS  # real describe's flags win when known
    createable = writable if f.createable is None else f.createable and open_object
    updateable = writable if f.updateable is None else f.updateable and open_object
    return {
        "aggregatable": f.type not in _UNFILTERABLE, "autoNumber": False,
        "byteLength": f.length * 3 if f.length else 0, "calculated": False,
        "calculatedFormula": None, "cascadeDelete": False, "caseSensitive": False,
        "compoundFieldName": f.compound, "controllerName": None, "createable": createable,
        "custom": f.custom,
        "defaultValue": None, "defaultedOnCreate": f.system or f.type == "boolean",
        "dependentPicklist": False, "deprecatedAndHidden": False,
        "digits": 9 if f.type == "int" else 0, "externalId": False,
        "filterable": f.type not in _UNFILTERABLE,
        "groupable": not numeric and f.type not in _UNFILTERABLE,
        "idLookup": f.name == "Id", "label": f.label, "length": f.length,
        "name": f.name, "nameField": f.name == "Name", "nillable": f.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in f.picklist
        ],
        "precision": 18 if numeric else 0, "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name, "restrictedPicklist": False,
        "scale": 2 if numeric else 0, "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type not in _UNFILTERABLE, "type": f.type, "unique": False,
        "updateable": updateable,
    }


def describe_object(obj: ObjectDef, version: str,
                    record_types: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The sObject Describe body. ``record_types``: RecordType rows for this object."""
    body = object_summary(obj, version)
    body["fields"] = [_field(f, obj) for f in obj.fields.values()]
    body["childRelationships"] = [
        {"cascadeDelete": rel.cascade_delete, "childSObject": rel.child_sobject,
         "deprecatedAndHidden": False, "field": rel.field,
         "relationshipName": rel.relationship_name, "restrictedDelete": False}
        for rel in obj.child_relationships
    ]
    infos = [
        {"active": bool(rt["IsActive"]), "available": True, "defaultRecordTypeMapping": i == 0,
         "developerName": rt["DeveloperName"], "master": False, "name": rt["Name"],
         "recordTypeId": rt["Id"],
         "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/"
                            f"{rt['Id']}"}}
        for i, rt in enumerate(record_types or [])
    ]
    infos.append({"active": True, "available": True, "defaultRecordTypeMapping": not infos,
                  "developerName": "Master", "master": True, "name": "Master",
                  "recordTypeId": "012000000000000AAA", "urls": {}})
    body["recordTypeInfos"] = infos
    body["urls"] = {**_urls(version, obj.name),
                    "compactLayouts": f"/services/data/v{version}/sobjects/{obj.name}"
                                      "/describe/compactLayouts"}
    return body
