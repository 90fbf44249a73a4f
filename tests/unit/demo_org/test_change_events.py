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
from smvue_tui.salesforce.pubsub_fields import sobject_fields


@pytest.fixture
def org_and_bus(tmp_path):
    org = build_org(cache_dir=tmp_path, size=60, seed=3)
    bus = ChangeEventBus(org)
    bus.start()
    yield org, bus
    bus.stop()
    org.store.close()


@pytest.fixture
def people_bus(tmp_path):
    """An org with Lead and User selected for CDC too (the default profile has Contact)."""
    from smvue_demo_org.profile import OrgProfile

    profile = OrgProfile(change_data_capture=("Contact", "Lead", "User"))
    org = build_org(cache_dir=tmp_path, size=60, seed=3, profile=profile)
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


def _name_record(schema: dict) -> dict:
    name = next(f for f in schema["fields"] if f["name"] == "Name")
    return next(t for t in name["type"] if isinstance(t, dict))


@pytest.mark.parametrize(("entity", "parts"), [
    ("Contact", ["Salutation", "FirstName", "LastName"]),
    ("Lead", ["Salutation", "FirstName", "LastName"]),
    ("User", ["FirstName", "LastName"]),  # no Salutation on User; no MiddleName/Suffix: off
])
def test_a_persons_name_is_one_nested_record(people_bus, entity, parts):
    _org, bus = people_bus
    schema = json.loads(bus.schema_json(bus.schema_id(entity)))
    names = [f["name"] for f in schema["fields"]]
    assert "Name" in names and not {"FirstName", "LastName", "Salutation"} & set(names)
    record = _name_record(schema)
    assert record["name"] == "Switchable_PersonName"
    assert [f["name"] for f in record["fields"]] == parts


def test_a_create_carries_the_whole_name(people_bus):
    org, bus = people_bus
    account = org.store.select("SELECT Id FROM Account LIMIT 1")[0]["Id"]
    new_id = org.store.insert("Contact", {"LastName": "Diaz", "FirstName": "Jo",
                                          "Salutation": "Ms.", "AccountId": account})
    _schema, record = _last(bus, "Contact")
    header = record["ChangeEventHeader"]
    assert header["changeType"] == "CREATE" and header["recordIds"] == [new_id]
    assert header["changedFields"] == [] and header["nulledFields"] == []
    assert record["Name"] == {"Salutation": "Ms.", "FirstName": "Jo", "LastName": "Diaz"}


def test_an_update_names_only_the_changed_name_components(people_bus):
    org, bus = people_bus
    contact = org.store.select("SELECT Id, FirstName FROM Contact WHERE FirstName IS NOT NULL "
                               "LIMIT 1")[0]
    org.store.update("Contact", contact["Id"], {"LastName": "Okafor"})
    schema, record = _last(bus, "Contact")
    header = record["ChangeEventHeader"]
    changed = _expand(header["changedFields"], schema)
    assert "Name.LastName" in changed and "LastModifiedDate" in changed
    assert "Name" not in changed and not {"Name.FirstName", "Name.Salutation"} & changed
    assert record["Name"] == {"Salutation": None, "FirstName": None, "LastName": "Okafor"}
    assert header["nulledFields"] == []
    # Our client names the object's own fields from the same bitmap.
    assert {"LastName", "LastModifiedDate"} <= set(sobject_fields(header["changedFields"], schema))
    assert "Name" not in sobject_fields(header["changedFields"], schema)

    # A first name set to null: nulledFields names the component (nested bitmap).
    org.store.update("Contact", contact["Id"], {"FirstName": None})
    schema, record = _last(bus, "Contact")
    header = record["ChangeEventHeader"]
    assert _expand(header["nulledFields"], schema) == {"Name.FirstName"}
    assert "Name.FirstName" in _expand(header["changedFields"], schema)
    assert sobject_fields(header["nulledFields"], schema) == ("FirstName",)


def test_a_users_name_change_on_the_user_channel(people_bus):
    org, bus = people_bus
    user = org.store.select("SELECT Id FROM User LIMIT 1")[0]["Id"]
    org.store.update("User", user, {"FirstName": "Ada"})
    schema, record = _last(bus, "User")
    assert _expand(record["ChangeEventHeader"]["changedFields"], schema) >= {"Name.FirstName"}
    assert record["Name"] == {"FirstName": "Ada", "LastName": None}


def test_our_decoder_reads_salesforces_documented_union_shapes():
    """A Name typed ["null", "string", record] (Account with person accounts) or ["string",
    record], and a second address referring to the named type: the shapes Salesforce's decoder
    (forcedotcom/pub-sub-api get_value_schema) accepts."""
    person = {"type": "record", "name": "com.sforce.eventbus.Switchable_PersonName", "fields": [
        {"name": "Salutation"}, {"name": "FirstName"}, {"name": "LastName"}]}
    address = {"type": "record", "name": "com.sforce.eventbus.Address", "fields": [
        {"name": "Street"}, {"name": "City"}]}
    schema = {"fields": [{"name": "ChangeEventHeader"},
                         {"name": "Name", "type": ["null", "string", person]},
                         {"name": "BillingAddress", "type": ["null", address]},
                         {"name": "ShippingAddress",
                          "type": ["null", "com.sforce.eventbus.Address"]},
                         {"name": "Phone", "type": ["null", "string"]}]}
    assert sobject_fields(["0x10", "1-0x6", "3-0x2"], schema) == (
        "Phone", "FirstName", "LastName", "ShippingCity")
    assert sobject_fields(["0xZZ", "9-0x1", "x-0x1"], schema) == ()  # malformed: skipped
    assert bitmap_fields(["1-0x4", "2-0x1"], schema) == ("Name", "BillingAddress")


def test_middle_name_and_suffix_join_the_name_when_the_org_has_them():
    """NameSettings enableMiddleName/enableNameSuffix add MiddleName and Suffix to the person
    objects; the event's Name record then carries them too."""
    from smvue_demo_org.catalog_types import FieldDef, ObjectDef
    from smvue_demo_org.change_events import _EntitySchema

    fields = {n: FieldDef(n, t) for n, t in (
        ("Id", "id"), ("LastName", "string"), ("FirstName", "string"), ("MiddleName", "string"),
        ("Suffix", "string"), ("Salutation", "picklist"), ("Name", "string"),
        ("Email", "email"))}
    schema = _EntitySchema(ObjectDef("Contact", "003", "Contact", "Contacts", fields))
    parsed = json.loads(schema.json)
    assert [f["name"] for f in _name_record(parsed)["fields"]] == [
        "Salutation", "FirstName", "LastName", "MiddleName", "Suffix"]
    assert [f["name"] for f in parsed["fields"]] == ["ChangeEventHeader", "Name", "Email"]
    assert schema.bitmaps(["Suffix", "Name", "Email"]) == ["0x4", "1-0x10"]
