"""Outbound Message parsing, refusals, org-id matching and the exact ACK."""

from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pytest

from smvue_demo_org.ids import to_18
from smvue_demo_org.outbound_envelope import is_ack
from smvue_tui.salesforce.ids import normalize_id
from smvue_tui.salesforce.outbound import (
    ACK_BODY,
    OutboundMessageError,
    ack_response_headers,
    org_ids_match,
    parse_notifications,
)
from tests.unit.salesforce.outbound_samples import (
    ACTION_ID,
    ORG_ID,
    VALID,
    deal_id,
    envelope,
    many,
)
from tests.unit.salesforce.outbound_samples import notification_xml as note


def test_parses_the_reference_shape():
    msg = parse_notifications(VALID)
    assert msg.organization_id == ORG_ID
    assert msg.action_id == ACTION_ID
    assert msg.session_id is None
    assert msg.enterprise_url.endswith("/services/Soap/c/66.0/00DXX0000001abc")
    assert msg.partner_url.endswith("/services/Soap/u/66.0/00DXX0000001abc")
    [n] = msg.notifications
    assert n.id == "04lXX0000ABC000YQD"
    assert n.sobject_type == "Opportunity"
    assert n.fields == {
        "Id": "006XX000004A000YAC",
        "Amount": "48000.0",
        "CloseDate": None,  # xsi:nil
        "LastModifiedDate": "2026-11-02T09:14:05.000Z",
        "Name": "Acme & Co - 200 seats",
        "StageName": "Negotiation/Review",
    }
    assert n.record_id == "006XX000004A000YAC"


def test_sobject_prefix_does_not_matter():
    msg = parse_notifications(envelope(note(0, "Account", prefix="ns1")))
    [n] = msg.notifications
    assert n.sobject_type == "Account"
    assert "Id" in n.fields and "ns1:Id" not in n.fields


def test_custom_object_type():
    custom = normalize_id("a29e0000000Jz3m")  # a custom object's prefix varies by org
    body = envelope(note(0, "Opportunity").replace("sf:Opportunity", "sf:Deal_Room__c")
                    .replace(deal_id(0), custom[:15]))
    [n] = parse_notifications(body).notifications
    assert n.sobject_type == "Deal_Room__c" and n.record_id == custom
    assert n.fields["Id"] == custom[:15]  # the fields as sent


@pytest.mark.parametrize(("sobject", "record"), [
    ("Deal_Room__c", deal_id(0)),  # an Opportunity id posing as a custom object's
    ("Account", deal_id(0)),  # an Opportunity id in an Account notification
    ("Opportunity", "0" * 900_000),
    ("Opportunity", deal_id(0)[:15] + "ZZZ"),  # a suffix that contradicts the id's case
])
def test_a_record_id_not_of_its_object_is_refused(sobject, record):
    body = envelope(note(0, "Opportunity").replace("sf:Opportunity", f"sf:{sobject}")
                    .replace(deal_id(0), record))
    with pytest.raises(OutboundMessageError, match="sObject Id is not"):
        parse_notifications(body)


def test_session_id_kept_but_not_in_repr():
    secret = "00DXX0000001abc!AQ4AQFakeSessionTokenValue"
    msg = parse_notifications(envelope(session=f"<SessionId>{secret}</SessionId>"))
    assert msg.session_id == secret
    assert secret not in repr(msg)


def test_demo_org_envelope_round_trip():
    from smvue_demo_org.outbound_envelope import notifications_xml

    sobject = ('<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce'
               '.com"><sf:Id>006XX000004A000YAC</sf:Id><sf:IsWon>false</sf:IsWon></sObject>')
    body = notifications_xml(ORG_ID, ACTION_ID, "https://e", "https://p",
                             [("04lXX0000ABC000YQD", sobject), ("04lXX0000ABC001YQD", sobject)])
    msg = parse_notifications(body)
    assert [n.id for n in msg.notifications] == ["04lXX0000ABC000YQD", "04lXX0000ABC001YQD"]
    assert msg.notifications[0].fields == {"Id": "006XX000004A000YAC", "IsWon": "false"}


def test_one_hundred_notifications_is_the_limit():
    assert len(parse_notifications(many(100)).notifications) == 100
    with pytest.raises(OutboundMessageError, match="101 notifications"):
        parse_notifications(many(101))


def test_zero_notifications_refused():
    with pytest.raises(OutboundMessageError, match="no Notification"):
        parse_notifications(envelope(""))


