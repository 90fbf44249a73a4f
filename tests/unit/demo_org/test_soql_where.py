"""SOQL engine: WHERE operators, literals, null semantics, semi-joins and date literals."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from smvue_demo_org.soql import prepare
from tests.unit.demo_org.soql_fixture import (
    A1,
    A2,
    A3,
    C1,
    C2,
    NOW,
    O1,
    O2,
    O3,
    O4,
    O6,
    T1,
    T2,
    catalog,
    insert,
    make_org,
)

CAT = catalog()


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    return make_org()


def ids(conn: sqlite3.Connection, where: str, sobject: str = "Opportunity",
        **kw: Any) -> set[str]:
    q = prepare(f"SELECT Id FROM {sobject} WHERE {where}", CAT, **{"now": NOW, **kw})
    got = [r["Id"] for r in q.records(conn)]
    assert q.count(conn) == len(got)
    return set(got)


@pytest.mark.parametrize(("where", "expected"), [
    ("Amount = 48000", {O1}),
    ("Amount = 12000.5", {O2}),
    ("Amount != 48000", {O2, O3, O4, O6}),  # != includes nulls, as in SOQL
    ("Amount <> 48000", {O2, O3, O4, O6}),
    ("Amount < 500", {O6}),
    ("Amount <= 500", {O4, O6}),
    ("Amount > 500", {O1, O2}),
    ("Amount >= 500", {O1, O2, O4}),
    ("Amount = null", {O3}),
    ("Amount != null", {O1, O2, O4, O6}),
    ("Amount > -1.5", {O1, O2, O4, O6}),
    ("IsClosed = true", {O3, O4}),
    ("IsClosed = FALSE", {O1, O2, O6}),
    ("IsWon != true", {O1, O2, O4, O6}),
    ("Probability >= 90", {O1, O3}),
    ("StageName = 'prospecting'", {O2, O6}),  # string equality ignores case
    ("StageName IN ('Closed Won', 'closed lost')", {O3, O4}),
    ("StageName NOT IN ('Prospecting')", {O1, O3, O4}),
    ("NextStep NOT IN ('Call back')", {O1, O3, O4, O6}),
    ("NextStep IN ('Call back', null)", {O1, O2, O3, O4, O6}),
    ("Name LIKE 'acme%'", {O1, O2}),
    ("Name LIKE '%EUROPE%'", {O2}),
    ("Name LIKE 'Acme _ 200 seats'", {O1}),
    ("Name LIKE '%100\\%%'", {O4}),
    ("Name LIKE '%100_%'", {O4}),
    ("Name LIKE '%\\_%'", set()),
    ("NOT Name LIKE 'Acme%'", {O3, O4, O6}),
    ("CloseDate = 2026-11-30", {O2}),
    ("CloseDate > 2026-11-30", {O1, O4}),
    ("CreatedDate > 2026-11-25T23:59:58Z", {O2, O4}),
    ("CreatedDate >= 2026-11-26T07:00:00+01:00", {O2}),
    ("CreatedDate = 2026-11-20T08:00:00.000+0000", {O1}),
    ("CreatedDate < 2026-11-20T01:00:00-08:00", {O1, O3, O6}),
    ("AccountId = null", {O4}),
    (f"AccountId = '{A1}'", {O1}),
    (f"AccountId = '{A1[:15]}'", {O1}),  # 15-char ids match their 18-char form
    (f"AccountId = '{A1[:15]}{A1[15:].lower()}'", {O1}),
    (f"AccountId IN ('{A1}', '{A2}')", {O1, O2}),
    (f"AccountId != '{A1}'", {O2, O3, O4, O6}),
    ("Id = ''", set()),
    ("Seats__c = 200", {O1}),
])
def test_comparisons(conn, where, expected):
    assert ids(conn, where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("IsClosed = false AND Amount > 1000", {O1, O2}),
    ("IsClosed = true OR Amount = 100", {O3, O4, O6}),
    ("(IsClosed = true OR Amount = 100) AND Name LIKE '%deal%'", {O4}),
    ("IsClosed = false AND (StageName = 'Prospecting' OR Amount > 40000)", {O1, O2, O6}),
    ("NOT (IsClosed = true OR Amount = 100)", {O1, O2}),
    ("NOT Amount > 1000", {O3, O4, O6}),  # null Amount is not > 1000, so NOT keeps it
    ("NOT (NOT IsWon = true)", {O3}),
    ("Amount > 100 AND Amount < 40000 AND IsClosed = false", {O2}),
])
def test_boolean_logic(conn, where, expected):
    assert ids(conn, where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("Account.Name = 'Acme'", {O1}),
    ("Account.Parent.Name = 'Acme'", {O2}),
    ("Account.Parent.Parent.Name LIKE 'Ac%'", {O3}),
    ("Account.Name = null", {O4, O6}),
    ("Account.Owner.Email = 'bob@example.com'", {O2, O3}),
    ("Owner.Name != 'Bob Rep'", {O3}),
])
def test_parent_field_filters(conn, where, expected):
    assert ids(conn, where) == expected


def test_semi_join_and_anti_join(conn):
    assert ids(conn, "Id IN (SELECT OpportunityId FROM OpportunityContactRole)") == {O1, O2}
    assert ids(conn, "Id IN (SELECT OpportunityId FROM OpportunityContactRole WHERE "
                     "Role = 'Decision Maker')") == {O1}
    assert ids(conn, "Id NOT IN (SELECT OpportunityId FROM OpportunityContactRole)") == {
        O3, O4, O6}  # O3's only role is deleted
    assert ids(conn, "AccountId IN (SELECT Id FROM Account WHERE ParentId != null)") == {
        O2, O3}
    assert ids(conn, "Id IN (SELECT WhatId FROM Task WHERE Who.Name LIKE 'Carol%')") == {O1}
    assert ids(conn, "Id IN (SELECT AccountId FROM Opportunity WHERE IsClosed = false)",
               "Account") == {A1, A2}
    assert ids(conn, "Id IN (SELECT ContactId FROM OpportunityContactRole WHERE "
                     "Opportunity.Amount > 40000)", "Contact") == {C1, C2}


def test_strings_with_escapes_are_bound_not_injected(conn):
    assert ids(conn, "Name = 'x\\' OR \\'1\\'=\\'1'") == set()
    assert ids(conn, "Name = 'Acme - 200 seats' OR Name = '\\\\'") == {O1}
    assert ids(conn, "Name = '\"; DROP TABLE Opportunity; --'") == set()
    assert ids(conn, "Name != null") == {O1, O2, O3, O4, O6}


def test_unicode_and_newline_escapes(conn):
    local = make_org()
    insert(local, "Account", Id="001000000000099AAA", Name="Line\nBreak ü", OwnerId="x")
    assert ids(local, "Name = 'Line\\nBreak ü'", "Account") == {"001000000000099AAA"}


@pytest.mark.parametrize(("literal", "expected"), [
    ("TODAY", {O6}),  # CloseDate 2026-11-26 (O5 is deleted)
    ("TOMORROW", set()),
    ("THIS_MONTH", {O2, O6}),
    ("NEXT_MONTH", {O1}),
    ("LAST_MONTH", {O3}),
    ("THIS_QUARTER", {O1, O2, O3, O6}),
    ("NEXT_QUARTER", {O4}),
    ("LAST_QUARTER", set()),
    ("THIS_YEAR", {O1, O2, O3, O6}),
    ("NEXT_YEAR", {O4}),
    ("NEXT_N_DAYS:4", {O2}),  # starts tomorrow: Nov 27..30
    ("NEXT_N_DAYS:3", set()),
    ("LAST_N_DAYS:55", {O6}),  # today and the 55 days before: Oct 2 ..
    ("LAST_N_DAYS:56", {O3, O6}),
    ("NEXT_90_DAYS", {O1, O2, O4}),
    ("LAST_90_DAYS", {O3, O6}),
    ("N_DAYS_AGO:56", {O3}),
    ("LAST_N_MONTHS:1", {O3}),
    ("NEXT_N_MONTHS:2", {O1, O4}),
    ("THIS_WEEK", {O6}),  # Sunday Nov 22 .. Saturday Nov 28
])
def test_relative_dates_on_a_date_field(conn, literal, expected):
    assert ids(conn, f"CloseDate = {literal}") == expected


def test_relative_dates_on_a_datetime_field(conn):
    assert ids(conn, "CreatedDate = TODAY") == {O2}
    assert ids(conn, "CreatedDate = YESTERDAY") == {O4}
    assert ids(conn, "CreatedDate = LAST_N_DAYS:1") == {O2, O4}
    assert ids(conn, "CreatedDate = LAST_N_DAYS:6") == {O1, O2, O4}
    assert ids(conn, "CreatedDate < LAST_N_DAYS:6") == {O3, O6}
    assert ids(conn, "CreatedDate > YESTERDAY") == {O2}
    assert ids(conn, "CreatedDate <= YESTERDAY") == {O1, O3, O4, O6}
    assert ids(conn, "CreatedDate >= TODAY") == {O2}
    assert ids(conn, "CreatedDate != THIS_MONTH") == {O3}
    assert ids(conn, "CreatedDate IN (TODAY, LAST_N_MONTHS:4)") == {O2, O3}
    assert ids(conn, "CreatedDate = LAST_WEEK") == {O1}


def test_id_ranges_for_primary_key_chunking(conn):
    q = prepare(f"SELECT Id FROM Opportunity WHERE Id > '{O1}' ORDER BY Id LIMIT 2", CAT)
    assert [r["Id"] for r in q.records(conn)] == [O2, O3]


@pytest.mark.parametrize("literal", [
    "2026-11-20T08:00:00Z", "2026-11-20T08:00:00.000Z", "2026-11-20T08:00:00.0+00:00",
    "2026-11-20T09:30:00+01:30", "2026-11-20T00:00:00-0800", "2026-11-20T08:00:00.000+0000",
])
def test_datetime_literal_forms(conn, literal):
    assert ids(conn, f"CreatedDate = {literal}") == {O1}


def test_now_decides_relative_dates(conn):
    later = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
    assert ids(conn, "CloseDate = TODAY", now=later) == {O1}


def test_tasks_and_accounts(conn):
    assert ids(conn, "ActivityDate = TOMORROW", "Task") == {T1}
    assert ids(conn, "What.Name = 'Acme'", "Task") == {T2}
    assert ids(conn, "NumberOfEmployees > 100", "Account") == {A1}
    assert ids(conn, "ParentId = null", "Account") == {A1}
    assert ids(conn, "Parent.Parent.Name = 'Acme'", "Account") == {A3}
