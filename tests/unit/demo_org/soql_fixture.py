"""A tiny hand-made org for the SOQL engine tests (independent of the data generator)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from smvue_demo_org.ids import make_id
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import Catalog, build_catalog, create_tables

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)  # a Thursday
STAMP = "2026-11-02T09:14:05.000+0000"

U1, U2 = make_id("005", 1), make_id("005", 2)
A1, A2, A3, A4 = (make_id("001", n) for n in range(1, 5))
C1, C2 = make_id("003", 1), make_id("003", 2)
L1 = make_id("00Q", 1)
O1, O2, O3, O4, O5, O6 = (make_id("006", n) for n in range(1, 7))
R1, R2, R3, R4 = (make_id("00K", n) for n in range(1, 5))
T1, T2, T3 = (make_id("00T", n) for n in range(1, 4))


def insert(conn: sqlite3.Connection, table: str, **values: Any) -> None:
    row = {"IsDeleted": 0, "CreatedDate": STAMP, "CreatedById": U1, **values}
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(row))})',
                 list(row.values()))


def catalog(**profile: Any) -> Catalog:
    prof = OrgProfile(**profile)
    return build_catalog(prof).visible(prof)


def make_org(cat: Catalog | None = None) -> sqlite3.Connection:
    """The fixture rows, in an in-memory database built from the full catalog."""
    conn = sqlite3.connect(":memory:")
    create_tables(conn, cat or build_catalog(OrgProfile()))
    insert(conn, "User", Id=U1, Name="Ann Admin", FirstName="Ann", LastName="Admin",
           Email="ann@example.com", IsActive=1)
    insert(conn, "User", Id=U2, Name="Bob Rep", FirstName="Bob", LastName="Rep",
           Email="bob@example.com", IsActive=1, ManagerId=U1)
    insert(conn, "Account", Id=A1, Name="Acme", OwnerId=U1, AnnualRevenue=1000000,
           NumberOfEmployees=500, Type="Customer - Direct")
    insert(conn, "Account", Id=A2, Name="Acme Europe", OwnerId=U2, ParentId=A1,
           NumberOfEmployees=50)
    insert(conn, "Account", Id=A3, Name="Globex", OwnerId=U2, ParentId=A2)
    insert(conn, "Account", Id=A4, Name="Deleted Co", OwnerId=U1, IsDeleted=1)
    insert(conn, "Contact", Id=C1, AccountId=A1, Name="Carol Buyer", LastName="Buyer",
           OwnerId=U1, Email="carol@acme.test")
    insert(conn, "Contact", Id=C2, AccountId=A2, Name="Dan Tech", LastName="Tech", OwnerId=U2)
    insert(conn, "Lead", Id=L1, Name="Lee Lead", LastName="Lead", Company="Initech",
           OwnerId=U2)
    opp = {"OwnerId": U2, "LastModifiedDate": STAMP, "SystemModstamp": STAMP}
    insert(conn, "Opportunity", Id=O1, Name="Acme - 200 seats", AccountId=A1, Amount=48000,
           CloseDate="2026-12-15", StageName="Negotiation/Review", Probability=90, IsClosed=0,
           IsWon=0, Seats__c=200, CreatedDate="2026-11-20T08:00:00.000+0000", **opp)
    insert(conn, "Opportunity", Id=O2, Name="Acme Europe renewal", AccountId=A2,
           Amount=12000.5, CloseDate="2026-11-30", StageName="Prospecting", Probability=10,
           IsClosed=0, IsWon=0, NextStep="Call back", CreatedDate="2026-11-26T06:00:00.000+0000",
           **opp)
    insert(conn, "Opportunity", Id=O3, Name="Globex pilot", AccountId=A3, Amount=None,
           CloseDate="2026-10-01", StageName="Closed Won", Probability=100, IsClosed=1, IsWon=1,
           CreatedDate="2026-08-01T00:00:00.000+0000", **{**opp, "OwnerId": U1})
    insert(conn, "Opportunity", Id=O4, Name="Orphan 100% deal", AccountId=None, Amount=500,
           CloseDate="2027-01-15", StageName="Closed Lost", Probability=0, IsClosed=1, IsWon=0,
           CreatedDate="2026-11-25T23:59:59.000+0000", **opp)
    insert(conn, "Opportunity", Id=O5, Name="Deleted deal", AccountId=A1, Amount=999,
           CloseDate="2026-11-26", StageName="Prospecting", IsClosed=0, IsWon=0, IsDeleted=1,
           **opp)
    insert(conn, "Opportunity", Id=O6, Name="On a deleted account", AccountId=A4, Amount=100,
           CloseDate="2026-11-26", StageName="Prospecting", IsClosed=0, IsWon=0, **opp)
    insert(conn, "OpportunityContactRole", Id=R1, OpportunityId=O1, ContactId=C1,
           Role="Decision Maker", IsPrimary=1)
    insert(conn, "OpportunityContactRole", Id=R2, OpportunityId=O1, ContactId=C2,
           Role="Influencer", IsPrimary=0)
    insert(conn, "OpportunityContactRole", Id=R3, OpportunityId=O2, ContactId=C2,
           Role="Economic Buyer", IsPrimary=1)
    insert(conn, "OpportunityContactRole", Id=R4, OpportunityId=O3, ContactId=C1,
           Role="Other", IsPrimary=0, IsDeleted=1)
    insert(conn, "Task", Id=T1, Subject="Call Acme", WhatId=O1, WhoId=C1, OwnerId=U2,
           ActivityDate="2026-11-27", IsClosed=0)
    insert(conn, "Task", Id=T2, Subject="Email Acme", WhatId=A1, WhoId=L1, OwnerId=U2,
           ActivityDate="2026-11-20", IsClosed=1)
    insert(conn, "Task", Id=T3, Subject="Plan week", OwnerId=U1, IsClosed=0)
    conn.commit()
    return conn
