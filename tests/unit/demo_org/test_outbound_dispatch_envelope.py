"""How values and ACKs look on the wire (pure functions, no network)."""

from __future__ import annotations

import pytest

from smvue_demo_org.outbound_envelope import field_order, format_value, is_ack, java_double
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import build_catalog
from tests.unit.demo_org.outbound_fakes import ACK


@pytest.mark.parametrize("value, text", [
    (48000.0, "48000.0"), (48000, "48000.0"), (0.5, "0.5"), (0, "0.0"), (1e7, "1.0E7"),
    (12345678.5, "1.23456785E7"), (-25000000.0, "-2.5E7"), (0.0001, "1.0E-4"),
    (9999999.99, "9999999.99"),
])
def test_doubles_print_as_java_does(value: float, text: str) -> None:
    assert java_double(value) == text


@pytest.mark.parametrize("ftype, value, text", [
    ("boolean", 1, "true"), ("boolean", 0, "false"), ("currency", 48000.0, "48000.0"),
    ("datetime", "2026-11-02T09:14:05.000+0000", "2026-11-02T09:14:05.000Z"),
    ("date", "2026-12-15", "2026-12-15"), ("int", 42, "42"), ("percent", 90, "90.0"),
    ("string", "R&D <deal>", "R&D <deal>"), ("string", None, None),
])
def test_values_are_formatted_as_salesforce_sends_them(ftype: str, value: object,
                                                       text: str | None) -> None:
    assert format_value(ftype, value) == text


def test_fields_come_id_first_then_alphabetical_by_real_name() -> None:
    opp = build_catalog(OrgProfile()).objects["Opportunity"]
    assert field_order(opp, ["stagename", "Amount", "is_strategic__c", "Id", "amount"]) == [
        "Id", "Amount", "Is_Strategic__c", "StageName"]


@pytest.mark.parametrize("status, body, ok", [
    (200, ACK, True),
    (200, ACK.replace(b"<Ack>true</Ack>", b"<Ack> true </Ack>"), True),
    (200, ACK.replace(b"true", b"false"), False),
    (201, ACK, False),
    (500, ACK, False),
    (200, b"", False),
    (200, b"<html/>", False),
    (200, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "true">]><x>&a;</x>', False),
    (200, ACK.replace(b"notificationsResponse", b"otherResponse"), False),
])
def test_only_the_exact_ack_counts(status: int, body: bytes, ok: bool) -> None:
    assert is_ack(status, body) is ok
