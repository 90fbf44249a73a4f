"""The demo org's change events have the shape Salesforce documents (CDC Developer Guide: "Get
Compound Fields in Change Events", "Change Event Body Fields", "ChangeEventHeader Fields"; Object
Reference: "StandardObjectNameChangeEvent"; Pub/Sub API guide: "Event Deserialization
Considerations")."""

from __future__ import annotations

import io
import json

import fastavro
import pytest

from smvue_demo_org.change_events import ChangeEventBus
from smvue_demo_org.server import build_org
from smvue_tui.salesforce.pubsub import bitmap_fields


@pytest.fixture
def org_and_bus(tmp_path):
    org = build_org(cache_dir=tmp_path, size=60, seed=3)
    bus = ChangeEventBus(org)
    bus.start()
    yield org, bus
    bus.stop()
    org.store.close()


def _last(bus: ChangeEventBus, entity: str) -> tuple[dict, dict]:
    events, _ = bus.after(0, {entity}, 10_000)
    event = events[-1]
    schema = json.loads(bus.schema_json(event.schema_id))
    record = fastavro.schemaless_reader(io.BytesIO(event.payload), fastavro.parse_schema(schema))
    return schema, record


def _expand(bitmap: list[str], schema: dict) -> set[str]:
    """Salesforce's own decoding (its ChangeEventHeaderUtility.process_bitmap): the first entry's
    bits index the schema's fields; ``"P-0xB"`` bits index the fields of field P's nested record,
    named ``<field P>.<component>``."""
    fields = schema["fields"]
    out: set[str] = set()
    for entry in bitmap:
        parent, _, bits = entry.rpartition("-")
        value = int(bits, 16)
        if not parent:
            out |= {f["name"] for i, f in enumerate(fields) if value >> i & 1}
            continue
        compound = fields[int(parent)]
        nested = next(t for t in compound["type"] if isinstance(t, dict))
        out |= {f"{compound['name']}.{f['name']}" for i, f in enumerate(nested["fields"])
                if value >> i & 1}
    return out


def test_an_address_is_one_nested_record_and_its_components_are_not_top_level(org_and_bus):
    _org, bus = org_and_bus
    schema = json.loads(bus.schema_json(bus.schema_id("Account")))
    names = [f["name"] for f in schema["fields"]]
    assert "BillingAddress" in names and "ShippingAddress" in names
    assert not {"BillingStreet", "BillingCity", "ShippingCity"} & set(names)
    assert not {"Id", "IsDeleted", "SystemModstamp"} & set(names)
    billing = next(f for f in schema["fields"] if f["name"] == "BillingAddress")
    record = billing["type"][1]
    assert record["type"] == "record" and record["name"] == "Address"
    assert [f["name"] for f in record["fields"]][:5] == ["Street", "City", "State",
                                                        "PostalCode", "Country"]
    # The second address refers to the one named type (Avro defines a name once).
    shipping = next(f for f in schema["fields"] if f["name"] == "ShippingAddress")
    assert shipping["type"] == ["null", "Address"]


def test_an_update_names_changed_components_in_a_nested_bitmap(org_and_bus):
    org, bus = org_and_bus
    account = org.store.select("SELECT Id FROM Account WHERE Phone IS NOT NULL LIMIT 1")[0]
    org.store.update("Account", account["Id"], {"BillingCity": "Lyon", "Phone": None})
    schema, record = _last(bus, "Account")
    header = record["ChangeEventHeader"]
    assert header["changeType"] == "UPDATE"
    changed = _expand(header["changedFields"], schema)
    assert {"BillingAddress.City", "Phone", "LastModifiedDate"} <= changed
    assert not any(name.startswith("BillingAddress.") and name != "BillingAddress.City"
                   for name in changed)
    assert _expand(header["nulledFields"], schema) == {"Phone"}
    assert record["BillingAddress"]["City"] == "Lyon"
    assert record["BillingAddress"]["Street"] is None  # unchanged components stay empty
    assert record["Name"] is None  # unchanged fields are empty in an update
    # Our own client reads the same bitmap: the compound's name stands for its components.
    assert {"BillingAddress", "Phone", "LastModifiedDate"} <= set(
        bitmap_fields(header["changedFields"], schema))


def test_a_create_carries_every_field_and_no_changed_fields(org_and_bus):
    org, bus = org_and_bus
    new_id = org.store.insert("Account", {"Name": "Nested Ltd", "BillingCity": "Oslo",
                                          "BillingCountry": "Norway"})
    _schema, record = _last(bus, "Account")
    header = record["ChangeEventHeader"]
    assert header["changeType"] == "CREATE" and header["recordIds"] == [new_id]
    assert header["changedFields"] == [] and header["nulledFields"] == []
    assert record["Name"] == "Nested Ltd"
    assert record["BillingAddress"]["City"] == "Oslo"
    assert record["BillingAddress"]["Country"] == "Norway"
    assert record["ShippingAddress"] is None  # an address with no components is empty
