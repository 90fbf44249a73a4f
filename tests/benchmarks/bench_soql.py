"""SOQL engine throughput: flat Opportunity records per second from an in-memory store.

Run by hand: ``python tests/benchmarks/bench_soql.py [rows]`` (target ≥ 20,000 records/s).
"""

from __future__ import annotations

import sqlite3
import sys
import time

from smvue_demo_org.ids import make_id
from smvue_demo_org.profile import OrgProfile
from smvue_demo_org.schema import build_catalog, create_tables
from smvue_demo_org.soql import prepare

FIELDS = ("Id, Name, Amount, CloseDate, StageName, Probability, OwnerId, AccountId, CreatedDate, "
          "LastModifiedDate, SystemModstamp, IsClosed, IsWon, ForecastCategory, Type, LeadSource, "
          "NextStep, FiscalYear, FiscalQuarter, HasOpenActivity, IsDeleted")


def build(rows: int) -> tuple[sqlite3.Connection, object]:
    catalog = build_catalog(OrgProfile())
    conn = sqlite3.connect(":memory:")
    create_tables(conn, catalog)
    stamp = "2026-11-02T09:14:05.000+0000"
    conn.executemany(
        'INSERT INTO "Opportunity" (Id, Name, Amount, CloseDate, StageName, Probability, OwnerId,'
        " AccountId, CreatedDate, LastModifiedDate, SystemModstamp, IsClosed, IsWon,"
        " ForecastCategory, Type, LeadSource, NextStep, FiscalYear, FiscalQuarter,"
        " HasOpenActivity, IsDeleted) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
        [(make_id("006", i), f"Deal {i}", 1000.0 * i, "2026-12-15", "Prospecting", 10.0,
          make_id("005", 1), make_id("001", i % 500 + 1), stamp, stamp, stamp, 0, 0, "Pipeline",
          "New Customer", "Web", "Call", 2026, 4, 1) for i in range(1, rows + 1)],
    )
    conn.executemany(
        'INSERT INTO "OpportunityContactRole" (Id, OpportunityId, ContactId, Role, IsPrimary,'
        " IsDeleted) VALUES (?,?,?,?,?,0)",
        [(make_id("00K", i), make_id("006", (i + 1) // 2), make_id("003", i), "Influencer", 1)
         for i in range(1, rows * 2 + 1)],
    )
    return conn, catalog


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    conn, catalog = build(rows)
    for label, soql in (
        ("flat, 21 fields", f"SELECT {FIELDS} FROM Opportunity ORDER BY SystemModstamp"),
        ("with Account.Name", "SELECT Id, Name, Amount, Account.Name FROM Opportunity"),
        ("with 2 contact roles each", "SELECT Id, Name, (SELECT ContactId, Role, IsPrimary "
                                      "FROM OpportunityContactRoles) FROM Opportunity"),
    ):
        q = prepare(soql, catalog)  # type: ignore[arg-type]
        start = time.perf_counter()
        total = q.count(conn)
        got = sum(1 for _ in q.records(conn))
        elapsed = time.perf_counter() - start
        assert got == total == rows
        print(f"{label}: {got} records in {elapsed:.3f} s = {got / elapsed:,.0f} records/s")


if __name__ == "__main__":
    main()