def test_oversize_refused_before_parsing():
    body = VALID + b" " * 2000
    with pytest.raises(OutboundMessageError, match="over the 1000-byte limit"):
        parse_notifications(body, max_bytes=1000)


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"not xml at all", "not well-formed"),
    (b'{"json": true}', "not well-formed"),
    (VALID[: len(VALID) // 2], "not well-formed"),
    (b"<a/>", "Envelope"),
    (VALID.replace(b"http://schemas.xmlsoap.org/soap/envelope/",
                   b"http://www.w3.org/2003/05/soap-envelope"), "Envelope"),
    (envelope(ns="http://soap.sforce.com/2005/09/outbound/x"), "notifications"),
    (envelope(ns=""), "notifications"),
    (envelope(org_id=""), "OrganizationId is not"),
    (envelope(org_id="00DXX0000001ab"), "OrganizationId is not"),
    (envelope(org_id="00DXX0000001abc-AA"), "OrganizationId is not"),
    (envelope(action_id="04kXX00000000010AAA"), "ActionId is not"),
    (VALID.replace(b"<ActionId>04kXX0000000001YAA</ActionId>", b""), "missing ActionId"),
    (VALID.replace(b"<Id>04lXX0000ABC000YQD</Id>", b""), "missing Id"),
    (VALID.replace(b"<Id>04lXX0000ABC000YQD</Id>", b"<Id>bad id</Id>"), "Id is not"),
    (VALID.replace(b'xsi:type="sf:Opportunity"', b""), "xsi:type"),
    (VALID.replace(b'xsi:type="sf:Opportunity"', b'xsi:type="sf:Opp ortunity"'), "xsi:type"),
    (VALID.replace(b"<soapenv:Body>", b"<soapenv:Header/><soapenv:Body>")
     .replace(b"</soapenv:Body>", b"</soapenv:Body><soapenv:Body/>"), "more than one Body"),
    (envelope('<Notification><Id>04lXX0000ABC000YQD</Id></Notification>'), "missing sObject"),
    (envelope(note(0).replace("<sf:Amount>48000.0</sf:Amount>",
                              "<sf:Name>dup</sf:Name>")), "appears twice"),
])
def test_refusals_are_typed_with_a_reason(body, reason):
    with pytest.raises(OutboundMessageError, match=reason) as info:
        parse_notifications(body)
    assert isinstance(info.value, ValueError)
    assert len(str(info.value)) < 200


def test_dtd_refused_even_without_entities():
    body = b'<?xml version="1.0"?>\n<!DOCTYPE soapenv:Envelope>\n' + VALID.split(b"\n", 1)[1]
    with pytest.raises(OutboundMessageError, match="DTD"):
        parse_notifications(body)


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/evil">]>',
    '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">',
    '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_entities_and_external_dtds_refused(doctype):
    body = envelope(note(0).replace("Acme &amp; Co", "&e;&b;"), prolog=doctype)
    with pytest.raises(OutboundMessageError, match=r"DTD|entity|external"):
        parse_notifications(body)


def test_huge_input_is_not_echoed():
    junk = b"<" + b"x" * 500_000
    with pytest.raises(OutboundMessageError) as info:
        parse_notifications(junk)
    assert len(str(info.value)) < 200


def test_non_bytes_refused():
    with pytest.raises(OutboundMessageError, match="bytes"):
        parse_notifications(VALID.decode())  # type: ignore[arg-type]


def test_unknown_encoding_refused():
    with pytest.raises(OutboundMessageError, match="encoding"):
        parse_notifications(envelope(prolog='<?xml version="1.0" encoding="bogus-8"?>'))


def test_latin1_declared_encoding_is_honoured():
    body = envelope(note(0).replace("Acme", "Caf\u00e9"),
                    prolog='<?xml version="1.0" encoding="ISO-8859-1"?>')
    body = body.decode("utf-8").encode("latin-1")
    [n] = parse_notifications(body).notifications
    assert n.fields["Name"].startswith("Caf\u00e9")


def test_cdata_and_processing_instructions_are_harmless():
    body = envelope(note(0).replace("Acme &amp; Co", "<![CDATA[<b>Acme</b> & Co]]>"),
                    prolog='<?xml version="1.0"?><?xml-stylesheet href="http://x/y.xsl"?>')
    [n] = parse_notifications(body).notifications
    assert n.fields["Name"] == "<b>Acme</b> & Co - 200 seats"


# --- org ids -------------------------------------------------------------------------------------

def test_org_ids_match_forms():
    id15 = "00D8W0000001xYz"
    id18 = to_18(id15)
    assert org_ids_match(id15, id18)
    assert org_ids_match(id18, id15)
    assert org_ids_match(id18, id18.lower())  # 18-char ids are case-insensitive
    assert org_ids_match(id15, id18.upper())
    assert org_ids_match(id15, id15)
    assert not org_ids_match(id15, id15.lower())  # 15-char ids are case-sensitive
    assert not org_ids_match(id15, "00D8W0000001xYy")
    assert not org_ids_match(id18, to_18("00D8W0000001xYy"))
    # Invented ids with a suffix that does not fit still match on their first 15 chars.
    assert org_ids_match("00DXX0000001abc", ORG_ID)
    assert not org_ids_match("", "")
    assert not org_ids_match("not-an-id", "not-an-id")


# --- ACK ---------------------------------------------------------------------------------------

def test_ack_is_the_reference_envelope():
    assert ACK_BODY.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope')
    root = SafeET.fromstring(ACK_BODY)
    ack = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/"
                    "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
                    "{http://soap.sforce.com/2005/09/outbound}Ack")
    assert ack is not None and ack.text == "true"
    assert is_ack(200, ACK_BODY)  # what the demo org's dispatcher accepts as delivered
    assert ack_response_headers() == {"Content-Type": "text/xml; charset=utf-8"}
