"""Real-width objects over the wire: every described field selectable, compound fields as
objects."""

from __future__ import annotations

from tests.integration.conftest import simple_salesforce

PARTS = {"city": "City", "country": "Country", "geocodeAccuracy": "GeocodeAccuracy",
         "latitude": "Latitude", "longitude": "Longitude", "postalCode": "PostalCode",
         "state": "State", "street": "Street"}


def test_a_peer_selecting_every_described_field_gets_every_field(demo):
    sf = simple_salesforce(demo)
    for sobject in ("Account", "Contact", "Lead", "User", "Opportunity", "Task", "Event"):
        names = [f["name"] for f in getattr(sf, sobject).describe()["fields"]]
        rows = sf.query(f"SELECT {', '.join(names)} FROM {sobject} LIMIT 20")["records"]
        assert rows and all(list(r)[1:] == names for r in rows), sobject
    assert len(names) >= 45


def test_compound_address_is_an_object_of_its_components_in_rest(demo):
    sf = simple_salesforce(demo)
    fields = ", ".join(["BillingAddress", "ShippingAddress",
                        *(f"Billing{p}" for p in PARTS.values())])
    rows = sf.query_all(f"SELECT Id, {fields} FROM Account")["records"]
    assert len(rows) > 50
    for row in rows:
        address = row["BillingAddress"]
        assert list(address) == sorted(PARTS)  # REST's key order
        assert address == {key: row[f"Billing{part}"] for key, part in PARTS.items()}
        assert address["street"] and address["city"] and address["country"]
    assert any(r["ShippingAddress"] != r["BillingAddress"] for r in rows)
    contacts = sf.query("SELECT OtherAddress, OtherCity FROM Contact")["records"]
    assert any(r["OtherAddress"] is None for r in contacts)  # no component set: null
    assert all((r["OtherAddress"] is None) == (r["OtherCity"] is None) for r in contacts)


def test_compound_fields_cannot_be_filtered_or_written(demo):
    with demo.api() as client:
        answer = client.get("/query", params={
            "q": "SELECT Id FROM Account WHERE BillingAddress != null"})
        assert answer.status_code == 400
        assert answer.json()[0]["errorCode"] == "INVALID_FIELD"
        assert "BillingAddress" in answer.json()[0]["message"]
        described = client.get("/sobjects/Contact/describe").json()
    mailing = next(f for f in described["fields"] if f["name"] == "MailingAddress")
    assert (mailing["type"], mailing["filterable"], mailing["updateable"]) == (
        "address", False, False)
    city = next(f for f in described["fields"] if f["name"] == "MailingCity")
    assert (city["compoundFieldName"], city["length"]) == ("MailingAddress", 40)
